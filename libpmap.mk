# SPDX-License-Identifier: BSD-2-Clause
#
# libpmap.mk - libpmap's sources and flags, for a kernel that builds the
# library with its own makefiles (libpmap.cmake is the same for CMake).
# It defines variables only - no rules, no targets - all named LIBPMAP_*:
#
#	LIBPMAP_DIR ?= <this file's directory>
#	LIBPMAP_ARCH ?= amd64     (or i386)
#	include $(LIBPMAP_DIR)/libpmap.mk
#
#	LIBPMAP_SRCS              the library's C sources: pmap/*.c and
#	                          arch/$(LIBPMAP_ARCH)/pmap_md.c
#	LIBPMAP_INCLUDES          -I flags for the public headers: what a kernel
#	                          file including <pmap/pmap.h> needs
#	LIBPMAP_PRIVATE_INCLUDES  -I flags the library's own sources need too
#	LIBPMAP_CFLAGS            code generation as a kernel needs it: C11,
#	                          freestanding, no FPU/SIMD registers, no PIC, no
#	                          stack protector; amd64: no red zone, the kernel
#	                          code model (linked in the top 2 GiB); i386:
#	                          32-bit code for an i686
#
# Compile each of LIBPMAP_SRCS with your compiler and
#	$(LIBPMAP_CFLAGS) $(LIBPMAP_INCLUDES) $(LIBPMAP_PRIVATE_INCLUDES)
# (plus your optimisation, debug and warning flags, and the same -D options
# of <pmap/pmap_config.h> for the library and for every file that includes
# <pmap/pmap.h>), and your kernel's files that call the library with
# $(LIBPMAP_INCLUDES).  The objects may call only the hooks of
# <pmap/pmap_host.h> and <pmap/$(LIBPMAP_ARCH)_host.h> (pmap_host_*),
# memset and memcpy; built by GCC for i386 without FPU or SSE, also
# libatomic's __atomic_*_8 (see README, "Embedding libpmap in a kernel").
# libpmap's own `make lib` builds from these variables.

# (":=" now: MAKEFILE_LIST names this file only while it is being read.)
ifeq ($(LIBPMAP_DIR),)
LIBPMAP_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
LIBPMAP_ARCH ?= amd64
ifeq ($(filter amd64 i386,$(LIBPMAP_ARCH)),)
$(error libpmap.mk: LIBPMAP_ARCH must be amd64 or i386, not "$(LIBPMAP_ARCH)")
endif

# The directory as a prefix of paths: none when it is ".".
LIBPMAP_P := $(if $(filter .,$(LIBPMAP_DIR)),,$(LIBPMAP_DIR)/)

LIBPMAP_SRCS := $(sort $(wildcard $(LIBPMAP_P)pmap/*.c)) \
	$(LIBPMAP_P)arch/$(LIBPMAP_ARCH)/pmap_md.c

LIBPMAP_INCLUDES := -I$(LIBPMAP_P)include -I$(LIBPMAP_P)arch/$(LIBPMAP_ARCH)/include
LIBPMAP_PRIVATE_INCLUDES := -I$(LIBPMAP_P)arch/$(LIBPMAP_ARCH) -I$(LIBPMAP_P)pmap

LIBPMAP_CFLAGS_COMMON := -std=c11 -ffreestanding -fno-builtin -mgeneral-regs-only \
	-fno-pic -fno-pie -fno-stack-protector
LIBPMAP_CFLAGS_amd64 := -mno-red-zone -mcmodel=kernel
# -Wno-psabi: GCC notes that it aligns 64-bit _Atomic members differently
# since GCC 11; the library and its kernel are built by one compiler.
LIBPMAP_CFLAGS_i386 := -m32 -march=i686 -Wno-psabi
LIBPMAP_CFLAGS := $(LIBPMAP_CFLAGS_COMMON) $(LIBPMAP_CFLAGS_$(LIBPMAP_ARCH))
