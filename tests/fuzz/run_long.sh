#!/bin/bash
# A long fuzz run (`make fuzz`): every target, HOURS in all, one at a time.
#   tests/fuzz/run_long.sh BUILD HOURS
set -e
build=${1:?usage: $0 BUILD HOURS}
hours=${2:?usage: $0 BUILD HOURS}
case $hours in *[!0-9]* | '') echo "HOURS must be a whole number" >&2; exit 2 ;; esac
exec "$(dirname "$0")/run.sh" "$build" $((hours * 3600))
