#!/usr/bin/env bash
# Prints figures of every full bench run kept in bench/RESULTS.md's history, newest first: one line a run, with its
# date, the commit that recorded it and each figure asked for ("-" where that run lacks it). Quick runs are left out.
# The README's ranges "over N earlier runs" come from it.
# Usage: bench/history.sh FIGURE [FIGURE...]    e.g. bench/history.sh dsm.cached.read_random local.read_random
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
  echo "usage: bench/history.sh FIGURE [FIGURE...]   (names as in bench/RESULTS.md, e.g. dsm.get.p50)" >&2
  exit 2
fi

found=0
for commit in $(git log --format=%h -- bench/RESULTS.md); do
  line=$(git show "$commit:bench/RESULTS.md" | awk -v commit="$commit" -v names="$*" '
    BEGIN { count = split(names, wanted, " ") }
    /^- Command: / && /--quick/ { quick = 1 }
    /^- Date: / { date = $3 " " $4 }
    # A figure row: | `name` | value | unit | conditions |
    /^\| `[^`]+` \|/ { name = $2; gsub(/`/, "", name); value[name] = $4 }
    END {
      if (quick) exit
      out = date " " commit; any = 0
      for (i = 1; i <= count; i++) {
        if (wanted[i] in value) { out = out " " value[wanted[i]]; any = 1 } else out = out " -"
      }
      if (any) print out
    }')
  if [ -n "$line" ]; then echo "$line"; found=1; fi
done

if [ "$found" -eq 0 ]; then
  echo "bench/history.sh: no full run in bench/RESULTS.md's history has any of: $*" >&2
  exit 1
fi
