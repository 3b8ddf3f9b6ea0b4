#!/bin/bash
# The short fuzz run of `make check`: every target, 300 s in all (clang).
#   tests/fuzz/run_short.sh BUILD
exec "$(dirname "$0")/run.sh" "${1:?usage: $0 BUILD}" 300
