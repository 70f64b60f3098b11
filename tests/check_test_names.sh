#!/usr/bin/env bash
# ctest runs each Catch test case by name (catch_discover_tests); a ';' in a name splits it
# into ctest entries that match no test case and pass without running anything. Lists every
# TEST_CASE name under DIR that holds one, and fails if there is any.
#
#   tests/check_test_names.sh DIR
set -euo pipefail
literal='"(?:[^"\\]|\\.)*"'
names=$(grep -rPzo --include='*.cpp' "TEST_CASE(?:_METHOD)?\((?:\w+,\s*)?$literal(?:\s*$literal)*" "$1" \
          | tr '\0' '\n' || true)
[ -n "$names" ] || { echo "check_test_names.sh: no test case found under $1" >&2; exit 1; }
bad=$(grep -a ';' <<<"$names" || true)
if [ -n "$bad" ]; then
  echo "check_test_names.sh: test case names with ';' (ctest would not run them):" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check_test_names.sh: $(grep -c 'TEST_CASE' <<<"$names") test case names, none with ';'"
