# packages.sh - the Debian/Ubuntu packages TinyTorch C++ needs, and a function that installs the
# missing ones. Sourced by setup.sh, test.sh and .ci/run; not meant to be run on its own.

# What a student needs to build and use tito.
tt_course_packages=(g++ cmake make pkg-config git ccache libcli11-dev nlohmann-json3-dev catch2 libspdlog-dev
    libgit2-dev libopenblas-dev zlib1g-dev libcurl4-openssl-dev libsqlite3-dev)
# What the project's own tests need on top: JSON Schema and XSD validation of the grading exports,
# shell-completion checks, Fashion-MNIST for the lenet milestone's --dataset variant, headless
# Chromium to load the leaderboard's HTML export.
tt_test_packages=(libvalijson-dev libxml2-dev libxml2-utils bash-completion zsh dataset-fashion-mnist chromium)

# tt_ensure_packages <package...>: installs those that are not installed yet (apt-get, as root or
# through sudo); prints what to run and fails when neither is possible.
tt_ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "== installing: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
    elif command -v sudo > /dev/null; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
    else
        echo "these packages are missing and there is no sudo: ${missing[*]}" >&2
        echo "install them as root: apt-get install ${missing[*]}" >&2
        return 1
    fi
}
