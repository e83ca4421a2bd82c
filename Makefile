# Thin wrapper around CMake/CTest. `make` builds build/cmpca, `make test` runs
# every test through ctest, `make asan` does the same under ASan+UBSan.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure test asan clean fuzz

all: deps configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan:
	$(MAKE) BUILD=build-asan CMAKE_FLAGS="-DCMPCA_SANITIZE=ON -DCMPCA_WERROR=ON $(CMAKE_FLAGS)" test

.PHONY: lint valgrind
# cppcheck + clang-tidy (.clang-tidy) over src/ with $(BUILD)'s compile flags
lint:
	scripts/lint.sh --build $(BUILD)

# the integration tests' server and some unit tests under valgrind memcheck,
# in build-valgrind (no sanitizers); VALGRIND_ARGS=--all runs every test
valgrind:
	scripts/valgrind.sh $(VALGRIND_ARGS)

# libFuzzer targets in build-fuzz (clang), each run FUZZ_SECONDS (default 60)
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) scripts/fuzz.sh

clean:
	rm -rf build build-asan
