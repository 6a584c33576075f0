#!/usr/bin/env bash
# bench_milestones.sh - the full (not --quick) milestone runs on the reference engine: wall time,
# peak resident memory and the accuracy each reaches, against the targets of the course.
#
#     bench/bench_milestones.sh [path/to/tito] [milestone ...]     defaults: build/bin/tito mlp lenet alexnet
#
# Needs the data sets (TITO_DATA_DIR or `tito data fetch`). Takes about 20 minutes for all three.
set -euo pipefail
tito=$(realpath "${1:-build/bin/tito}")
shift || true
milestones=("$@")
[ ${#milestones[@]} -eq 0 ] && milestones=(mlp lenet alexnet)
workspace=$(mktemp -d /tmp/tito-bench-milestones-XXXXXX)
trap 'rm -rf "$workspace"' EXIT
cd "$workspace"

printf "%-10s %8s %10s %10s %14s %10s %s\n" "milestone" "passed" "accuracy" "wall s" "peak memory MB" "images/s" "estimate s"
for name in "${milestones[@]}"; do
    start=$(date +%s.%N)
    "$tito" --json milestone run "$name" --reference > "$name.json" || true
    end=$(date +%s.%N)
    python3 - "$name" "$start" "$end" <<'PY'
import json, sys
name, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = json.load(open(name + ".json"))
m = r.get("metrics", {})
print(f"{name:<10} {str(r.get('passed')):>8} {m.get('test_accuracy', float('nan')):>10.4f} {end - start:>10.1f} "
      f"{m.get('peak_memory_mb', float('nan')):>14.0f} {m.get('images_per_second', float('nan')):>10.0f} "
      f"{r.get('estimate_seconds') or float('nan'):.0f}")
if r.get("failure"):
    print("   failure:", r["failure"])
PY
done
