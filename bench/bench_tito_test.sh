#!/usr/bin/env bash
# bench_tito_test.sh - wall time of `tito test <module>` on the reference solution, cold (empty
# object cache) and warm (nothing changed since the last run), with and without sanitizers.
#
#     bench/bench_tito_test.sh [path/to/tito] [module] [repeats]     defaults: build/bin/tito 02 1
#
# With repeats > 1 every figure is the best of that many runs: on a shared machine the fastest
# run is the one least disturbed by other work. Settings that matter: configs/compiler.json
# (sanitize_flags: -O0), configs/limits.json (parallel_tests).
set -euo pipefail
tito=$(realpath "${1:-build/bin/tito}")
module=${2:-02}
repeats=${3:-1}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
workspace=$(mktemp -d /tmp/tito-bench-XXXXXX)
trap 'rm -rf "$workspace"' EXIT
cd "$workspace"
"$tito" module start "$module" --force -q
dir=$(ls -d [0-9][0-9]_* | head -1)
cp "$source_dir"/engine/src/"$dir"/*.cpp "$dir"/
share=$(dirname "$tito")/../share/tinytorch

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null || true; end=$(date +%s.%N); awk -v a="$start" -v b="$end" "BEGIN { print b - a }"; }
best() { sort -g | head -1; }

printf "tito test %s (reference solution, %s tests, %s files; best of %s)\n\n" "$dir" \
    "$(grep -c '"name"' "$share/graders/$dir/tests.json")" "$(ls "$dir"/*.cpp | wc -l)" "$repeats"
printf "%-28s %10s\n" "run" "seconds"
for mode in "" "--no-sanitize"; do
    label=${mode:-sanitizers}
    cold=$(for _ in $(seq "$repeats"); do rm -rf .tito/build; seconds "$tito" test "$module" $mode; done | best)
    warm=$(for _ in $(seq "$repeats"); do seconds "$tito" test "$module" $mode; done | best)
    printf "%-28s %10.2f\n" "cold, ${label#--}" "$cold"
    printf "%-28s %10.2f\n" "warm, ${label#--}" "$warm"
done
