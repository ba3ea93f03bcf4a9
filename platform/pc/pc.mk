# SPDX-License-Identifier: BSD-2-Clause
# platform/pc/pc.mk - build and run the bare-metal kernel for QEMU, on
# amd64 and on i386.
#
# Standalone, from the repository root:
#	make -f platform/pc/pc.mk                    # the kernels (below)
#	make -f platform/pc/pc.mk pc-portable        # libpmap's portable suites
#	make -f platform/pc/pc.mk pc-portable PC_ARCH=i386
#	make -f platform/pc/pc.mk mmu-diff SEED=1 COUNT=2000 [PC_ARCH=i386]
#	make -f platform/pc/pc.mk pc-mmu-diff-check  # fixed seeds, 10500 probes
#	make -f platform/pc/pc.mk pc-mmu-diff-check-all  # ... on both arches
#	make -f platform/pc/pc.mk pc-check           # the platform self-test (amd64)
#	make -f platform/pc/pc.mk pc-bench           # libpmap timed in both kernels,
#	                                             # beside this host's Linux
#	make -f platform/pc/pc.mk pc-bench-smoke     # the bench mode runs (make check)
#	make -f platform/pc/pc.mk pc-clean
#
# PC_ARCH picks the machine: amd64 (the default) or i386; when the file is
# included by the top-level makefile, that makefile's ARCH is the default
# (so `make mmu-diff ARCH=i386` works).  Otherwise, included from another
# makefile, it sets no default goal, defines only pc-* targets plus
# mmu-diff, and only PC_* variables, and reads nothing else of the
# includer's (CC, CFLAGS, B, VARIANT, Q, WARN, ...).
#
# Kernels (PC_BUILD is build/pc for amd64, build/pc-i386 for i386):
#	PC_KERNEL           $(PC_BUILD)/kernel.elf: libpmap, every suite of
#	                    tests/portable/*_test.c (picked up by wildcard) and
#	                    the MMU-probe mode; the image for qemu -kernel and gdb
#	PC_SELFTEST_KERNEL  build/pc/selftest.elf: the platform self-test
#	                    (amd64 only)
#
# Other variables for reuse:
#	PC_SRCS / PC_OBJS   the platform's own sources / objects: the shared
#	                    files of platform/pc and platform/pc/$(PC_ARCH)
#	PC_CFLAGS           freestanding kernel code-generation flags +
#	                    -Iplatform/pc/$(PC_ARCH) -Iplatform/pc; use them for
#	                    anything linked in
#	PC_LDSCRIPT         platform/pc/$(PC_ARCH)/kernel.ld (which includes
#	                    platform/pc/kernel_image.ld: link with -L platform/pc)
#	PC_ACCEL            kvm, tcg or auto (run-qemu.sh; default auto)
#	PC_BENCH_PAGES, PC_BENCH_REPS, PC_BENCH_ARCHES
#	                    pc-bench: page count (65536), best of (3), the
#	                    kernels ("amd64 i386")
#	PC_QEMU             the QEMU binary (qemu-system-x86_64: it runs the
#	                    32-bit kernel too, with KVM where there is one)
#
# Any source file of the tree can be compiled for the kernel by naming its
# object under $(PC_BUILD)/: $(PC_BUILD)/<path>/<name>.o is built from
# <path>/<name>.c or .S with PC_CFLAGS (see the pattern rules below).
#
# Without QEMU the run targets print "SKIPPED: ..." and succeed, unless the
# environment variable CI is set (then they fail: CI must run them).

PC_DIR      := platform/pc
PC_ARCH     ?= $(or $(ARCH),amd64)
ifeq ($(filter amd64 i386,$(PC_ARCH)),)
$(error PC_ARCH must be amd64 or i386, not "$(PC_ARCH)")
endif
PC_ADIR     := $(PC_DIR)/$(PC_ARCH)
PC_BUILD    := $(if $(filter amd64,$(PC_ARCH)),build/pc,build/pc-$(PC_ARCH))
PC_KERNEL   := $(PC_BUILD)/kernel.elf
PC_SELFTEST_KERNEL := build/pc/selftest.elf

PC_CC       ?= gcc
PC_LD       ?= ld
PC_QEMU     ?= qemu-system-x86_64

PC_CFLAGS_amd64 := -mno-red-zone -mcmodel=kernel
PC_CFLAGS_i386  := -m32 -march=i686 -Wno-psabi
PC_LDFLAGS_amd64 :=
PC_LDFLAGS_i386  := -m elf_i386
# 64-bit arithmetic of the 32-bit kernel (division) comes from libgcc.
PC_LIBS_amd64 :=
# Sources only one arch has.
PC_ARCH_SRCS_amd64 :=
PC_ARCH_SRCS_i386  := $(PC_DIR)/i386/atomic64.S
PC_LIBS_i386   = $(shell $(PC_CC) -m32 -print-libgcc-file-name)

PC_CFLAGS   := -std=c11 -O2 -g $(PC_CFLAGS_$(PC_ARCH)) \
	-ffreestanding -nostdlib -fno-builtin \
	-mno-sse -mno-mmx -mno-80387 -fno-pic -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common \
	-Wall -Wextra -Werror -I$(PC_ADIR) -I$(PC_DIR)

PC_LDSCRIPT := $(PC_ADIR)/kernel.ld
PC_LDFLAGS  := -nostdlib -static -z max-page-size=0x1000 $(PC_LDFLAGS_$(PC_ARCH)) \
	--no-warn-rwx-segments --fatal-warnings -L $(PC_DIR) -T $(PC_LDSCRIPT)

PC_SRCS     := \
	$(PC_ADIR)/boot.S \
	$(PC_ADIR)/ap_tramp.S \
	$(PC_ADIR)/trap_entry.S \
	$(PC_ADIR)/probe_stubs.S \
	$(PC_ADIR)/setjmp.S \
	$(PC_ARCH_SRCS_$(PC_ARCH)) \
	$(PC_DIR)/main.c \
	$(PC_DIR)/cons.c \
	$(PC_DIR)/printf.c \
	$(PC_DIR)/string.c \
	$(PC_DIR)/cpu.c \
	$(PC_ADIR)/cpu_md.c \
	$(PC_DIR)/trap.c \
	$(PC_ADIR)/trap_md.c \
	$(PC_DIR)/panic.c \
	$(PC_DIR)/probe.c \
	$(PC_DIR)/mem.c \
	$(PC_ADIR)/mem_md.c \
	$(PC_DIR)/lapic.c \
	$(PC_DIR)/acpi.c \
	$(PC_DIR)/smp.c

PC_SELFTEST_SRCS := $(PC_DIR)/selftest.c

# The libpmap kernel: the host glue, the library core, the portable suites
# (new ones are picked up automatically), TAP and the probe generator.
PC_GLUE_SRCS  := $(PC_DIR)/host.c $(PC_ADIR)/host_md.c $(PC_DIR)/ptest_pc.c \
	$(PC_DIR)/mmuprobe_common.c $(PC_ADIR)/mmuprobe.c $(PC_DIR)/bench_pc.c \
	$(PC_DIR)/atomic_test.c
PC_CORE_SRCS  := pmap/pmap.c pmap/pv.c pmap/tlb.c pmap/tmpmap.c pmap/kmem.c pmap/ptree.c \
	arch/$(PC_ARCH)/pmap_md.c
PC_SUITE_SRCS := $(sort $(wildcard tests/portable/*_test.c))
PC_TLIB_SRCS  := tests/lib/tap.c tools/mmuprobe/probe_gen.c bench/bench_ops.c

pc_obj = $(patsubst %.c,$(PC_BUILD)/%.o,$(patsubst %.S,$(PC_BUILD)/%.o,$(1)))

PC_OBJS          := $(call pc_obj,$(PC_SRCS))
PC_SELFTEST_OBJS := $(call pc_obj,$(PC_SELFTEST_SRCS))
PC_LIBS           = $(PC_LIBS_$(PC_ARCH))
PC_PMAP_OBJS     := $(call pc_obj,$(PC_GLUE_SRCS) $(PC_CORE_SRCS) \
	$(PC_SUITE_SRCS) $(PC_TLIB_SRCS))

# Flags for the library, the tests and the glue: the core's include path
# (as the top-level makefile gives it) and the test headers.  The library
# sources are the same ones the simulated machine builds, and use the same
# warning set, which allows unused parameters.
$(PC_PMAP_OBJS): PC_OBJ_CFLAGS := -Iinclude -Iarch/$(PC_ARCH)/include \
	-Iarch/$(PC_ARCH) -Iarch/amd64/include -Ipmap -Itests/lib -Itools/mmuprobe -Ibench \
	-Wno-unused-parameter

# Running make with -f platform/pc/pc.mk: build the kernels by default.
ifneq ($(filter %platform/pc/pc.mk,$(firstword $(MAKEFILE_LIST))),)
.DEFAULT_GOAL := pc-all
endif

.PHONY: pc-all pc-check pc-clean pc-portable mmu-diff pc-mmu-diff-check

pc-all: $(PC_KERNEL) $(if $(filter amd64,$(PC_ARCH)),$(PC_SELFTEST_KERNEL))

$(PC_KERNEL): $(PC_OBJS) $(PC_PMAP_OBJS) $(PC_LDSCRIPT) $(PC_DIR)/kernel_image.ld
	@mkdir -p $(dir $@)
	@echo "  LD/PC   $@"
	$(PC_Q)$(PC_LD) $(PC_LDFLAGS) -o $@ $(PC_OBJS) $(PC_PMAP_OBJS) $(PC_LIBS)

ifeq ($(PC_ARCH),amd64)
$(PC_SELFTEST_KERNEL): $(PC_OBJS) $(PC_SELFTEST_OBJS) $(PC_LDSCRIPT) $(PC_DIR)/kernel_image.ld
	@mkdir -p $(dir $@)
	@echo "  LD/PC   $@"
	$(PC_Q)$(PC_LD) $(PC_LDFLAGS) -o $@ $(PC_OBJS) $(PC_SELFTEST_OBJS) $(PC_LIBS)
endif

# Quiet by default (PC_Q= shows the commands).
PC_Q ?= @

$(PC_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/PC   $@"
	$(PC_Q)$(PC_CC) $(PC_CFLAGS) $(PC_OBJ_CFLAGS) -MMD -MP -c $< -o $@

$(PC_BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS/PC   $@"
	$(PC_Q)$(PC_CC) $(PC_CFLAGS) -MMD -MP -c $< -o $@

# ---- running it ----

# Succeeds quietly when QEMU is there; otherwise says so and ends the
# recipe: successfully, or with failure when $CI is set.
define pc_need_qemu
	@if ! command -v $(PC_QEMU) >/dev/null 2>&1; then \
		echo "SKIPPED: qemu-system-x86_64 not installed — the real-machine suite did not run"; \
		if [ -n "$${CI:-}" ]; then echo "(CI is set: this is a failure)"; exit 1; fi; \
		exit 0; \
	fi
endef

PC_ENV = QEMU=$(PC_QEMU) PC_ARCH=$(PC_ARCH) PC_KERNEL=$(PC_KERNEL) \
	$(if $(PC_ACCEL),PC_ACCEL=$(PC_ACCEL))

# The platform self-test exists for amd64 only (its checks name the direct
# map, NX and 4-level tables); with PC_ARCH=i386 it says so and stops.
ifeq ($(PC_ARCH),amd64)
pc-check: $(PC_SELFTEST_KERNEL)
	$(pc_need_qemu)
	@if command -v $(PC_QEMU) >/dev/null 2>&1; then \
		$(PC_ENV) $(PC_DIR)/run-qemu.sh $(PC_SELFTEST_KERNEL); fi
else
pc-check:
	@echo "pc-check: the platform self-test is amd64-only (PC_ARCH=$(PC_ARCH))"; exit 2
endif

# Every portable suite on the real MMU (amd64: sf_buf in direct-map mode),
# then, as the simulated machine does, the sf_buf/quick-mapping suites again
# in mapped mode (amd64 only: i386 has no direct map, its first run is
# mapped already, and the second run is a TAP skip saying so) and some
# suites on an older CPU model (amd64: without NX, PGE, PCID, INVPCID, 1 GiB
# pages and PAT; i386: without PSE, PGE, SMEP and SMAP); under prove.  The TAP
# streams are kept in $(PC_BUILD)/portable*.tap for the count.
# pc-portable-all runs both arches, one after the other.
PC_MAPPED_SUITES ?= sfbuf,quick
PC_OLDCPU_SUITES ?= enter,kernel,protect,modref,smp_stress

.PHONY: pc-portable-all pc-mmu-diff-check-all
pc-portable: $(PC_KERNEL)
	$(pc_need_qemu)
	@if command -v $(PC_QEMU) >/dev/null 2>&1; then \
		set -e; rm -f $(PC_BUILD)/portable*.tap; \
		echo "pc-portable: the $(PC_ARCH) kernel ($(PC_KERNEL))"; \
		$(PC_ENV) PC_TAP_LOG=$(PC_BUILD)/portable.tap \
		PC_MAPPED_SUITES=$(PC_MAPPED_SUITES) PC_OLDCPU_SUITES=$(PC_OLDCPU_SUITES) \
		prove --timer $(PC_DIR)/t/portable.t $(PC_DIR)/t/portable-mapped.t \
			$(PC_DIR)/t/portable-oldcpu.t; \
		n=$$(cat $(PC_BUILD)/portable*.tap | grep -cE '^(not )?ok ' || true); \
		a=$$(sed -n 's/^# libpmap on the real MMU: [0-9]* CPUs, \([^ ,]*\).*/\1/p' \
			$(PC_BUILD)/portable.tap | head -1); \
		echo "pc-portable: $$n tests ran on the real machine ($$a)"; \
	fi

pc-portable-all:
	@$(MAKE) --no-print-directory -f $(PC_DIR)/pc.mk PC_ARCH=amd64 pc-portable
	@$(MAKE) --no-print-directory -f $(PC_DIR)/pc.mk PC_ARCH=i386 pc-portable

# The simulated MMU against the real one: make mmu-diff SEED=N COUNT=N.
PC_SIM_BUILD ?= build/release
PC_MMUPROBE  := $(PC_SIM_BUILD)/bin/mmuprobe
PC_DIFF_SEEDS ?= 1 3000000019 7000000003
PC_DIFF_COUNT ?= 3500

.PHONY: pc-mmuprobe-tool
pc-mmuprobe-tool:
	@$(MAKE) --no-print-directory -f Makefile VARIANT=release \
		B=$(PC_SIM_BUILD) $(PC_MMUPROBE) >/dev/null

mmu-diff: $(PC_KERNEL) pc-mmuprobe-tool
	$(pc_need_qemu)
	@if command -v $(PC_QEMU) >/dev/null 2>&1; then \
		$(PC_ENV) $(PC_DIR)/mmu-diff.sh $(or $(SEED),1) $(or $(COUNT),1000) \
			$(PC_SIM_BUILD); fi

pc-mmu-diff-check: $(PC_KERNEL) pc-mmuprobe-tool
	$(pc_need_qemu)
	@if command -v $(PC_QEMU) >/dev/null 2>&1; then \
		fail=0; first=1; \
		for s in $(PC_DIFF_SEEDS); do \
			if out=$$($(PC_ENV) $(PC_DIR)/mmu-diff.sh $$s \
			    $(PC_DIFF_COUNT) $(PC_SIM_BUILD) 2>&1); then \
				if [ $$first = 1 ]; then \
					printf '%s\n' "$$out" | sed '$$d'; first=0; fi; \
				printf 'seed %s: %s\n' $$s "$$(printf '%s\n' "$$out" | tail -1)"; \
			else \
				printf 'seed %s:\n%s\n' $$s "$$out"; fail=1; \
			fi; \
		done; \
		exit $$fail; \
	fi

pc-mmu-diff-check-all:
	@echo "pc-mmu-diff-check: amd64"
	@$(MAKE) --no-print-directory -f $(PC_DIR)/pc.mk PC_ARCH=amd64 pc-mmu-diff-check
	@echo "pc-mmu-diff-check: i386"
	@$(MAKE) --no-print-directory -f $(PC_DIR)/pc.mk PC_ARCH=i386 pc-mmu-diff-check

# libpmap's operations (bench/bench_ops.c, what bench_pmap times on the
# simulated machine) timed in each kernel's bench mode (bench_pc.c), set
# beside this host's Linux at the same page count (bench/linux_bench,
# built through the top-level makefile, as mmu-diff's tool is) in vs-linux
# lines: bench/pc-bench.sh.  A benchmark, not part of make check, which
# runs pc-bench-smoke instead: each kernel's bench mode at 64 pages, its
# checks and the form of its lines.
PC_BENCH_PAGES  ?= 65536
PC_BENCH_REPS   ?= 3
PC_BENCH_ARCHES ?= amd64 i386
PC_LINUX_BENCH  := $(PC_SIM_BUILD)/bin/linux_bench

.PHONY: pc-bench pc-bench-tool pc-bench-smoke
pc-bench-tool:
	@$(MAKE) --no-print-directory -f Makefile ARCH=amd64 VARIANT=release \
		B=$(PC_SIM_BUILD) $(PC_LINUX_BENCH) >/dev/null

pc-bench: pc-bench-tool
	$(pc_need_qemu)
	@if command -v $(PC_QEMU) >/dev/null 2>&1; then \
		QEMU=$(PC_QEMU) $(if $(PC_ACCEL),PC_ACCEL=$(PC_ACCEL)) \
		bench/pc-bench.sh --pages $(PC_BENCH_PAGES) --reps $(PC_BENCH_REPS) \
			--arches "$(PC_BENCH_ARCHES)" --linux $(PC_LINUX_BENCH); fi

pc-bench-smoke:
	$(pc_need_qemu)
	@if command -v $(PC_QEMU) >/dev/null 2>&1; then \
		QEMU=$(PC_QEMU) $(if $(PC_ACCEL),PC_ACCEL=$(PC_ACCEL)) \
		bench/pc-bench.sh --smoke --arches "$(PC_BENCH_ARCHES)"; fi

pc-clean:
	rm -rf build/pc build/pc-i386

-include $(wildcard $(patsubst %.o,%.d,$(PC_OBJS) $(PC_SELFTEST_OBJS) $(PC_PMAP_OBJS)))
