#!/usr/bin/env bash
# bench_milestones.sh - the full (not --quick) milestone runs on the reference engine: wall time,
# peak resident memory and the accuracy (gpt: validation loss) each reaches, against the targets of
# the course.
#
#     bench/bench_milestones.sh [path/to/tito] [milestone ...]     defaults: build/bin/tito mlp lenet alexnet gpt
#
# Needs the data sets (TITO_DATA_DIR or `tito data fetch`). Takes about 35 minutes for all four.
set -euo pipefail
tito=$(realpath "${1:-build/bin/tito}")
shift || true
milestones=("$@")
[ ${#milestones[@]} -eq 0 ] && milestones=(mlp lenet alexnet gpt)
workspace=$(mktemp -d /tmp/tito-bench-milestones-XXXXXX)
trap 'rm -rf "$workspace"' EXIT
cd "$workspace"

printf "%-10s %8s %16s %10s %14s %12s %s\n" "milestone" "passed" "accuracy / loss" "wall s" "peak memory MB" "examples/s" "estimate s"
for name in "${milestones[@]}"; do
    start=$(date +%s.%N)
    "$tito" --json milestone run "$name" --reference > "$name.json" || true
    end=$(date +%s.%N)
    python3 - "$name" "$start" "$end" <<'PY'
import json, sys
name, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
r = json.load(open(name + ".json"))
m = r.get("metrics", {})
# gpt reports a validation loss and tokens/s; the image milestones an accuracy and images/s.
quality = m.get("test_accuracy", m.get("val_loss", float("nan")))
rate = m.get("images_per_second", m.get("tokens_per_second", float("nan")))
print(f"{name:<10} {str(r.get('passed')):>8} {quality:>16.4f} {end - start:>10.1f} "
      f"{m.get('peak_memory_mb', float('nan')):>14.0f} {rate:>12.0f} "
      f"{r.get('estimate_seconds') or float('nan'):.0f}")
if r.get("failure"):
    print("   failure:", r["failure"])
PY
done
