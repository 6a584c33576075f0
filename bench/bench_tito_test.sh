#!/usr/bin/env bash
# bench_tito_test.sh - wall time of `tito test <module>` on the reference solution, cold (empty
# object cache) and warm (nothing changed since the last run), with and without sanitizers.
#
#     bench/bench_tito_test.sh [path/to/tito] [module]      defaults: build/bin/tito 02
set -euo pipefail
tito=$(realpath "${1:-build/bin/tito}")
module=${2:-02}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
workspace=$(mktemp -d /tmp/tito-bench-XXXXXX)
trap 'rm -rf "$workspace"' EXIT
cd "$workspace"
"$tito" module start "$module" --force -q
dir=$(ls -d [0-9][0-9]_* | head -1)
cp "$source_dir"/engine/src/"$dir"/*.cpp "$dir"/

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null || true; end=$(date +%s.%N); awk -v a="$start" -v b="$end" "BEGIN { print b - a }"; }

printf "tito test %s (reference solution, %s tests)\n\n" "$dir" "$(grep -c '"name"' "$(dirname "$tito")/../share/tinytorch/graders/$dir/tests.json")"
printf "%-28s %10s\n" "run" "seconds"
for mode in "" "--no-sanitize"; do
    label=${mode:-sanitizers}
    rm -rf .tito/build
    printf "%-28s %10.2f\n" "cold, ${label#--}" "$(seconds "$tito" test "$module" $mode)"
    printf "%-28s %10.2f\n" "warm, ${label#--}" "$(seconds "$tito" test "$module" $mode)"
done
