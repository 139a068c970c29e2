#!/usr/bin/env bash
# dev.sh — set up, build and run genosdb in one command.
#
#   ./dev.sh            install what is missing, build, open the shell on a demo database
#   ./dev.sh test       install what is missing, build, run every test: the normal build, an
#                       ASan+UBSan build, and a short run of each fuzz target (what CI runs)
#   ./dev.sh build      install what is missing and build (build/genosdb)
#   ./dev.sh quick      build and run the unit and end-to-end tests of the normal build only
#
# Environment: JOBS (parallel build jobs), FUZZ_SECONDS (per fuzz target, default 20).
set -euo pipefail
cd "$(dirname "$0")"

# (tests/interop also needs node >= 20 with npm, which the machine image provides: its npm
# packages are installed by tests/interop/run.sh with `npm ci` from the committed lockfile.)
PACKAGES=(build-essential cmake pkg-config clang libclang-rt-14-dev
  libsqlite3-dev libmsgpack-dev libjansson-dev libssl-dev libsecp256k1-dev libpcre2-dev
  zlib1g-dev libglib2.0-dev libnice-dev libusrsctp-dev libwebsockets-dev libwebsockets-evlib-glib libedit-dev
  sqlite3 python3 openssl
  chromium nodejs coturn iproute2 util-linux)
JOBS=${JOBS:-$(nproc)}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js for the interop tests: the machine image's own when present (Debian's npm package
  # would conflict with it), Debian's otherwise.
  command -v node >/dev/null || missing+=(nodejs npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

interop_deps() { # the npm packages of tests/interop, once, before tests run in parallel
  if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]; then
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

run_tests() { # run_tests DIR
  interop_deps
  ctest --test-dir "$1" --output-on-failure -j "$JOBS"
}

fuzz() {
  build build-fuzz -DCMAKE_C_COMPILER=clang -DGDB_FUZZ=ON -DBUILD_TESTING=OFF
  local secs=${FUZZ_SECONDS:-20}
  for target in build-fuzz/fuzz/fuzz_*; do
    [ -x "$target" ] || continue
    local name; name=$(basename "$target")
    local corpus=fuzz/corpus/${name#fuzz_}
    local work; work=$(mktemp -d)
    echo "fuzz: $name for ${secs}s (corpus $corpus)" >&2
    "$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "$work" "$corpus" 2>&1 | tail -n 4
    rm -rf "$work"
  done
}

demo() {
  local db=build/demo.db
  if [ ! -e "$db" ]; then
    ./build/genosdb --db "$db" import data/demo.jsonl >/dev/null
    echo "dev.sh: created $db from data/demo.jsonl" >&2
  fi
  exec ./build/genosdb --db "$db" shell
}

case "${1:-run}" in
  run) install_missing; build build; demo ;;
  build) install_missing; build build ;;
  quick) build build; run_tests build ;;
  test)
    install_missing
    build build; run_tests build
    build build-asan -DGDB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build-asan
    fuzz
    ;;
  *) echo "usage: ./dev.sh [run|test|build|quick]" >&2; exit 2 ;;
esac
