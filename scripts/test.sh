#!/usr/bin/env bash
# test.sh - builds everything and runs the whole test suite: engine unit tests (also under
# AddressSanitizer + UBSan), tito's unit tests, end-to-end CLI tests with hostile student code, and
# the course-integrity checks of every module.
#
#     scripts/test.sh [ctest options]        e.g. scripts/test.sh -R course_02
#
# It reuses build/ from scripts/setup.sh (same CMake preset, so nothing is compiled twice) and
# installs the few packages only the tests need. TT_PRESET=ci (what .ci/run uses) also treats
# warnings as errors; a different preset than the build folder was made with rebuilds it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
tt_ensure_packages "${tt_course_packages[@]}" "${tt_test_packages[@]}"

preset=${TT_PRESET:-default}
jobs=$(nproc 2> /dev/null || echo 2)
cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset" -j"$jobs"
ctest --preset "$preset" -j"$jobs" "$@"
