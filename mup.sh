#!/bin/sh
# The README's two commands, on a fresh Debian machine:
#   ./mup.sh demo   install what is missing, build, and run a µTransfer sweep of a Fashion-MNIST MLP
#   ./mup.sh test   install what is missing, build, and run every test (plain and sanitizer builds; as
#                   root, the cluster suite's real single-node Slurm too)
# Also: ./mup.sh build (just build), ./mup.sh deps (just install packages).
set -eu
cd "$(dirname "$0")"

PACKAGES="gcc pkg-config meson ninja-build libopenblas-dev libhdf5-dev libcjson-dev zlib1g-dev
libcriterion-dev libopenmpi-dev openmpi-bin gnuplot-nox dataset-fashion-mnist fortunes python3-h5py
slurm-wlm slurm-wlm-basic-plugins munge procps mount"

deps() {
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "mup.sh: installing Debian packages:$missing"
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
        echo "mup.sh: need root (or sudo) to install:$missing" >&2; exit 2
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

# build DIR [MESON OPTIONS]: set up DIR once, apply the options on every call (meson configure), build.
build() {
    dir=$1
    shift
    # a set-up that was interrupted leaves the directory without its build data: set it up again
    if [ -f "$dir/meson-private/build.dat" ]; then [ $# -eq 0 ] || meson configure "$dir" "$@"
    else meson setup "$dir" "$@"; fi
    ninja -C "$dir"
}

case "${1:-}" in
deps) deps ;;
build) deps; build build ;;
demo)
    deps; build build
    shift
    build/sweep/mup-sweep examples/configs/fashion-mlp-demo.json --out out/demo "$@"
    echo "mup.sh: the report is out/demo/report.md (plots out/demo/lr_transfer.png and out/demo/history.png)"
    ;;
test)
    # -Werror is for CI and developers (the same flag: meson setup build -Dwerror=true); users' builds
    # only warn, so a new compiler's new warning never stops an install
    deps; build build -Dwerror=true
    meson test -C build --print-errorlogs
    build build-san -Dwerror=true -Db_sanitize=address,undefined -Dbuildtype=debug -Db_lundef=false
    meson test -C build-san --print-errorlogs --timeout-multiplier 4 --no-suite cluster
    ;;
*)
    echo "usage: ./mup.sh demo|test|build|deps" >&2
    exit 2
    ;;
esac
