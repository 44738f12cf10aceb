# Two entry points do all set-up on a fresh Debian machine (as root):
#   make test   install deps, build (debug = ASan+UBSan, release, fuzz), run every test
#   make demo   install deps, build release, run the demo mesh
# Everything else is a convenience for developers.

JOBS ?= $(shell nproc)
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: all deps configure build release release-test debug fuzz clang test unit integration fuzz-test demo bench install clean

all: release

deps:
	bash scripts/install-deps.sh

build/%/build.ninja: CMakeLists.txt CMakePresets.json
	cmake --preset $* >/dev/null

debug: deps build/debug/build.ninja
	cmake --build --preset debug -j $(JOBS)

release: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)

# What the integration tests need from the release build (not the benchmarks): the binary, its
# OpenTelemetry plugin meshlog-otlp.so and meshlog_netsink_driver.
release-test: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS) --target meshlog_integration_deps

fuzz: deps build/fuzz/build.ninja
	cmake --build --preset fuzz -j $(JOBS) --target meshlog_fuzzers

clang: deps build/clang/build.ninja
	cmake --build --preset clang -j $(JOBS)

# Unit tests run under ASan+UBSan; integration tests start the optimised binary (as users run it);
# every fuzz target runs for a bounded time.
unit: debug
	ctest --preset debug -L unit

integration: release-test
	ctest --preset release -L integration

fuzz-test: fuzz
	ctest --preset fuzz

test: debug release-test fuzz
	ctest --preset debug -L unit
	ctest --preset release -L integration
	ctest --preset fuzz

demo: release
	bash scripts/demo.sh

bench: release
	bash bench/run_all.sh

# The binary and its OpenTelemetry plugin, together: $(PREFIX)/bin/meshlog and
# $(PREFIX)/lib/meshlog/meshlog-otlp.so (where `meshlog` looks for it; see README).
PREFIX ?= /usr/local
install: release
	cmake --install build/release --prefix $(PREFIX)

clean:
	rm -rf build
