# bench/lib/table.sh - the one table bench/run prints at the end: a row per
# figure with what was measured, the target, whether it was met, and the
# numbers the ratio came from. Sourced by bench/run.

# shellcheck shell=bash

# Each case runs in a subshell (so that `set -e` holds inside it): rows go to
# a file, not a variable.
# row FIGURE CASE MEASURED TARGET VERDICT [DETAIL]
row() { printf '%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >> "$WORK/rows"; }

# calc AWK-EXPRESSION: a number with 2 decimals.
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
# check AWK-CONDITION: "met" or "NOT met".
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT met"; fi; }
mib() { calc "$1 / 1024"; }
# calc0 AWK-EXPRESSION: a whole number.
calc0() { awk "BEGIN { printf \"%.0f\", $1 }"; }

print_table() {
  {
    printf '| fig | case | measured | target | verdict | detail |\n'
    printf '| --- | --- | --- | --- | --- | --- |\n'
    [ -f "$WORK/rows" ] && while IFS='|' read -r f c m t v d; do
      printf '| %s | %s | %s | %s | %s | %s |\n' "$f" "$c" "$m" "$t" "$v" "$d"
    done < "$WORK/rows"
  } | tee "$RESULTS"
}
