#!/usr/bin/env bash
# Packaging test: a consumer project builds and runs the README's example against Annal
#   1. installed from BUILD_DIR with `cmake --install`, found with find_package(annal);
#   2. as a subproject, with add_subdirectory(SOURCE_DIR).
#
#   tests/consumer/check.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
expected="withdraw: rejected: account-alice: insufficient funds"

# build_and_run NAME [cmake args...]: configures, builds and runs the consumer.
build_and_run() {
  local name=$1; shift
  echo "check.sh: consumer with $name" >&2
  # -O0 without debug info: the add_subdirectory variant compiles the libraries again.
  cmake -S "$src/tests/consumer" -B "$work/$name" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DREADME="$src/README.md" "$@" >/dev/null
  cmake --build "$work/$name" -j "$jobs" >/dev/null
  (cd "$work/$name" && ./consumer) | tee "$work/$name.out"
  grep -qF "$expected" "$work/$name.out" || { echo "check.sh: $name: unexpected output" >&2; exit 1; }
}

cmake --install "$build" --prefix "$work/prefix" >/dev/null
build_and_run find_package -DCMAKE_PREFIX_PATH="$work/prefix"
# Batched (unity) compiles: this variant builds the libraries from source once more.
build_and_run add_subdirectory -DANNAL_SOURCE_DIR="$src" -DANNAL_UNITY_BUILD=ON
echo "check.sh: both consumers built and ran the example" >&2
