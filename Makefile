# SPDX-License-Identifier: BSD-2-Clause
# libpmap - top-level, non-recursive makefile.
#
#   make            build the library, the simulated machine, tools and tests
#   make run        the demonstration on the simulated machine (the main job)
#   make check      every test: ASan+UBSan build, TSan build of the
#                   multi-CPU tests, freestanding build of the core, clang
#                   build, and the real-machine suite under QEMU
#   make bench      benchmarks (release build)
#   make lib        the freestanding libpmap.a a kernel links (ARCH's), checked
#   make install    it, the public headers, libpmap.pc and the manual pages
#                   (PREFIX=/usr/local, DESTDIR); make uninstall
#   make pc-bench   the same operations in the bare-metal kernels under QEMU,
#                   beside this host's Linux (platform/pc/pc.mk)
#
# Build variants live in build/<variant>/: release (default), asan, tsan.
# Pick one with `make VARIANT=asan ...`; `make check` drives them itself.

# The machine the library is built for (arch/$(ARCH)).  i386 is built as
# 32-bit code (-m32, Debian's gcc-multilib) - library, simulated machine
# and tests alike - and lives in build/i386/<variant>.
ARCH ?= amd64
ARCHES := amd64 i386
ifeq ($(filter $(ARCH),$(ARCHES)),)
$(error unknown ARCH $(ARCH): $(ARCHES))
endif

VARIANT ?= release
ifeq ($(ARCH),amd64)
BA := build
ARCH_FLAGS :=
else
BA := build/$(ARCH)
ARCH_FLAGS := -m32 -Wno-psabi	# (gcc notes the 64-bit _Atomic alignment change of GCC 11)
endif
B ?= $(BA)/$(VARIANT)
# CROSS_COMPILE prefixes the default tools (CC, AR, LD, NM, OBJDUMP), as
# in Linux and most kernels' builds: make lib CROSS_COMPILE=x86_64-elf-
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -pthread

ifeq ($(VARIANT),release)
VFLAGS := -O2
else ifeq ($(VARIANT),asan)
VFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
else ifeq ($(VARIANT),tsan)
VFLAGS := -O1 -fsanitize=thread
else ifeq ($(VARIANT),debug)
VFLAGS := -O0
else ifeq ($(VARIANT),diag)
# The library's own self-checks after every operation (PMAP_DIAGNOSTIC).
VFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -DPMAP_DIAGNOSTIC=1
else
$(error unknown VARIANT $(VARIANT): release, asan, tsan, diag, debug)
endif

CFLAGS ?=
CFLAGS_ALL = $(ARCH_FLAGS) $(BASE_CFLAGS) $(VFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(ARCH_FLAGS) $(VFLAGS) -pthread $(LDFLAGS)

# The core sees only its own headers and the host hook header.
CORE_INCLUDES := -Iinclude -Iarch/$(ARCH)/include -Iarch/$(ARCH) -Ipmap
# The simulated machine is an x86 whatever the library's ARCH: it names
# paging-structure bits with <pmap/amd64_pte.h>.
INCLUDES := $(CORE_INCLUDES) -Iarch/amd64/include -Iplatform/sim -Itests/lib -Itools/mmuprobe -Ivm

Q ?= @

# ---- the library (machine-independent core + the machine's layer) ----
CORE_SRCS := pmap/pmap.c pmap/pv.c pmap/tlb.c pmap/tmpmap.c pmap/kmem.c pmap/ptree.c \
	arch/$(ARCH)/pmap_md.c
CORE_OBJS := $(CORE_SRCS:%.c=$(B)/%.o)
LIBPMAP := $(B)/libpmap.a
# The library's own files see the simulated host's hot hooks inline
# (PMAP_HOST_INLINE in <pmap/pmap_host.h>); check-freestanding and the
# real machine build them without, calling every hook.
$(CORE_OBJS): CFLAGS_ALL += -DPMAP_HOST_INLINE='"sim_host_inline.h"'

# ---- the simulated machine, and the library's host on it ----
SIM_SRCS := platform/sim/phys.c platform/sim/cpu.c platform/sim/tcache.c \
	platform/sim/mmu_amd64.c platform/sim/audit.c platform/sim/sched.c
SIM_OBJS := $(SIM_SRCS:%.c=$(B)/%.o)
SIM_LIB := $(B)/libsim.a
SIMHOST_SRCS := platform/sim/host.c platform/sim/host_$(ARCH).c
SIMHOST_OBJS := $(SIMHOST_SRCS:%.c=$(B)/%.o)
PTEST_SIM_OBJS := $(B)/platform/sim/ptest_sim.o

# ---- the VM layer (vm/: pmap.h + the portable test API only) and its
# host on the simulated machine ----
VM_OBJS := $(B)/vm/vm.o $(B)/platform/sim/vm_host_sim.o

# ---- test support ----
TAP_OBJS := $(B)/tests/lib/tap.o $(B)/tests/lib/tap_stdio.o

# ---- tests ----
# tests/sim: the machine itself (sim.h only).
SIM_TEST_NAMES := $(patsubst tests/sim/%.c,%,$(wildcard tests/sim/*_test.c))
SIM_TESTS := $(SIM_TEST_NAMES:%=$(B)/tests/sim/%)
# tests/portable: pmap.h + ptest.h only; run here and on the real machine.
PORTABLE_NAMES := $(patsubst tests/portable/%.c,%,$(wildcard tests/portable/*_test.c))
PORTABLE_TESTS := $(PORTABLE_NAMES:%=$(B)/tests/portable/%)
# tests/vm: the VM layer, checked by the integrity oracle.
VM_TEST_NAMES := $(patsubst tests/vm/%.c,%,$(wildcard tests/vm/*_test.c))
VM_TESTS := $(VM_TEST_NAMES:%=$(B)/tests/vm/%)
# Suites that exercise several CPUs at once: also run under TSan.
TSAN_TESTS := tests/sim/mmu_test $(filter-out %/caller_errors_test,\
	$(PORTABLE_NAMES:%=tests/portable/%)) $(VM_TEST_NAMES:%=tests/vm/%)

TOOLS := $(B)/bin/mmuprobe $(B)/bin/pmapsim
BENCHES := $(B)/bin/bench_mmu $(B)/bin/bench_pmap $(B)/bin/linux_bench

all: $(LIBPMAP) $(SIM_LIB) $(SIM_TESTS) $(PORTABLE_TESTS) $(VM_TESTS) $(TOOLS) $(BENCHES)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(INCLUDES) -MMD -MP -c $< -o $@

$(B)/tests/portable/%.o: tests/portable/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(INCLUDES) -DPTEST_STANDALONE -MMD -MP -c $< -o $@

$(B)/tests/vm/%.o: tests/vm/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(INCLUDES) -DPTEST_STANDALONE -MMD -MP -c $< -o $@

$(LIBPMAP): $(CORE_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(SIM_LIB): $(SIM_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/tests/sim/%: $(B)/tests/sim/%.o $(SIM_LIB) $(TAP_OBJS)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/tests/portable/%: $(B)/tests/portable/%.o $(PTEST_SIM_OBJS) $(SIMHOST_OBJS) \
		$(LIBPMAP) $(SIM_LIB) $(TAP_OBJS)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/tests/vm/%: $(B)/tests/vm/%.o $(VM_OBJS) $(PTEST_SIM_OBJS) $(SIMHOST_OBJS) \
		$(LIBPMAP) $(SIM_LIB) $(TAP_OBJS)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/bin/mmuprobe: $(B)/tools/mmuprobe/main.o $(B)/tools/mmuprobe/probe_gen.o $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/bin/pmapsim: $(B)/tools/pmapsim/main.o $(VM_OBJS) $(PTEST_SIM_OBJS) $(SIMHOST_OBJS) \
		$(LIBPMAP) $(SIM_LIB) $(TAP_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/bin/bench_mmu: $(B)/bench/bench_mmu.o $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

# The host's Linux alone, for make pc-bench (platform/pc/pc.mk).
$(B)/bin/linux_bench: $(B)/bench/linux_bench.o $(B)/bench/linux_ops.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/bin/bench_pmap: $(B)/bench/bench_pmap.o $(B)/bench/bench_ops.o $(B)/bench/linux_ops.o \
		$(SIMHOST_OBJS) $(LIBPMAP) $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^

# ---- the core, freestanding ----
# Compiled with no libc headers at all (-nostdinc plus the compiler's own
# freestanding headers), then linked into one relocatable object whose
# undefined symbols must all be host hooks (or the memset/memcpy a
# compiler may emit).
FS_DIR := build/freestanding/$(ARCH)
FS_ARCH_amd64 := -mno-red-zone -mcmodel=kernel
FS_ARCH_i386 := -m32 -Wno-psabi
FS_LD_amd64 :=
FS_LD_i386 := -m elf_i386
FS_CFLAGS := -std=c11 -O2 -ffreestanding -nostdlib -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -fno-builtin \
	$(FS_ARCH_$(ARCH)) -fno-pic -fno-stack-protector $(WARN)
FS_OBJS := $(CORE_SRCS:%.c=$(FS_DIR)/%.o)

$(FS_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/FS   $@"
	$(Q)$(CC) $(FS_CFLAGS) $(CORE_INCLUDES) -c $< -o $@

.PHONY: check-freestanding
check-freestanding: $(FS_OBJS)
	$(Q)ld $(FS_LD_$(ARCH)) -r -o $(FS_DIR)/libpmap-core.o $(FS_OBJS)
	@bad=$$(nm -u $(FS_DIR)/libpmap-core.o | awk '{print $$2}' | \
		grep -v -E '^(pmap_host_[a-z0-9_]+|memset|memcpy)$$' || true); \
	if [ -n "$$bad" ]; then \
		echo "freestanding core calls outside pmap_host.h: $$bad"; exit 1; \
	fi
	@echo "freestanding core ($(ARCH)): OK ($$(nm -u $(FS_DIR)/libpmap-core.o | wc -l) host symbols)"

# ---- the machine-independent core knows no machine ----
# No x86 name may appear in pmap/ (code or comments): what differs between
# machines is asked of the MD layer (pmap_md_*), whose private entry bits
# (MDPTE_*) are not for MI code either.  And no MI file may see a
# machine's PTE or instruction header: for each machine, every pmap/*.c is
# preprocessed with the core's include path and must define none of their
# guards.
MI_FORBIDDEN := PG_[A-Z]|AMD64|amd64|I386|i386|\<CR[034]\>|INVLPG|invlpg|INVPCID|PML4|PDPT|\<x86\>|DMAP_BASE|\<MSR|MDPTE_|\<SDM\>|[Pp]aging-structure|\<PCID\>
MD_GUARDS := PMAP_AMD64_PTE_H|PMAP_AMD64_HOST_H|PMAP_I386_PTE_H|PMAP_I386_HOST_H
.PHONY: check-mi
check-mi:
	@if grep -nE '$(MI_FORBIDDEN)' pmap/*.c pmap/*.h; then \
		echo "check-mi: machine names in the machine-independent core (above)"; exit 1; \
	fi
	@for a in $(ARCHES); do for f in pmap/*.c; do \
		if $(CC) -E -dM -std=c11 -Iinclude -Iarch/$$a/include -Iarch/$$a -Ipmap $$f | \
			grep -E '#define ($(MD_GUARDS))\>'; then \
			echo "check-mi: $$f sees a machine header on $$a (above)"; exit 1; fi; \
	done; done
	@echo "machine-independent core: no machine names, no machine headers ($(ARCHES))"

# ---- the kernel library: make lib, install, uninstall ----
# libpmap.a built as a kernel links it (libpmap.mk's sources and flags:
# freestanding, no FPU/SIMD registers; amd64 no red zone and the kernel
# code model, i386 32-bit), for ARCH, in build/lib/$(ARCH)/, then checked
# by tools/check-lib.sh: no FPU/SIMD/x87 instruction, no undefined symbol
# but the hooks (pmap_host_*), memset, memcpy (and on i386 libatomic's
# __atomic_*_8), every global symbol named pmap_* or sf_buf_*.  It honours
# CC, CROSS_COMPILE and CFLAGS (appended: CFLAGS=-O1 overrides -O2); -D
# options in CFLAGS (pmap_config.h) go into libpmap.pc's Cflags too.
LIBPMAP_ARCH := $(ARCH)
include libpmap.mk

ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
ifeq ($(origin LD),default)
LD := $(CROSS_COMPILE)ld
endif
NM ?= $(CROSS_COMPILE)nm
OBJDUMP ?= $(CROSS_COMPILE)objdump

LIB_DIR ?= build/lib/$(ARCH)
LIB_A := $(LIB_DIR)/libpmap.a
LIB_OBJS := $(LIBPMAP_SRCS:%.c=$(LIB_DIR)/%.o)
# No libc headers at all: the compiler's own freestanding ones only.
LIB_CFLAGS = $(LIBPMAP_CFLAGS) -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-O2 -g $(WARN) $(CFLAGS)

# The objects are rebuilt when the compiler or its flags change.
$(LIB_DIR)/cflags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(LIB_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(LIB_CFLAGS)' > $@

$(LIB_DIR)/%.o: %.c $(LIB_DIR)/cflags
	@mkdir -p $(dir $@)
	@echo "  CC/LIB  $@"
	$(Q)$(CC) $(LIB_CFLAGS) $(LIBPMAP_INCLUDES) $(LIBPMAP_PRIVATE_INCLUDES) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

.PHONY: lib check-lib FORCE
FORCE:
lib: $(LIB_A)
	@NM="$(NM)" OBJDUMP="$(OBJDUMP)" tools/check-lib.sh $(ARCH) $(LIB_A)

# make lib for every port, with gcc and with clang, and the build
# fragments: libpmap.mk's sources are the ones the tree builds, and
# libpmap.cmake gives the same sources and flags (built with CMake where
# it is installed).
check-lib:
	@[ "$(sort $(CORE_SRCS))" = "$(sort $(LIBPMAP_SRCS))" ] || { echo "check-lib:" \
		"libpmap.mk's sources ($(LIBPMAP_SRCS)) are not the Makefile's CORE_SRCS" \
		"($(CORE_SRCS))"; exit 1; }
	$(Q)for a in $(ARCHES); do \
		$(MAKE) --no-print-directory ARCH=$$a lib && \
		$(MAKE) --no-print-directory ARCH=$$a CC=clang LIB_DIR=build/lib/clang-$$a lib \
			|| exit 1; \
	done
	$(Q)CC="$(CC)" tools/check-fragments.sh $(ARCHES)

# make install [PREFIX=/usr/local] [DESTDIR=] [ARCH=amd64]: ARCH's library
# and public headers (a kernel includes <pmap/pmap.h>), libpmap.pc, the
# manual pages man/*.3 and man/*.9.  make uninstall removes them.
PREFIX ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
INSTALL ?= install
PMAP_VERSION := $(shell sed -n 's/^\#define PMAP_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' \
	include/pmap/pmap_version.h | paste -sd.)
INSTALL_HEADERS := $(wildcard include/pmap/*.h) $(wildcard arch/$(ARCH)/include/pmap/*.h)
# Every port's header names, so that uninstall leaves none whatever ARCH says.
UNINSTALL_HEADERS := $(sort $(notdir $(wildcard include/pmap/*.h arch/*/include/pmap/*.h)))
INSTALL_MAN3 := $(wildcard man/*.3)
INSTALL_MAN9 := $(wildcard man/*.9)

# In libpmap.pc: the prefix-relative directories as ${prefix}/...
pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
$(LIB_DIR)/libpmap.pc: libpmap.pc.in FORCE
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|' \
		-e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|' -e 's|@VERSION@|$(PMAP_VERSION)|' \
		-e 's|@ARCH@|$(ARCH)|' -e 's|@KERNEL_CFLAGS@|$(LIBPMAP_CFLAGS)|' \
		-e 's|@DEFINES@|$(strip $(filter -D% -U%,$(CFLAGS)))|' \
		-e 's| *$$||' libpmap.pc.in > $@.tmp && mv $@.tmp $@

.PHONY: install uninstall check-install
install: lib $(LIB_DIR)/libpmap.pc
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/pmap $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/pmap/
	$(INSTALL) -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 $(LIB_DIR)/libpmap.pc $(DESTDIR)$(PKGCONFIGDIR)/
ifneq ($(INSTALL_MAN3),)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 644 $(INSTALL_MAN3) $(DESTDIR)$(MANDIR)/man3/
endif
ifneq ($(INSTALL_MAN9),)
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man9
	$(INSTALL) -m 644 $(INSTALL_MAN9) $(DESTDIR)$(MANDIR)/man9/
endif

uninstall:
	rm -f $(UNINSTALL_HEADERS:%=$(DESTDIR)$(INCLUDEDIR)/pmap/%) \
		$(DESTDIR)$(LIBDIR)/libpmap.a $(DESTDIR)$(PKGCONFIGDIR)/libpmap.pc \
		$(INSTALL_MAN3:man/%=$(DESTDIR)$(MANDIR)/man3/%) \
		$(INSTALL_MAN9:man/%=$(DESTDIR)$(MANDIR)/man9/%)
	rmdir $(DESTDIR)$(INCLUDEDIR)/pmap 2>/dev/null || true

# A fresh install into a temporary DESTDIR, for each port: a kernel-style
# file including <pmap/pmap.h> compiles with pkg-config's Cflags against the
# installed copy, --libs names the installed library and ld -r against it
# resolves everything but the hooks; then make uninstall leaves nothing.
check-install:
	$(Q)for a in $(ARCHES); do \
		MAKE="$(MAKE)" CC="$(CC)" AR="$(AR)" LD="$(LD)" NM="$(NM)" tools/check-install.sh $$a || exit 1; \
	done

# ---- licence: an SPDX line in every source file (LICENSE: BSD-2-Clause) ----
# tools/check-spdx.sh says which files are exempt (documentation, data).
.PHONY: check-spdx
check-spdx:
	@tools/check-spdx.sh

# ---- examples/: the smallest host, for people who embed the library ----
# examples/minimal_host.c is a whole one-CPU host of its own on the
# simulated amd64 machine, so it links neither the tree's host (host.c)
# nor $(LIBPMAP), whose objects inline that host's hooks
# (PMAP_HOST_INLINE): the library and the machine are compiled again for
# it, amd64 whatever ARCH says, into build/examples/.
EX_DIR := build/examples
EX_SRCS := $(filter pmap/%,$(CORE_SRCS)) arch/amd64/pmap_md.c $(SIM_SRCS) \
	examples/minimal_host.c
EX_OBJS := $(EX_SRCS:%.c=$(EX_DIR)/obj/%.o)
EX_INCLUDES := -Iinclude -Iarch/amd64/include -Iarch/amd64 -Ipmap -Iplatform/sim

$(EX_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/EX   $@"
	$(Q)$(CC) $(BASE_CFLAGS) -O2 $(CFLAGS) $(EX_INCLUDES) -MMD -MP -c $< -o $@

$(EX_DIR)/minimal_host: $(EX_OBJS)
	$(Q)$(CC) -pthread $(LDFLAGS) -o $@ $^

.PHONY: example check-example
example: $(EX_DIR)/minimal_host

# Build and run it: it exits nonzero if any of its checks fails.
check-example: $(EX_DIR)/minimal_host
	@$(EX_DIR)/minimal_host > $(EX_DIR)/minimal_host.log 2>&1 || \
		{ cat $(EX_DIR)/minimal_host.log; echo "check-example: minimal_host failed"; exit 1; }
	@echo "example: $$(tail -1 $(EX_DIR)/minimal_host.log)"

# ---- running tests ----
NPROC := $(shell nproc 2>/dev/null || echo 2)
PROVE := prove --exec '' --timer

.PHONY: all test check check-asan check-explore check-diag check-tsan check-clang bench \
	bench-ir clean run

# Suites run again in another machine configuration: wrapper scripts
# named <suite>-<variant>.t that pass the options (commas: spaces).
# "spec": speculative TLB fills at 10% of accesses and interrupt points;
# "random", "pct": the deterministic scheduler (platform/sim/sched.c);
# "nopcid": a CPU without PCIDs (every switch of address space flushes).
SPEC := --spec=100000
VARIANT_RUNS := sfbuf_test:mapped:--sfbuf=mapped quick_test:mapped:--sfbuf=mapped \
	switch_test:nopcid:--no-pcid switch_test:spec:$(SPEC) explore_test:nopcid:--no-pcid \
	random_test:capacity:--tlb=24 random_test:oldcpu:--old-cpu \
	kernel_test:oldcpu:--old-cpu protect_test:oldcpu:--old-cpu kernel_test:bigmem:--mem=2100 \
	sfbuf_test:spec:--sfbuf=mapped,$(SPEC) quick_test:spec:--sfbuf=mapped,$(SPEC) \
	quick_test:specdmap:$(SPEC) concurrency_test:spec:--sfbuf=mapped,$(SPEC) \
	smp_stress_test:spec:$(SPEC) random_test:spec:$(SPEC) \
	$(foreach t,concurrency_test smp_stress_test random_test races_test,\
	  $(t):random:--sched=random,--seed=11 $(t):pct:--sched=pct,--seed=12) \
	switch_test:random:--sched=random,--seed=13 switch_test:pct:--sched=pct,--seed=14
EXTRA_T := $(foreach r,$(VARIANT_RUNS),$(word 1,$(subst :, ,$(r)))-$(word 2,$(subst :, ,$(r))).t)
# The VM suites again: sf_bufs mapped, a capacity-limited TLB, speculative
# fills, and the deterministic scheduler (random walk and PCT).
VM_VARIANT_RUNS := $(foreach t,$(VM_TEST_NAMES),$(t):mapped:--sfbuf=mapped,--seed=2 \
	$(t):capacity:--tlb=24,--seed=3 $(t):spec:$(SPEC),--seed=4 \
	$(t):random:--sched=random,--seed=5 $(t):pct:--sched=pct,--seed=6)
VM_EXTRA_T := $(foreach r,$(VM_VARIANT_RUNS),$(word 1,$(subst :, ,$(r)))-$(word 2,$(subst :, ,$(r))).t)
define variant_wrappers_in
	@for r in $(2); do \
		n=$${r%%:*}; rest=$${r#*:}; v=$${rest%%:*}; args=$$(echo $${rest#*:} | tr , ' '); \
		printf '#!/bin/sh\nexec "$$(dirname "$$0")/%s" %s "$$@"\n' $$n "$$args" \
			> $(BA)/$(1)/tests/$(3)/$$n-$$v.t; \
		chmod +x $(BA)/$(1)/tests/$(3)/$$n-$$v.t; \
	done
endef
define variant_wrappers
	$(call variant_wrappers_in,$(1),$(VARIANT_RUNS),portable)
	$(call variant_wrappers_in,$(1),$(VM_VARIANT_RUNS),vm)
endef

# The tests of the current variant.
test: all
	$(call variant_wrappers,$(VARIANT))
	$(PROVE) $(SIM_TESTS) $(PORTABLE_TESTS) $(EXTRA_T:%=$(B)/tests/portable/%) \
		$(VM_TESTS) $(VM_EXTRA_T:%=$(B)/tests/vm/%)

check-asan:
	$(MAKE) -j$(NPROC) VARIANT=asan all
	$(call variant_wrappers,asan)
	$(PROVE) $(SIM_TEST_NAMES:%=$(BA)/asan/tests/sim/%) \
		$(PORTABLE_NAMES:%=$(BA)/asan/tests/portable/%) \
		$(EXTRA_T:%=$(BA)/asan/tests/portable/%) \
		$(VM_TEST_NAMES:%=$(BA)/asan/tests/vm/%) \
		$(VM_EXTRA_T:%=$(BA)/asan/tests/vm/%)

check-tsan:
	$(MAKE) -j$(NPROC) VARIANT=tsan $(TSAN_TESTS:%=$(BA)/tsan/%)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		$(PROVE) $(TSAN_TESTS:%=$(BA)/tsan/%)

# The explorer: the explore suite (four CPUs in a kernel's roles, each
# checking pmap(9)'s promises) over 200 schedules of each strategy.
check-explore:
	$(MAKE) -j$(NPROC) VARIANT=asan $(BA)/asan/tests/portable/explore_test \
		$(BA)/asan/tests/portable/copy_test
	tests/soak.sh -b $(BA)/asan -s 1..200 -m random,pct,threads explore
	tests/soak.sh -b $(BA)/asan -s 1..20 -m random,pct copy

# PMAP_DIAGNOSTIC: every operation checks the pmap or page it changed.
DIAG_TESTS := random_test concurrency_test races_test modref_test protect_test \
	enter_test faultinj_test switch_test
check-diag:
	$(MAKE) -j$(NPROC) VARIANT=diag $(DIAG_TESTS:%=$(BA)/diag/tests/portable/%)
	$(PROVE) $(DIAG_TESTS:%=$(BA)/diag/tests/portable/%)

# The whole tree must build warning-free with clang too.
check-clang:
	$(MAKE) -j$(NPROC) CC=clang B=$(BA)/clang VARIANT=release all

# The manual: every function the public headers declare has an entry in
# man/ (tools/check-man-coverage.sh), and every page lints clean.
.PHONY: check-man
check-man:
	@st=0; sh tools/check-man-coverage.sh || st=1; \
	if command -v mandoc >/dev/null; then \
		mandoc -Tlint -Wwarning man/*.[0-9] && echo "manual pages: mandoc -Tlint clean" || st=1; \
	else echo "SKIPPED: mandoc -Tlint (mandoc not installed)"; fi; \
	exit $$st

# ---- libFuzzer (clang): the fuzzer's bytes drive the reference model ----
FUZZ_DIR := $(BA)/fuzz
FUZZ_SRCS := tests/fuzz/pmap_fuzz.c $(CORE_SRCS) $(SIM_SRCS) $(SIMHOST_SRCS) \
	platform/sim/ptest_sim.c tests/lib/tap.c tests/lib/tap_stdio.c
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_CFLAGS := $(ARCH_FLAGS) $(BASE_CFLAGS) -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_TIME ?= 60

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/FUZZ $@"
	$(Q)clang $(FUZZ_CFLAGS) $(INCLUDES) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/pmap_fuzz: $(FUZZ_OBJS)
	$(Q)clang $(ARCH_FLAGS) -fsanitize=fuzzer,address,undefined -pthread -o $@ $^

.PHONY: fuzz check-fuzz
# Fuzz for FUZZ_TIME seconds, keeping the corpus.
fuzz: $(FUZZ_DIR)/pmap_fuzz
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/pmap_fuzz -max_total_time=$(FUZZ_TIME) -max_len=16384 $(FUZZ_DIR)/corpus

# A short, seeded run for make check.
check-fuzz: $(FUZZ_DIR)/pmap_fuzz
	@$(FUZZ_DIR)/pmap_fuzz -seed=1 -runs=3000 -max_len=2048 > $(FUZZ_DIR)/check.log 2>&1 \
		|| { tail -40 $(FUZZ_DIR)/check.log; exit 1; }
	@echo "libFuzzer: $$(tail -1 $(FUZZ_DIR)/check.log)"

# ---- the real machine (platform/pc): pc-portable, mmu-diff, ... ----
include platform/pc/pc.mk

ifeq ($(ARCH),amd64)
check: check-freestanding check-mi check-spdx check-lib check-install check-man check-example check-asan check-run check-explore check-diag \
		check-tsan check-clang check-fuzz check-i386 \
		pc-portable-all pc-mmu-diff-check-all pc-bench-smoke
	@echo "make check: all suites passed"
else
# make check covers every port whatever ARCH says.
check:
	$(MAKE) ARCH=amd64 check
endif

# The i386 port on the simulated machine, 32-bit: the same targets but
# ThreadSanitizer (it has no 32-bit runtime: the multi-CPU suites run
# under TSan on amd64 only).  Its real-machine runs are pc-portable-all's
# second half and pc-mmu-diff-check-all's.
.PHONY: check-i386
check-i386:
	@if tests/native32.sh; then \
		$(MAKE) ARCH=i386 check-freestanding check-asan check-explore check-diag \
			check-clang check-fuzz && \
		$(MAKE) ARCH=i386 VARIANT=asan run-check; \
	else \
		echo "check-i386: this host cannot run 32-bit x86 programs (its kernel has no"; \
		echo "  IA-32 emulation): the i386 port is built as usual (gcc, clang, freestanding)"; \
		echo "  and its suites run under $(QEMU_USER), user mode - once each, release build,"; \
		echo "  no sanitizers, variants or fuzzing; the real machine's i386 runs are unaffected"; \
		$(MAKE) ARCH=i386 check-freestanding check-clang check-qemu-user; \
	fi

# The i386 suites under QEMU's user mode, for a host that cannot run 32-bit
# programs itself: every suite once, 60 explored schedules, 16 of the copy
# suite (its race with page-side operations reaches the table windows),
# and pmapsim.
QEMU_USER := qemu-i386
RUN_QEMU_ARGS := --cpus=4 --mem=160 --files --storm
.PHONY: check-qemu-user
check-qemu-user: all $(TRACES)
	@command -v $(QEMU_USER) >/dev/null || { echo "check-qemu-user: $(QEMU_USER) is" \
		"needed (Debian: qemu-user)"; exit 1; }
	prove --exec $(QEMU_USER) --timer $(SIM_TESTS) $(PORTABLE_TESTS) $(VM_TESTS)
	PMAP_TEST_EXEC=$(QEMU_USER) tests/soak.sh -b $(B) -s 1..20 -m random,pct,threads explore
	PMAP_TEST_EXEC=$(QEMU_USER) tests/soak.sh -b $(B) -s 1..8 -m random,pct copy
	$(MAKE) run-check RUN_EXEC=$(QEMU_USER) RUN_ARGS="$(RUN_QEMU_ARGS)"

# How good the suites are: realistic bugs (tests/mutants.txt) applied one
# at a time to a scratch copy; prints the score and the survivors.  Not
# part of check (about half an hour); run it before resolving an issue
# that touches the core.
.PHONY: mutants
mutants:
	tests/mutants.sh

# Many seeds of the concurrency suites and the random model, each seed a
# replayable schedule (or stress run): make soak SEEDS=1..1000
# [SOAK_MODES=threads,random,pct,spec] [SOAK_SUITES="explore random ..."]
SEEDS ?= 1..100
SOAK_MODES ?= threads,random,pct
SOAK_SUITES ?=
.PHONY: soak
soak:
	$(MAKE) -j$(NPROC) VARIANT=asan all
	tests/soak.sh -b $(BA)/asan -s $(SEEDS) -m $(SOAK_MODES) $(SOAK_SUITES)

# bench_pmap also times the host's Linux doing the same page-table work
# (bench/linux_ops.c) and plots cost per page against N if gnuplot is
# installed.  About half a minute; run by hand, not by make check.
# make pc-bench (platform/pc/pc.mk) times the same operations
# (bench/bench_ops.c) inside the bare-metal kernels under QEMU.
bench: all
	$(B)/bin/bench_mmu
	$(B)/bin/bench_pmap --plot=$(BA)/bench-scaling.png

# Instructions per page (callgrind): repeatable, for comparing versions.
bench-ir: $(B)/bin/bench_pmap
	bench/ir.sh $(B)

# The main job: a real program's trace (gzip), a forking server and
# allocator churn on 4 CPUs, with less memory than their footprint.
TRACE_NAMES := $(patsubst traces/%.trace.gz,%,$(wildcard traces/*.trace.gz))
TRACES := $(TRACE_NAMES:%=build/traces/%.trace)
build/traces/%.trace: traces/%.trace.gz
	@mkdir -p $(dir $@)
	$(Q)gzip -dc $< > $@.tmp && mv $@.tmp $@
RUN_ARGS := --cpus=4 --mem=256 --trace=build/traces/gzip.trace --fork --churn --storm --pageout \
	--files

# A 32-bit pmapsim runs under qemu-i386 where the kernel cannot run it.
RUN_EXEC ?= $(if $(filter i386,$(ARCH)),$(shell tests/native32.sh || echo $(QEMU_USER)))

run: $(B)/bin/pmapsim $(TRACES)
	$(RUN_EXEC) $(B)/bin/pmapsim $(RUN_ARGS)

# The demonstration must end with a clean audit.
# make run's workload under ASan+UBSan: nothing lost, a clean audit.
.PHONY: check-run
check-run:
	$(MAKE) VARIANT=asan run-check

.PHONY: run-check
run-check: $(B)/bin/pmapsim $(TRACES)
	@$(RUN_EXEC) $(B)/bin/pmapsim $(RUN_ARGS) > $(B)/run.log 2>&1 || { tail -20 $(B)/run.log; exit 1; }
	@tail -1 $(B)/run.log | grep -q ' 0 lost, audit OK$$' || { tail -5 $(B)/run.log; exit 1; }
	@echo "run ($(ARCH)): $$(tail -1 $(B)/run.log)"

clean:
	rm -rf build

.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
