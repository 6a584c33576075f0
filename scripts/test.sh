#!/usr/bin/env bash
# test.sh - builds everything and runs the whole test suite: engine unit tests (also under
# AddressSanitizer + UBSan), tito's unit tests, end-to-end CLI tests with hostile student code, and
# the course-integrity checks of every module.
#
#     scripts/test.sh [ctest options]        e.g. scripts/test.sh -R course_02
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2> /dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTT_WERROR=ON > /dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
