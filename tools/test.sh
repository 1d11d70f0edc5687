#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls this and nothing else):
#   1. installs the build and test dependencies (Debian packages),
#   2. builds with -Wall -Wextra -Werror and runs every test (unit tests,
#      rule examples, Valgrind memcheck of the unit tests, integration tests),
#   3. builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs the
#      unit and integration tests again.
# Build trees: build-test/ and build-asan/ (removed and made fresh).
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() {
	dir=$1
	shift
	rm -rf "$dir"
	cmake -S . -B "$dir" -DREDACT_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
	(cd "$dir" && ctest --output-on-failure -j "$jobs" $CTEST_ARGS)
}

echo "== build + full suite (warnings are errors) =="
CTEST_ARGS="" run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== Release build (-O3 warnings are errors too) =="
rm -rf build-release
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DREDACT_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j "$jobs"

echo "== ASan + UBSan build =="
CTEST_ARGS="-LE memcheck|install" run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DREDACT_SANITIZE=ON

echo "tools/test.sh: all tests passed"
