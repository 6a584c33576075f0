#!/usr/bin/env bash
# setup.sh - everything a fresh Debian 12 / Ubuntu machine needs for TinyTorch C++:
# installs the packages, builds, installs tito, checks the result with `tito doctor`, and trains
# a first model (the XOR milestone on the reference engine).
#
#     scripts/setup.sh [--prefix DIR]        default prefix: ~/.local (tito goes to DIR/bin)
set -euo pipefail

prefix="${HOME}/.local"
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#*=}"; shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config git libcli11-dev nlohmann-json3-dev catch2 libspdlog-dev libgit2-dev libopenblas-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    elif command -v sudo > /dev/null; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "setup.sh: these packages are missing and there is no sudo: ${missing[*]}" >&2
        echo "          install them as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

jobs=$(nproc 2> /dev/null || echo 2)
echo "== building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$jobs"
echo "== installing tito into $prefix"
cmake --install build --prefix "$prefix" > /dev/null

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
