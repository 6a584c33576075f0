#!/usr/bin/env bash
# setup.sh - everything a fresh Debian 12 / Ubuntu machine needs for TinyTorch C++:
# installs the packages, builds tito and the course (not the project's own tests), installs tito,
# checks the result with `tito doctor`, and trains a first model (the XOR milestone on the
# reference engine).
#
#     scripts/setup.sh [--prefix DIR]        default prefix: ~/.local (tito goes to DIR/bin)
#
# The build goes to build/ (CMake preset "default"); scripts/test.sh reuses it and only adds the
# tests.
set -euo pipefail

prefix="${HOME}/.local"
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#*=}"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."
source scripts/packages.sh
tt_ensure_packages "${tt_course_packages[@]}"

start=$(date +%s)
echo "== building tito and the course (build/)"
cmake --preset default > /dev/null
cmake --build --preset course -j"$(nproc 2> /dev/null || echo 2)"
echo "== installing tito into $prefix"
cmake --install build --prefix "$prefix" > /dev/null
echo "   built and installed in $(( $(date +%s) - start )) s"

echo "== checking with tito doctor"
"$prefix/bin/tito" doctor || true
echo
echo "== a first run: the XOR milestone, trained on the reference engine"
"$prefix/bin/tito" milestone run xor --reference
echo
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Add tito to your PATH:  export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
echo "Then start the course in a folder of your own:  mkdir -p ~/tinytorch && cd ~/tinytorch && tito module start 01"
