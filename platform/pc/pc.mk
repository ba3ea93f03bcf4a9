# platform/pc/pc.mk - build the bare-metal amd64 kernel for QEMU.
#
# Standalone, from the repository root:
#	make -f platform/pc/pc.mk            # build/pc/kernel.elf (self-test)
#	make -f platform/pc/pc.mk pc-check   # build and run it (TAP on stdout)
#	make -f platform/pc/pc.mk pc-clean
#
# Included from another makefile, it defines no default goal and only
# pc-prefixed targets.  Variables for reuse:
#	PC_KERNEL       build/pc/kernel.elf: the image for qemu -kernel and gdb
#	PC_SELFTEST_KERNEL  build/pc/selftest.elf: always the self-test (what
#	                platform/pc/t/selftest.t and pc-check run)
#	PC_SRCS         the platform's own sources (C and assembly)
#	PC_OBJS         their objects
#	PC_CFLAGS       freestanding kernel code-generation flags + -Iplatform/pc;
#	                use them for anything linked into the kernel
#	PC_LDSCRIPT     platform/pc/kernel.ld
#	PC_MAIN_OBJS    object(s) defining pc_main(); default: the self-test
#	PC_EXTRA_OBJS   more objects to link in (libpmap, tests); default empty
#
# Any source file of the tree can be compiled for the kernel by naming its
# object under build/pc/: build/pc/<path>/<name>.o is built from
# <path>/<name>.c or .S with PC_CFLAGS (see the pattern rules below), e.g.
#	PC_EXTRA_OBJS = build/pc/pmap/pmap.o build/pc/arch/amd64/pmap_md.o
#	PC_MAIN_OBJS = build/pc/tests/pc_runner.o

PC_DIR      := platform/pc
PC_BUILD    := build/pc
PC_KERNEL   := $(PC_BUILD)/kernel.elf
PC_SELFTEST_KERNEL := $(PC_BUILD)/selftest.elf

PC_CC       ?= gcc
PC_LD       ?= ld

PC_CFLAGS   := -std=c11 -O2 -g \
	-ffreestanding -nostdlib -fno-builtin -mno-red-zone -mcmodel=kernel \
	-mno-sse -mno-mmx -mno-80387 -fno-pic -fno-pie -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common \
	-Wall -Wextra -Werror -I$(PC_DIR)

PC_LDSCRIPT := $(PC_DIR)/kernel.ld
PC_LDFLAGS  := -nostdlib -static -z max-page-size=0x1000 \
	--no-warn-rwx-segments --fatal-warnings -T $(PC_LDSCRIPT)

PC_SRCS     := \
	$(PC_DIR)/boot.S \
	$(PC_DIR)/ap_tramp.S \
	$(PC_DIR)/trap_entry.S \
	$(PC_DIR)/probe_stubs.S \
	$(PC_DIR)/setjmp.S \
	$(PC_DIR)/main.c \
	$(PC_DIR)/cons.c \
	$(PC_DIR)/printf.c \
	$(PC_DIR)/string.c \
	$(PC_DIR)/cpu.c \
	$(PC_DIR)/trap.c \
	$(PC_DIR)/panic.c \
	$(PC_DIR)/probe.c \
	$(PC_DIR)/mem.c \
	$(PC_DIR)/lapic.c \
	$(PC_DIR)/acpi.c \
	$(PC_DIR)/smp.c

PC_SELFTEST_SRCS := $(PC_DIR)/selftest.c

pc_obj = $(patsubst %.c,$(PC_BUILD)/%.o,$(patsubst %.S,$(PC_BUILD)/%.o,$(1)))

PC_OBJS          := $(call pc_obj,$(PC_SRCS))
PC_SELFTEST_OBJS := $(call pc_obj,$(PC_SELFTEST_SRCS))
PC_MAIN_OBJS     ?= $(PC_SELFTEST_OBJS)
PC_EXTRA_OBJS    ?=

# Running make with -f platform/pc/pc.mk: build the kernel by default.
ifneq ($(filter %platform/pc/pc.mk,$(firstword $(MAKEFILE_LIST))),)
.DEFAULT_GOAL := pc-all
endif

.PHONY: pc-all pc-check pc-clean

pc-all: $(PC_KERNEL)

$(PC_KERNEL): $(PC_OBJS) $(PC_MAIN_OBJS) $(PC_EXTRA_OBJS) $(PC_LDSCRIPT)
	@mkdir -p $(dir $@)
	$(PC_LD) $(PC_LDFLAGS) -o $@ $(PC_OBJS) $(PC_MAIN_OBJS) $(PC_EXTRA_OBJS)

$(PC_SELFTEST_KERNEL): $(PC_OBJS) $(PC_SELFTEST_OBJS) $(PC_LDSCRIPT)
	@mkdir -p $(dir $@)
	$(PC_LD) $(PC_LDFLAGS) -o $@ $(PC_OBJS) $(PC_SELFTEST_OBJS)

$(PC_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(PC_CC) $(PC_CFLAGS) -MMD -MP -c $< -o $@

$(PC_BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(PC_CC) $(PC_CFLAGS) -MMD -MP -c $< -o $@

pc-check: $(PC_SELFTEST_KERNEL)
	$(PC_DIR)/run-qemu.sh $(PC_SELFTEST_KERNEL)

pc-clean:
	rm -rf $(PC_BUILD)

-include $(wildcard $(patsubst %.o,%.d,$(PC_OBJS) $(PC_MAIN_OBJS) $(PC_EXTRA_OBJS)))
