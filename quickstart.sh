#!/usr/bin/env bash
# quickstart.sh: build presgw and either show it working or test it.
#
#   ./quickstart.sh demo   install what is missing, build, and run presgwd
#                          against the bundled Graph simulator with a small
#                          demo tenant, showing presence flow both ways
#                          (ports: PRESGW_DEMO_SIP_PORT, PRESGW_DEMO_SIM_PORT)
#   ./quickstart.sh test   install what is missing, build, run every test
#
# Debian 12.  Packages are installed with apt-get (as root, or via sudo).
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
build="$top/build"

# Build and test dependencies, all from Debian.
pkgs_build="build-essential autoconf automake libtool pkg-config
    libsofia-sip-ua-dev libxml2-dev libcurl4-openssl-dev libcjson-dev
    libsqlite3-dev sqlite3 python3 python3-cryptography
    libmicrohttpd-dev libssl-dev openssl"
pkgs_test="sip-tester baresip-core valgrind curl"

need_pkgs() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "quickstart: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

do_build() {
    cd "$top"
    [ -x configure ] || autoreconf -fi
    mkdir -p "$build"
    cd "$build"
    [ -f Makefile ] || ../configure --enable-werror -q
    make -j"$(nproc)" -s
}

case "${1:-}" in
demo)
    # shellcheck disable=SC2086
    need_pkgs $pkgs_build $pkgs_test
    do_build
    exec bash "$top/tests/demo.sh" "$build" "${@:2}"
    ;;
test)
    # shellcheck disable=SC2086
    need_pkgs $pkgs_build $pkgs_test
    do_build
    cd "$build"
    rc=0
    make -j"$(nproc)" check || rc=$?
    python3 "$top/tests/summary.py" "$build/test-suite.log" "$build"
    exit $rc
    ;;
*)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
