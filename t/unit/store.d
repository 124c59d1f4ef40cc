t/unit/store: t/unit/store.c t/unit/../../src/store/rollup.h \
 t/unit/../../src/store/../lib/buf.h t/unit/../../src/store/schema.h \
 t/unit/../../src/store/store.h t/unit/../../src/store/batch.h \
 t/unit/../lib/tap.h
t/unit/../../src/store/rollup.h:
t/unit/../../src/store/../lib/buf.h:
t/unit/../../src/store/schema.h:
t/unit/../../src/store/store.h:
t/unit/../../src/store/batch.h:
t/unit/../lib/tap.h:
