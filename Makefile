# libpmap - top-level, non-recursive makefile.
#
#   make            build the library, the simulated machine, tools and tests
#   make run        the demonstration on the simulated machine (the main job)
#   make check      every test: ASan+UBSan build, TSan build of the
#                   multi-CPU tests, freestanding build of the core, clang
#                   build, and the real-machine suite under QEMU
#   make bench      benchmarks (release build)
#
# Build variants live in build/<variant>/: release (default), asan, tsan.
# Pick one with `make VARIANT=asan ...`; `make check` drives them itself.

VARIANT ?= release
B := build/$(VARIANT)
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
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
else
$(error unknown VARIANT $(VARIANT): release, asan, tsan, debug)
endif

CFLAGS ?=
CFLAGS_ALL = $(BASE_CFLAGS) $(VFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(VFLAGS) -pthread $(LDFLAGS)

INCLUDES := -Iinclude -Iarch/amd64/include -Iplatform/sim -Itests/lib -Itools/mmuprobe

# ---- the simulated machine ----
SIM_SRCS := platform/sim/phys.c platform/sim/cpu.c platform/sim/tcache.c \
	platform/sim/mmu_amd64.c platform/sim/audit.c
SIM_OBJS := $(SIM_SRCS:%.c=$(B)/%.o)
SIM_LIB := $(B)/libsim.a

# ---- test support ----
TAP_OBJS := $(B)/tests/lib/tap.o $(B)/tests/lib/tap_stdio.o

# ---- sim-only tests (use sim.h directly) ----
SIM_TESTS := $(patsubst tests/sim/%.c,$(B)/tests/sim/%,$(wildcard tests/sim/*_test.c))
# Tests that exercise several CPUs at once: also run under TSan.
TSAN_TESTS := mmu_test

# ---- tools ----
TOOLS := $(B)/bin/mmuprobe
BENCHES := $(B)/bin/bench_mmu

all: $(SIM_LIB) $(SIM_TESTS) $(TOOLS) $(BENCHES)

Q ?= @
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(INCLUDES) -MMD -MP -c $< -o $@

$(SIM_LIB): $(SIM_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/tests/sim/%: $(B)/tests/sim/%.o $(SIM_LIB) $(TAP_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/bin/mmuprobe: $(B)/tools/mmuprobe/main.o $(B)/tools/mmuprobe/probe_gen.o $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

$(B)/bin/bench_mmu: $(B)/bench/bench_mmu.o $(SIM_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

# ---- running tests ----
PROVE := prove --exec '' --timer

.PHONY: all test check check-asan check-tsan bench clean run

# Run the tests of the current variant.
test: all
	$(PROVE) $(SIM_TESTS)

check-asan:
	$(MAKE) VARIANT=asan all
	$(PROVE) $(patsubst tests/sim/%.c,build/asan/tests/sim/%,$(wildcard tests/sim/*_test.c))

check-tsan:
	$(MAKE) VARIANT=tsan $(TSAN_TESTS:%=build/tsan/tests/sim/%)
	$(PROVE) $(TSAN_TESTS:%=build/tsan/tests/sim/%)

check: check-asan check-tsan
	@echo "make check: all suites passed"

bench: all
	$(B)/bin/bench_mmu

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
