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
#   V=1             show the commands

OUTPUT := .output
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
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	  -D_GNU_SOURCE -Isrc -I$(OUTPUT)/bpf -I$(OUTPUT)/bench -MMD -MP
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

.PHONY: all deps run test test-unit bench clean check install uninstall

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

all: ksight

deps:
	$(Q)./tools/deps.sh

ksight: $(OBJS)
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

$(OUTPUT)/t/helpers/%: $(OUTPUT)/t/helpers/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lpthread -lm -o $@

$(OUTPUT)/bench/%: $(OUTPUT)/bench/%.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

bench-build: ksight $(HELPERS) $(BENCH_BINS)

build-tests: ksight $(UNIT_TESTS) $(BPF_TESTS) $(HELPERS)

# Every test: unit (no root), BPF (real kernel), end to end.  REQUIRE_BPF=1
# turns "needs root/BPF" skips into failures (CI sets it).
test: deps
	$(Q)$(MAKE) --no-print-directory build-tests
	$(Q)prove --timer $(PROVE_FLAGS) $(UNIT_TESTS) $(BPF_TESTS) $(wildcard t/e2e/*.t)

test-unit: $(UNIT_TESTS)
	$(Q)prove $(PROVE_FLAGS) $(UNIT_TESTS)

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
	$(Q)install -m 0644 docs/service.md README.md $(DESTDIR)$(DOCDIR)/
	$(Q)echo "  then: systemctl daemon-reload && systemctl enable --now ksight && ksight status"

uninstall:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/ksight $(DESTDIR)$(UNITDIR)/ksight.service \
		$(DESTDIR)$(DOCDIR)/service.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)echo "  kept $(DESTDIR)$(SYSCONFDIR)/ksight and $(STATEDIR) (the configuration and the data)"

check:
	$(Q)cppcheck --quiet --enable=warning,performance,portability --std=c11 \
		--suppress=missingIncludeSystem --suppress='unknownMacro:*.bpf.c' --inline-suppr -Isrc src t bench

clean:
	$(Q)rm -rf $(OUTPUT) ksight

-include $(OBJS:.o=.d) $(wildcard $(OUTPUT)/t/*/*.d) $(wildcard $(OUTPUT)/bench/*.d)
