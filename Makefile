# lispbt -- developer entry points.  On a fresh Debian machine, as root:
#   make demo     install what is missing, build, run examples/demo.lua
#   make test     install what is missing, build, run every fast check
# See docs/building.md for every target and variable.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

LUA        ?= lua5.4
CMAKE      ?= cmake
CTEST      ?= ctest
LUAROCKS   ?= luarocks
JOBS       ?= 2
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
BENCH_BUILD ?= build-bench
# Compilers for the sanitizer builds.  gcc's shared runtimes preload cleanly
# into the uninstrumented lua5.4; clang 14's TSan runtime crashes when
# preloaded (docs/building.md), so TSan stays on gcc.
SAN_CC     ?= gcc
TSAN_CC    ?= gcc
# WERROR=ON turns warnings into errors (`make test` sets it).
WERROR     ?=
# Arguments for bench/run.lua, e.g. BENCH_ARGS='--quick sched'.
BENCH_ARGS ?=
# Extra busted arguments, e.g. BUSTED_ARGS='--tags=sched' or a spec file.
BUSTED_ARGS ?=
# The timing-sensitive #perf specs are left out of sanitizer runs.
SAN_BUSTED_ARGS ?= --exclude-tags=perf
TSAN_TESTS ?= test_sched_stress test_log test_threads
TSAN_SPECS ?= spec/scheduler_spec.lua spec/events_spec.lua spec/events_session_spec.lua
# make fuzz: the libFuzzer harnesses fuzz/fuzz_<name>.c, each run FUZZ_SECONDS.
FUZZ_BUILD ?= build-fuzz
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 60
FUZZERS    ?= eval bt load oom lua
FUZZ_TIMEOUT ?= 10
FUZZ_MAX_LEN ?= 4096

ROCKSPEC   := rockspec/lispbt-scm-1.rockspec
LUA_PATHS  := ./lua/?.lua;./lua/?/init.lua;;
# Busted under lua5.4 directly (.busted's `lua` would re-exec through /usr/bin/lua).
BUSTED      = $(LUA) "$$(command -v busted)" --ignore-lua

export DEBIAN_FRONTEND := noninteractive
export CMAKE_BUILD_PARALLEL_LEVEL := $(JOBS)

ifeq ($(findstring clang,$(SAN_CC)),clang)
SAN_DEPS   := clang
ASAN_RT     = $(shell $(SAN_CC) -print-file-name=libclang_rt.asan-x86_64.so)
else
SAN_DEPS   :=
ASAN_RT     = $(shell $(SAN_CC) -print-file-name=libasan.so)
endif
ifeq ($(findstring clang,$(TSAN_CC)),clang)
TSAN_DEPS  := clang
TSAN_RT     = $(shell $(TSAN_CC) -print-file-name=libclang_rt.tsan-x86_64.so)
else
TSAN_DEPS  :=
TSAN_RT     = $(shell $(TSAN_CC) -print-file-name=libtsan.so)
endif

ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/spec/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LISPBT_SANITIZER=address
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 LISPBT_SANITIZER=thread

.PHONY: all deps build configure test ctest busted test-gcstress exports rock-check readme-check \
        sanitize tsan fuzz fuzz-build ci-stress demo bench format clean browser-check \
        report-screenshot

all: build

deps:
	@.ci/deps

# -- the Release + LISPBT_TESTS build used by test, demo and busted ----------

configure: deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLISPBT_TESTS=ON \
	    $(if $(WERROR),-DLISPBT_WERROR=$(WERROR))

build: configure
	$(CMAKE) --build $(BUILD) -j$(JOBS)

# -- fast checks ---------------------------------------------------------------

test: WERROR = ON
test: build
	@$(MAKE) --no-print-directory ctest busted rock-check readme-check

ctest:
	cd $(BUILD) && $(CTEST) --output-on-failure -j$(JOBS)

busted:
	$(BUSTED) $(BUSTED_ARGS)

# Every spec and C test with every host of the test build under gc_stress
# "incremental" (a collector step at every allocation, marking nearly always
# in progress: a store that misses its write barrier loses an object).
# GC_STRESS=full collects fully at every allocation instead (slow).  Specs
# tagged #nostress count collections, pauses or events, which stress
# changes, and are left out (docs examples that show such counts too).
GC_STRESS ?= incremental
test-gcstress: build
	cd $(BUILD) && LISPBT_GC_STRESS=$(GC_STRESS) $(CTEST) --output-on-failure -j$(JOBS)
	LISPBT_GC_STRESS=$(GC_STRESS) $(BUSTED) --exclude-tags=perf,nostress $(BUSTED_ARGS)

exports:
	spec/tools/check_exports.sh $(BUILD)/lispbt.so

# luarocks make into a throw-away tree; the module must require() from it alone.
rock-check:
	@tree=$$(mktemp -d /tmp/lispbt-rock.XXXXXX); trap 'rm -rf "$$tree"' EXIT; \
	echo "rock-check: $(LUAROCKS) --lua-version=5.4 make $(ROCKSPEC) --tree $$tree"; \
	if ! $(LUAROCKS) --lua-version=5.4 make $(ROCKSPEC) --tree "$$tree" >"$$tree/make.log" 2>&1; then \
	    cat "$$tree/make.log"; echo "rock-check: luarocks make failed" >&2; exit 1; \
	fi; \
	helpers=$$(for f in lua/lispbt/*.lua; do if [ -f "$$f" ]; then echo "lispbt.$$(basename "$$f" .lua)"; fi; done); \
	env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 \
	    $(LUA) spec/tools/rock_check.lua "$$tree" $$helpers; \
	env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 \
	    "$$tree/bin/lispbt-report" spec/fixtures/mbt_evt_v1/minimal_run.jsonl -o "$$tree/report.html"; \
	grep -q '<script type="application/json" id="data">' "$$tree/report.html" || \
	    { echo "rock-check: the installed lispbt-report wrote no report" >&2; exit 1; }

# README.md's install-and-run-busted recipe, run as written (commands and spec
# read from the README) in a scratch HOME and project outside the checkout.
readme-check:
	spec/tools/readme_recipe.sh

# -- sanitizers ----------------------------------------------------------------

# ASan + UBSan: C tests directly, specs through lua5.4 with the runtime preloaded.
# Built with -DLISPBT_NO_AVX2, so every spec also runs on the portable code
# that CPUs without AVX2 take (the MCTS action pool); make test runs the other.
sanitize:
	@.ci/deps $(SAN_DEPS)
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=$(SAN_CC) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DLISPBT_TESTS=ON -DLISPBT_SANITIZE=ON -DCMAKE_C_FLAGS=-DLISPBT_NO_AVX2
	$(CMAKE) --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && env $(ASAN_ENV) $(CTEST) --output-on-failure -j$(JOBS)
	spec/tools/sanrun.sh $(ASAN_BUILD)/busted.log \
	    env $(ASAN_ENV) LD_PRELOAD=$(ASAN_RT) \
	    $(BUSTED) --cpath='./$(ASAN_BUILD)/?.so' $(SAN_BUSTED_ARGS) $(BUSTED_ARGS)
	@echo "sanitize: no ASan/LSan/UBSan reports"

# TSan: the C tests TSAN_TESTS and the specs TSAN_SPECS.  Every entry must
# exist (a misspelt or deleted one would otherwise be skipped silently).
tsan:
	@.ci/deps $(TSAN_DEPS)
	$(CMAKE) -S . -B $(TSAN_BUILD) -DCMAKE_C_COMPILER=$(TSAN_CC) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DLISPBT_TESTS=ON -DLISPBT_TSAN=ON
	$(CMAKE) --build $(TSAN_BUILD) -j$(JOBS)
	@for t in $(TSAN_TESTS); do \
	    if [ ! -x $(TSAN_BUILD)/spec/c/$$t ]; then \
	        echo "tsan: TSAN_TESTS names '$$t', which is not a C test in $(TSAN_BUILD)/spec/c" >&2; \
	        exit 1; \
	    fi; \
	done; \
	for s in $(TSAN_SPECS); do \
	    if [ ! -f $$s ]; then \
	        echo "tsan: TSAN_SPECS names '$$s', which does not exist" >&2; \
	        exit 1; \
	    fi; \
	done
	@for t in $(TSAN_TESTS); do \
	    echo "tsan: $$t"; \
	    spec/tools/sanrun.sh $(TSAN_BUILD)/$$t.log env $(TSAN_ENV) $(TSAN_BUILD)/spec/c/$$t; \
	done; \
	for s in $(TSAN_SPECS); do \
	    echo "tsan: $$s"; \
	    spec/tools/sanrun.sh $(TSAN_BUILD)/$$(basename $$s .lua).log \
	        env $(TSAN_ENV) LD_PRELOAD=$(TSAN_RT) \
	        $(BUSTED) --cpath='./$(TSAN_BUILD)/?.so' $(SAN_BUSTED_ARGS) $$s; \
	done; \
	echo "tsan: no ThreadSanitizer reports"

# -- fuzzing --------------------------------------------------------------------

# clang -fsanitize=fuzzer,address,undefined build in $(FUZZ_BUILD)/, then each
# harness of FUZZERS for FUZZ_SECONDS on its seeds fuzz/corpus/<name>/ plus the
# inputs it found before ($(FUZZ_BUILD)/fuzz-corpus/<name>/) (docs/building.md).
fuzz-build:
	@.ci/deps fuzz
	$(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DLISPBT_FUZZ=ON
	$(CMAKE) --build $(FUZZ_BUILD) -j$(JOBS) --target lispbt_fuzzers

fuzz: fuzz-build
	FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZERS)

# .ci/run three times in a row beside two CPU burners; not part of CI itself
# (docs/building.md).
ci-stress:
	.ci/stress

# -- demo, benchmarks, formatting ------------------------------------------------

# Also writes demo-report.html (the HTML report, docs/report.md) and demo-tree.dot.
demo: build
	LUA_PATH='$(LUA_PATHS)' LUA_CPATH='./$(BUILD)/?.so;;' $(LUA) examples/demo.lua

# The HTML report in a real browser: headless Chromium opens the demo's page
# and the pages of the reference's streams (spec/fixtures), fails on any
# console message, checks that every panel with data drew it and the tree
# has one element per node, and saves the demo's screenshot in BROWSER_OUT.
BROWSER_OUT ?= $(BUILD)/browser-check
REPORT_FIXTURES = $(wildcard spec/fixtures/mbt_evt_v1/*.jsonl spec/fixtures/report/*.jsonl)
browser-check: demo
	@.ci/deps chromium
	@mkdir -p $(BROWSER_OUT)
	@for f in $(REPORT_FIXTURES); do \
	    $(LUA) bin/lispbt-report "$$f" -o "$(BROWSER_OUT)/$$(basename "$$f" .jsonl).html" >/dev/null; \
	done
	spec/tools/browser_check.sh $(BROWSER_OUT) --demo demo-report.html \
	    $(patsubst %.jsonl,$(BROWSER_OUT)/%.html,$(notdir $(REPORT_FIXTURES)))

# docs/report-demo.png, the screenshot in docs/report.md: the browser check's
# screenshot of the demo's page.
report-screenshot: browser-check
	cp $(BROWSER_OUT)/demo-report.png docs/report-demo.png

bench: deps
	$(CMAKE) -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DLISPBT_BENCH=ON
	$(CMAKE) --build $(BENCH_BUILD) -j$(JOBS)
	LUA_PATH='./bench/?.lua;$(LUA_PATHS)' LUA_CPATH='./$(BENCH_BUILD)/?.so;;' \
	    $(LUA) bench/run.lua --c-dir $(BENCH_BUILD)/bench $(BENCH_ARGS)

# Braces around every if/else/for/while body (clang-tidy), then clang-format.
FORMAT_FILES = $(shell find csrc spec/c bench -name '*.[ch]' 2>/dev/null)
format:
	@.ci/deps format
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLISPBT_TESTS=ON >/dev/null
	@files=$$(sed -n 's/^ *"file": "\(.*\)",\{0,1\}$$/\1/p' $(BUILD)/compile_commands.json | sort -u); \
	echo "clang-tidy --fix (braces) on $$(echo $$files | wc -w) files"; \
	clang-tidy -p $(BUILD) --quiet --fix --checks='-*,readability-braces-around-statements' \
	    --header-filter='$(CURDIR)/csrc/.*' $$files >/dev/null 2>&1 || \
	    echo "format: clang-tidy reported errors; braces were added only where it could parse"
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD) build.luarocks
