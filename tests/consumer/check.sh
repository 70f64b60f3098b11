#!/usr/bin/env bash
# Packaging test: a consumer project builds and runs the README's example against Annal
#   1. installed from BUILD_DIR with `cmake --install`, found with find_package(annal);
#      there it also builds the README's my-service-admin (annal::cli with the example's
#      aggregate) and checks that it renders the events the example wrote, decoded;
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

# build_and_run NAME TARGETS [cmake args...]: configures, builds TARGETS ("all" or a
# target) and runs the consumer.
build_and_run() {
  local name=$1 targets=$2; shift 2
  echo "check.sh: consumer with $name" >&2
  # -O0 without debug info: the add_subdirectory variant compiles the libraries again.
  cmake -S "$src/tests/consumer" -B "$work/$name" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DREADME="$src/README.md" "$@" >/dev/null
  cmake --build "$work/$name" -j "$jobs" --target "$targets" >/dev/null
  (cd "$work/$name" && ./consumer) | tee "$work/$name.out"
  grep -qF "$expected" "$work/$name.out" || { echo "check.sh: $name: unexpected output" >&2; exit 1; }
}

# check_admin DIR: my-service-admin shows the example's events by name and fields.
check_admin() {
  local dir=$1 json table
  json=$(cd "$dir" && ./my-service-admin --data example-data --json events account-alice)
  table=$(cd "$dir" && ./my-service-admin --data example-data events account-alice)
  echo "$json"
  for want in '"type":"bank\.deposited"' '"data":\{"amount": ?100\}'; do
    grep -qE "$want" <<<"$json" || { echo "check.sh: admin: no $want in its JSON" >&2; exit 1; }
  done
  if grep -qF payload_base64 <<<"$json"; then
    echo "check.sh: admin: an event rendered undecoded" >&2; exit 1
  fi
  grep -qE 'bank\.deposited .*"amount": ?100' <<<"$table" || { echo "check.sh: admin: table not decoded" >&2; exit 1; }
}

cmake --install "$build" --prefix "$work/prefix" >/dev/null
build_and_run find_package all -DCMAKE_PREFIX_PATH="$work/prefix"
check_admin "$work/find_package"
# Batched (unity) compiles: this variant builds the libraries from source once more, so
# only the example itself (the admin tool was checked above and would add the CLI's).
build_and_run add_subdirectory consumer -DANNAL_SOURCE_DIR="$src" -DANNAL_UNITY_BUILD=ON
echo "check.sh: both consumers built and ran the example" >&2
