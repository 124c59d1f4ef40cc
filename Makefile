# KernelSight build, in the libbpf-bootstrap style.
#
#   make            build ./ksight
#   make run        deps + build + start the agent on ./kernelsight.db
#   make test       deps + build + every test (prove)
#   make bench      deps + build + benchmarks (tables on stdout)
#   make deps       install Debian and npm dependencies (idempotent)
#   make install    the binary, /etc/ksight, the systemd unit (PREFIX, DESTDIR;
#                   docs/service.md); make uninstall removes them but the
#                   configuration and the data
#   make fuzz       build every libFuzzer target (t/fuzz/) and run each for
#                   FUZZ_SECONDS (default 60), FUZZ_JOBS at a time (default 1)
#   V=1             show the commands
#   SANITIZE=1      build ksight, the unit, BPF and replay tests with ASan and
#                   UBSan in .output-san/ (make test SANITIZE=1 runs them)

OUTPUT := .output
ifeq ($(SANITIZE),1)
OUTPUT := .output-san
endif
KSIGHT_BIN := $(if $(filter 1,$(SANITIZE)),$(OUTPUT)/ksight,ksight)
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -g -O2
# Every runtime error is fatal: a test that hits one fails.
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
CFLAGS += $(SANITIZE_FLAGS)
endif
WARN_FLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	      -D_GNU_SOURCE -Isrc -I$(OUTPUT)/bpf -I$(OUTPUT)/bench -MMD -MP
CFLAGS += $(WARN_FLAGS)
LDLIBS := -lbpf -lelf -lz -lsqlite3 -lyaml -lzstd -ljansson -lpthread -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	      -I$(OUTPUT) -Isrc/bpf

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:src/bpf/%.bpf.c=$(OUTPUT)/bpf/%.bpf.o)
SKELS := $(BPF_SRCS:src/bpf/%.bpf.c=$(OUTPUT)/bpf/%.skel.h)
SRCS := $(filter-out %.bpf.c,$(shell find src -name '*.c' | sort))
OBJS := $(SRCS:%.c=$(OUTPUT)/%.o) $(OUTPUT)/assets.o

# Files built into the binary (tools/embed.c): the dashboard and the chart
# library from npm (make deps installs it).
UPLOT := node_modules/uplot/dist
WEB_FILES := $(shell find web -type f 2>/dev/null | sort)
ASSET_FILES := $(WEB_FILES) $(UPLOT)/uPlot.iife.min.js $(UPLOT)/uPlot.min.css
LIB_OBJS := $(filter-out $(OUTPUT)/src/main.o,$(OBJS))

UNIT_TESTS := $(patsubst t/unit/%.c,$(OUTPUT)/t/unit/%.t,$(wildcard t/unit/*.c))
BPF_TESTS := $(patsubst t/bpf/%.c,$(OUTPUT)/t/bpf/%.t,$(wildcard t/bpf/*.c))
HELPERS := $(patsubst t/helpers/%.c,$(OUTPUT)/t/helpers/%,$(wildcard t/helpers/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(filter-out %.bpf.c,$(wildcard bench/*.c)))
BENCH_SKELS := $(patsubst bench/%.bpf.c,$(OUTPUT)/bench/%.skel.h,$(wildcard bench/*.bpf.c))

.PHONY: all deps run test test-unit bench clean check fuzz fuzz-build install uninstall

# make install: where things go (DESTDIR is prepended to each).  The
# configuration stays in /etc whatever the prefix (services read it there);
# systemd searches $(PREFIX)/lib/systemd/system for /usr and /usr/local.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/ksight
STATEDIR ?= /var/lib/ksight
.DELETE_ON_ERROR:
.SECONDARY:

all: $(KSIGHT_BIN)

deps:
	$(Q)./tools/deps.sh

$(KSIGHT_BIN): $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no kernel BTF at $(VMLINUX_BTF): KernelSight needs CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/embed: tools/embed.c | $(OUTPUT)
	$(call msg,HOSTCC,$@)
	$(Q)$(CC) -O2 -Wall -o $@ $<

$(OUTPUT)/assets.c: $(OUTPUT)/embed $(ASSET_FILES)
	$(call msg,EMBED,$@)
	$(Q)test -f $(UPLOT)/uPlot.iife.min.js || { echo "the chart library is missing: run 'make deps' (npm)" >&2; exit 1; }
	$(Q)$(OUTPUT)/embed $@.tmp $(foreach f,$(WEB_FILES),$(patsubst web/%,/%,$(f))=$(f)) \
		/vendor/uPlot.iife.min.js=$(UPLOT)/uPlot.iife.min.js /vendor/uPlot.min.css=$(UPLOT)/uPlot.min.css && mv $@.tmp $@

$(OUTPUT)/assets.o: $(OUTPUT)/assets.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# Syscall numbers -> names for this architecture, from the kernel headers.
$(OUTPUT)/bpf/syscall_names.h: | $(OUTPUT)/bpf
	$(call msg,GEN,$@)
	$(Q)echo '#include <asm/unistd.h>' | $(CC) -E -dM - | \
		awk '$$1 == "#define" && $$2 ~ /^__NR_/ && $$3 ~ /^[0-9]+$$/ { sub(/^__NR_/, "", $$2); print "\t[" $$3 "] = \"" $$2 "\"," }' | \
		sort -t'[' -k2 -n | { echo '/* Generated from <asm/unistd.h> by the Makefile. */'; \
		echo 'static const char *const syscall_names[] = {'; cat; echo '};'; } > $@.tmp && mv $@.tmp $@

$(OUTPUT) $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

# bpftool's static linker keeps BTF and drops DWARF: an object (and the
# binary that embeds it) 9x smaller.
$(OUTPUT)/bpf/%.bpf.o: src/bpf/%.bpf.c $(wildcard src/bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(OUTPUT)/bench/%.skel.h: $(OUTPUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/bpf/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# User-space objects wait for every skeleton (they are cheap to make).
$(OUTPUT)/%.o: %.c | $(SKELS) $(BENCH_SKELS) $(OUTPUT)/bpf/syscall_names.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/t/unit/%.t: $(OUTPUT)/t/unit/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/t/bpf/%.t: $(OUTPUT)/t/bpf/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Helpers are the workloads tests measure, not what they test: never
# sanitized (ASan's own clone at exit would be one more fork to count).
$(OUTPUT)/t/helpers/%: CFLAGS := $(filter-out $(SANITIZE_FLAGS),$(CFLAGS))
$(OUTPUT)/t/helpers/%.o: CFLAGS := $(filter-out $(SANITIZE_FLAGS),$(CFLAGS))

$(OUTPUT)/t/helpers/%: $(OUTPUT)/t/helpers/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lpthread -lm -o $@

$(OUTPUT)/bench/%: $(OUTPUT)/bench/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# ---- fuzzing ----------------------------------------------------------------
#
# One target per file in t/fuzz/ (t/lib/fuzz.h says what they share), built
# twice from the same source: with libFuzzer, clang, ASan and UBSan into
# .output/fuzz/<target> (make fuzz), and with t/lib/fuzz_replay.c into
# $(OUTPUT)/t/fuzz/<target>.t, a test that feeds t/fuzz/corpus/<target>/
# through the same entry point (make test).  A target that #includes a
# source file (to reach its static functions) links without that file's
# object.
FUZZ_TARGETS := $(patsubst t/fuzz/%.c,%,$(wildcard t/fuzz/*.c))
FUZZ_REPLAYS := $(patsubst %,$(OUTPUT)/t/fuzz/%.t,$(FUZZ_TARGETS))
FUZZ_OUT := .output/fuzz
FUZZ_BINS := $(patsubst %,$(FUZZ_OUT)/%,$(FUZZ_TARGETS))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	       -fno-omit-frame-pointer $(WARN_FLAGS)
FUZZ_LIB_OBJS := $(patsubst $(OUTPUT)/%,$(FUZZ_OUT)/%,$(LIB_OBJS))
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
fuzz_included = $(patsubst %.c,%.o,$(shell sed -n 's|^\#include "\.\./\.\./\(src/[^"]*\.c\)".*|\1|p' t/fuzz/$(1).c))

$(FUZZ_OUT)/%.o: %.c | $(SKELS) $(OUTPUT)/bpf/syscall_names.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OUT)/assets.o: $(OUTPUT)/assets.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

# The replay build of a target may check more, slowly (parquet_writer reads
# its files back with DuckDB).
$(OUTPUT)/t/fuzz/%.o: CFLAGS += -DFUZZ_REPLAY

define FUZZ_RULES
$(FUZZ_OUT)/$(1): $(FUZZ_OUT)/t/fuzz/$(1).o $(filter-out $(addprefix $(FUZZ_OUT)/,$(call fuzz_included,$(1))),$(FUZZ_LIB_OBJS))
	$$(call msg,FUZZ-LD,$$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $$^ $(LDLIBS) -o $$@

$(OUTPUT)/t/fuzz/$(1).t: $(OUTPUT)/t/fuzz/$(1).o $(OUTPUT)/t/lib/fuzz_replay.o \
		$(filter-out $(addprefix $(OUTPUT)/,$(call fuzz_included,$(1))),$(LIB_OBJS))
	$$(call msg,LINK,$$@)
	$(Q)$(CC) $(CFLAGS) $$^ $(LDLIBS) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULES,$(t))))

fuzz-build: $(FUZZ_BINS)

# Runs every target (or FUZZ_TARGETS="a b") at nice 19; see tools/fuzz.sh.
fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)./tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

bench-build: ksight $(HELPERS) $(BENCH_BINS)

build-tests: $(KSIGHT_BIN) $(UNIT_TESTS) $(BPF_TESTS) $(HELPERS) $(FUZZ_REPLAYS)

# Every test: unit (no root), BPF (real kernel), the fuzz corpora, end to
# end.  REQUIRE_BPF=1 turns "needs root/BPF" skips into failures (CI sets
# it).  SANITIZE=1 runs the same tests on the ASan + UBSan build.
test: deps
	$(Q)$(MAKE) --no-print-directory build-tests
	$(Q)KSIGHT=$(abspath $(KSIGHT_BIN)) prove --timer $(PROVE_FLAGS) $(UNIT_TESTS) $(BPF_TESTS) $(FUZZ_REPLAYS) \
		$(wildcard t/e2e/*.t)

test-unit: $(UNIT_TESTS) $(FUZZ_REPLAYS)
	$(Q)prove $(PROVE_FLAGS) $(UNIT_TESTS) $(FUZZ_REPLAYS)

run: deps
	$(Q)$(MAKE) --no-print-directory ksight
	./ksight agent $(ARGS)

bench: deps
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)./bench/run $(BENCH)

# The configuration is installed only when absent (an operator's edits stay);
# the example's agent.db points into the state directory.
install: ksight
	$(call msg,INSTALL,$(DESTDIR)$(BINDIR)/ksight)
	$(Q)install -D -m 0755 ksight $(DESTDIR)$(BINDIR)/ksight
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/ksight $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/ksight/ksight.yaml ]; then \
		echo "  keeping $(DESTDIR)$(SYSCONFDIR)/ksight/ksight.yaml"; \
	else \
		sed -e 's|^  db: kernelsight.db  *#.*|  db: $(STATEDIR)/kernelsight.db  # SQLite database (the unit'"'"'s StateDirectory)|' \
			-e 's|^# Use with: .*|# Read by ksight.service and by every ksight command run without --config.|' \
			config/ksight.example.yaml > $(DESTDIR)$(SYSCONFDIR)/ksight/ksight.yaml && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/ksight/ksight.yaml; \
	fi
	$(Q)install -m 0644 config/policy.example.yaml $(DESTDIR)$(SYSCONFDIR)/ksight/policy.example.yaml
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
		-e 's|@STATEDIR@|$(STATEDIR)|g' contrib/systemd/ksight.service > $(DESTDIR)$(UNITDIR)/ksight.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/ksight.service
	$(Q)for u in ksight-export.service ksight-export.timer; do \
		sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
			-e 's|@STATEDIR@|$(STATEDIR)|g' contrib/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(Q)install -m 0644 docs/service.md docs/fleet.md README.md $(DESTDIR)$(DOCDIR)/
	$(Q)echo "  then: systemctl daemon-reload && systemctl enable --now ksight && ksight status"
	$(Q)echo "  hourly Parquet export (docs/fleet.md): systemctl enable --now ksight-export.timer"

uninstall:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/ksight $(DESTDIR)$(UNITDIR)/ksight.service \
		$(DESTDIR)$(UNITDIR)/ksight-export.service $(DESTDIR)$(UNITDIR)/ksight-export.timer \
		$(DESTDIR)$(DOCDIR)/service.md $(DESTDIR)$(DOCDIR)/fleet.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)echo "  kept $(DESTDIR)$(SYSCONFDIR)/ksight and $(STATEDIR) (the configuration and the data)"

check:
	$(Q)cppcheck --quiet --enable=warning,performance,portability --std=c11 \
		--suppress=missingIncludeSystem --suppress='unknownMacro:*.bpf.c' --inline-suppr -Isrc src t bench

clean:
	$(Q)rm -rf .output .output-san ksight

-include $(OBJS:.o=.d) $(wildcard $(OUTPUT)/t/*/*.d) $(wildcard $(OUTPUT)/bench/*.d) \
	$(shell find $(FUZZ_OUT) -name "*.d" 2>/dev/null)
