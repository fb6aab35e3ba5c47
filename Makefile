# Top-level commands of ensi (see README.md):
#   make          build (Release) into build/
#   make test     build, run the test suite, then the same tests under ASan+UBSan, then each fuzzer
#                 for FUZZ_SECONDS (10 s here; .ci/run adds a 60 s run of each: make fuzz FUZZ_SECONDS=60)
#   make bench    run the benchmarks (128-bit presets), JSON lines
#   make run      the main job: a full encrypted round trip on the embedded default model
#   make install  install library, headers, pkg-config file and the ensi tool (PREFIX=/usr/local)
# Missing Debian packages are installed when run as root (apt-get update first); otherwise the exact
# apt-get line is printed.

PREFIX     ?= /usr/local
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 10

DEBIAN_PACKAGES := build-essential cmake pkg-config clang libclang-rt-14-dev libomp-14-dev \
                   libsodium-dev libjansson-dev libprotobuf-c-dev protobuf-c-compiler libgmp-dev \
                   sentencepiece python3-sentencepiece libmicrohttpd-dev \
                   libcurl4-openssl-dev curl gnuplot-nox

.PHONY: all build deps test test-fast test-asan fuzz bench run install clean

all: build

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian packages; run as root:"; \
	    echo "  apt-get update && apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DENSI_SANITIZE=ON -DCMAKE_C_FLAGS=-O1
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ENSI_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

fuzz: deps
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DENSI_FUZZ=ON -DENSI_SANITIZE=ON -DCMAKE_C_FLAGS=-O1
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run_all.sh $(BUILD_FUZZ)/tests

test: test-fast test-asan fuzz

bench: build
	./$(BUILD)/ensi bench all --json

run: build
	./$(BUILD)/ensi run

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
