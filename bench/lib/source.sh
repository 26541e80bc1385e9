# bench/lib/source.sh - the S3 side of figures 1, 2, 3, 5 and 8: the synthetic
# endpoint (any number of keys, injected latency), or, while it is not built,
# a radosgw bucket loaded with the same keys as a stand-in for small runs.
# Sourced by bench/run.

# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are read by the files that source this one;
# `shellcheck -x bench/run` checks them together.)

# source_up KEYS LATENCY_MS: sets SRC_ENDPOINT, SRC_BUCKET and SRC_NOTE (why
# the figure may not be what the issue asks, or ""). Fails when neither the
# synthetic endpoint nor the stand-in can serve KEYS keys.
source_up() {
  local keys=$1 latency=$2
  SRC_NOTE=""
  if have_synthetic; then
    start_synthetic "$keys" "$latency"
    SRC_ENDPOINT=$SYNTH_ENDPOINT
    SRC_BUCKET=bench
    return 0
  fi
  if [ "$keys" -gt "$FALLBACK_MAX" ]; then
    SRC_NOTE="n/a: $(synthetic_binary) not built, and $keys keys is too many for the radosgw stand-in (S3R_BENCH_FALLBACK_MAX=$FALLBACK_MAX)"
    return 1
  fi
  [ -n "${RGW_ENDPOINT:-}" ] || { SRC_NOTE="n/a: radosgw stand-in not running"; return 1; }
  SRC_ENDPOINT=$RGW_ENDPOINT
  SRC_BUCKET=fb-$keys
  if [ ! -e "$WORK/loaded-$SRC_BUCKET" ]; then
    say "loading $keys objects into radosgw bucket $SRC_BUCKET (stand-in for the synthetic endpoint)"
    measure "load-$SRC_BUCKET" "$BENCH_TOOL" load --endpoint "$RGW_ENDPOINT" --bucket "$SRC_BUCKET" \
      --count "$keys" --prefix "$VB/" --threads 32
    touch "$WORK/loaded-$SRC_BUCKET"
  fi
  SRC_NOTE="radosgw stand-in (synthetic endpoint not built)"
  [ "$latency" = 0 ] || SRC_NOTE="$SRC_NOTE, NO injected latency"
  return 0
}

source_down() {
  if have_synthetic; then stop_synthetic "$SYNTH_PID"; fi
  return 0
}
