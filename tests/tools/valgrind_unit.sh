#!/bin/bash
# Runs every unit test (tests/unit/test_*.c) of a normal build (not the
# sanitizer one: valgrind and ASan do not mix) under valgrind's memcheck, and
# fails on any memory error or definite/indirect leak, in the test or in a child
# it forks. tests/tools/valgrind.supp lists what is not vigie's (ld.so, PCRE2 JIT).
#   tests/tools/valgrind_unit.sh BUILD [TEST...]
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?usage: $0 BUILD [TEST...]}" && pwd) || exit 2
shift
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 2; }
if grep -q '^VIGIE_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null ||
   grep -q '^VIGIE_FUZZ:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "$BUILD is a sanitizer build: give a normal one" >&2
    exit 2
fi
if [ $# -gt 0 ]; then
    tests="$*"
else
    tests=$(cd "$SRC/tests/unit" && ls test_*.c | sed 's/\.c$//')
fi
logs=$BUILD/valgrind
mkdir -p "$logs"
failed=""
t0=$(date +%s)
for t in $tests; do
    [ -x "$BUILD/$t" ] || { echo "$t: not built in $BUILD" >&2; failed="$failed $t"; continue; }
    s=$(date +%s)
    # The sandbox test checks that a confined child is killed for a forbidden
    # system call: valgrind's own calls would be filtered too, so its children
    # are not traced (the parent, and everything it allocates, still is).
    children=yes
    [ "$t" = test_sandbox ] && children=no
    (cd "$BUILD" && valgrind --quiet --suppressions="$SRC/tests/tools/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        --trace-children=$children --child-silent-after-fork=no --track-fds=no \
        --log-file="$logs/$t.%p.log" "./$t") >"$logs/$t.out" 2>&1
    rc=$?
    e=$(($(date +%s) - s))
    if [ $rc -ne 0 ]; then
        echo "$t: FAILED (exit $rc, ${e} s): $logs/$t.*"
        failed="$failed $t"
    else
        echo "$t: ok (${e} s)"
    fi
done
echo "valgrind: $(($(date +%s) - t0)) s in all"
if [ -n "$failed" ]; then
    echo "valgrind: failures in:$failed" >&2
    exit 1
fi
