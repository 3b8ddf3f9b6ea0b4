# The two commands of the README, and a few helpers. Everything real is in CMake;
# this file installs the Debian packages a fresh machine lacks, then calls it.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_HOURS ?= 1
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Debian 12 packages: to build, and in addition to test.
DEPS_BUILD := cmake make gcc pkg-config libmagic-dev libarchive-dev libpcre2-dev \
              libsystemd-dev libconfig-dev libjansson-dev libexpat1-dev \
              libpoppler-glib-dev libgmime-3.0-dev libsqlite3-dev \
              libseccomp-dev libcurl4-openssl-dev libssl-dev zlib1g-dev poppler-data
DEPS_TEST  := libcmocka-dev python3 zip unzip p7zip-full util-linux zstd cpio gcab xorriso \
              time qpdf debootstrap systemd-container systemd dpkg-dev file groff-base \
              mount poppler-utils libreoffice-writer-nogui libreoffice-calc-nogui \
              clang libclang-rt-14-dev valgrind
DEPS_DEMO  := python3
DEPS_BENCH := ripgrep clamav python3

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Installs the packages of $(1) that are missing (apt-get update only when needed).
define ensure
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: all deps deps-test build build-asan demo check test bench fuzz valgrind format clean

all: build

deps:
	$(call ensure,$(DEPS_BUILD))

deps-test: deps
	$(call ensure,$(DEPS_TEST))

build: deps
	cmake -S . -B $(BUILD)
	cmake --build $(BUILD) -j $(JOBS) --target vigied vigiectl

# Command 1: build and run vigie's main job on a demo set-up inside the repository.
demo: deps
	$(call ensure,$(DEPS_DEMO))
	cmake -S . -B $(BUILD)
	cmake --build $(BUILD) -j $(JOBS) --target vigied vigiectl
	python3 tests/tools/make_demo.py demo
	@echo
	@echo "== vigiectl scan demo/samples: the one-shot scan, one verdict per file =="
	@$(BUILD)/vigiectl scan -c demo/vigie.conf demo/samples; rc=$$?; \
	    echo "exit status $$rc (0: all clean, 1: something held)"; [ $$rc -le 1 ]
	@echo
	python3 tests/tools/demo.py $(BUILD) demo

# Command 2: build normally and with ASan+UBSan, and run every test in both.
check: deps-test
	cmake -S . -B $(BUILD) -DVIGIE_TESTS=ON -DVIGIE_CRASHPOINTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cmake -S . -B $(BUILD_ASAN) -DVIGIE_TESTS=ON -DVIGIE_SANITIZE=ON -DVIGIE_CRASHPOINTS=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)
	tests/fuzz/run_short.sh $(BUILD_FUZZ)

test: check

# Longer fuzzing (libFuzzer, clang): make fuzz FUZZ_HOURS=8
fuzz: deps-test
	tests/fuzz/run_long.sh $(BUILD_FUZZ) $(FUZZ_HOURS)

# The unit tests under valgrind (normal build), failing on any leak or error.
valgrind: deps-test
	cmake -S . -B $(BUILD) -DVIGIE_TESTS=ON -DVIGIE_CRASHPOINTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	tests/tools/valgrind_unit.sh $(BUILD)

# Issue 10's benchmark (not part of check): a seeded 230 MB corpus, vigie beside
# ripgrep and ClamAV, daemon latency; about 10 minutes on an idle 2-core machine.
bench: deps
	$(call ensure,$(DEPS_BENCH))
	cmake -S . -B $(BUILD)
	cmake --build $(BUILD) -j $(JOBS) --target vigied vigiectl vigie-bench
	python3 tests/bench/run_bench.py --build $(BUILD)

format:
	clang-format -i daemon/*.c daemon/*.h scanners/*.c scanners/*.h tests/unit/*.c

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) demo
