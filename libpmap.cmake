# SPDX-License-Identifier: BSD-2-Clause
#
# libpmap.cmake - libpmap's sources and flags for a kernel built with CMake
# (libpmap.mk is the same for make).  It defines variables only:
#
#	set(LIBPMAP_ARCH amd64)            # or i386; amd64 if unset
#	include(path/to/libpmap/libpmap.cmake)
#	add_library(pmap STATIC ${LIBPMAP_SOURCES})
#	target_include_directories(pmap PUBLIC ${LIBPMAP_INCLUDES}
#		PRIVATE ${LIBPMAP_PRIVATE_INCLUDES})
#	target_compile_options(pmap PRIVATE ${LIBPMAP_COMPILE_OPTIONS})
#
#	LIBPMAP_SOURCES           pmap/*.c and arch/${LIBPMAP_ARCH}/pmap_md.c
#	LIBPMAP_INCLUDES          the public headers' directories: what a kernel
#	                          file including <pmap/pmap.h> needs
#	LIBPMAP_PRIVATE_INCLUDES  what the library's own sources need too
#	LIBPMAP_COMPILE_OPTIONS   code generation as a kernel needs it (C11,
#	                          freestanding, no FPU/SIMD registers, no PIC, no
#	                          stack protector; amd64: no red zone, the kernel
#	                          code model; i386: 32-bit code for an i686)
#
# Add your own optimisation, debug and warning options, and give the same
# -D options of <pmap/pmap_config.h> to the library and to every file that
# includes <pmap/pmap.h>.  The library calls only the hooks (pmap_host_*),
# memset and memcpy; built by GCC for i386, also libatomic's __atomic_*_8.

if(NOT DEFINED LIBPMAP_ARCH)
	set(LIBPMAP_ARCH amd64)
endif()
if(NOT LIBPMAP_ARCH STREQUAL "amd64" AND NOT LIBPMAP_ARCH STREQUAL "i386")
	message(FATAL_ERROR "libpmap.cmake: LIBPMAP_ARCH must be amd64 or i386, not ${LIBPMAP_ARCH}")
endif()
set(LIBPMAP_DIR ${CMAKE_CURRENT_LIST_DIR})

file(GLOB LIBPMAP_SOURCES ${LIBPMAP_DIR}/pmap/*.c)
list(SORT LIBPMAP_SOURCES)
list(APPEND LIBPMAP_SOURCES ${LIBPMAP_DIR}/arch/${LIBPMAP_ARCH}/pmap_md.c)

set(LIBPMAP_INCLUDES ${LIBPMAP_DIR}/include ${LIBPMAP_DIR}/arch/${LIBPMAP_ARCH}/include)
set(LIBPMAP_PRIVATE_INCLUDES ${LIBPMAP_DIR}/arch/${LIBPMAP_ARCH} ${LIBPMAP_DIR}/pmap)

# The same flags as libpmap.mk's LIBPMAP_CFLAGS (make check-lib compares them).
set(LIBPMAP_COMPILE_OPTIONS -std=c11 -ffreestanding -fno-builtin -mgeneral-regs-only
	-fno-pic -fno-pie -fno-stack-protector)
if(LIBPMAP_ARCH STREQUAL "amd64")
	list(APPEND LIBPMAP_COMPILE_OPTIONS -mno-red-zone -mcmodel=kernel)
else()
	list(APPEND LIBPMAP_COMPILE_OPTIONS -m32 -march=i686 -Wno-psabi)
endif()
