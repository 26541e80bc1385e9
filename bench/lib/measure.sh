# bench/lib/measure.sh - running one command under GNU time and reading back
# what it printed. Sourced by bench/run.

# measure NAME CMD...: runs CMD bounded by S3R_BENCH_TIMEOUT seconds, with
# stdout in $WORK/NAME.out and stderr in $WORK/NAME.err. Sets M_WALL (seconds,
# wall clock, process start included), M_RSS (peak resident KiB, from
# /usr/bin/time -f %M), M_CPU (user + system seconds) and M_OUT (stdout).
# Fails, showing stderr, when CMD does.
measure() {
  local name=$1; shift
  local rc=0
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/$name.time" \
    timeout --kill-after=10 "$TIMEOUT" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || rc=$?
  local user sys
  read -r M_WALL M_RSS user sys < <(tail -n 1 "$WORK/$name.time")
  M_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  M_OUT=$(cat "$WORK/$name.out")
  if [ "$rc" != 0 ]; then
    echo "bench: '$name' failed (exit $rc): $*" >&2
    tail -n 20 "$WORK/$name.err" >&2
    return "$rc"
  fi
}

# field NAME TEXT: the value of NAME=value in an s3r-bench report line.
field() { grep -o "\(^\| \)$1=[^ ]*" <<< "$2" | head -n 1 | cut -d= -f2; }

# jsum NAME JSON: the sum of every "NAME":number in JSON (one per pass).
# The passes' own counts only: each pass also reports its counts per bucket
# (a "buckets" array of flat objects), which would count them twice.
jsum() { sed 's/"buckets":\[[^]]*\]//g' <<< "$2" | grep -o "\"$1\":[0-9]*" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'; }
# jmax NAME JSON: the largest.
jmax() { grep -o "\"$1\":[0-9]*" <<< "$2" | cut -d: -f2 | awk '$1 > m { m = $1 } END { print m + 0 }'; }

# write_config FILE ENDPOINT BUCKET DSN BACKEND [UNPREFIXED]: a config
# reconciling the virtual bucket $VB (keys under $VB/) of BUCKET at ENDPOINT
# with the index DSN; unprefixed keys ignored unless UNPREFIXED says adopt.
write_config() {
  cat > "$1" <<YAML
store: {postgres: "$4"}
buckets: [$VB]
backends:
  - name: $5
    type: s3
    endpoint: $2
    region: us-east-1
    bucket: $3
    addressing: path
    buckets: [$VB]
    unprefixed_keys: ${6:-ignore}
    credentials: {access_key_env: S3R_TEST_ACCESS_KEY, secret_key_env: S3R_TEST_SECRET_KEY}
YAML
}

# tool_pass NAME CONFIG [ARGS...]: one `s3reconcile run` (a real pass) with
# JSON output. Sets P_SECONDS (the pass's own duration_ms, without process
# start and index open), P_WALL, P_RSS (KiB), P_LISTED, P_ROWS, P_IMPORTED,
# P_REMOVED, P_STATUS.
tool_pass() {
  local name=$1 config=$2; shift 2
  measure "$name" "$TOOL" run --config "$config" --output json --log-level warn "$@" || true
  P_WALL=$M_WALL
  P_RSS=$M_RSS
  P_CPU=$M_CPU
  P_SECONDS=$(calc "$(jmax duration_ms "$M_OUT") / 1000")
  P_LISTED=$(jsum listed "$M_OUT")
  P_ROWS=$(jsum rows "$M_OUT")
  P_IMPORTED=$(jsum imported "$M_OUT")
  P_REMOVED=$(jsum removed "$M_OUT")
  P_STATUS=$(grep -o '"status":"[a-z_]*"' <<< "$M_OUT" | head -n 1 | cut -d'"' -f4)
  [ -n "$P_STATUS" ] || P_STATUS=failed
}

# pass_checked N: "" when the last pass did exactly the work the data holds
# for N keys, otherwise what is wrong (shown in the table).
pass_checked() {
  local want_i want_r
  want_i=$(orphans "$1"); want_r=$(stale "$1")
  if [ "$P_STATUS" != ok ]; then echo "pass status $P_STATUS (see $WORK)";
  elif [ "$P_IMPORTED" != "$want_i" ] || [ "$P_REMOVED" != "$want_r" ]; then
    echo "WRONG COUNTS: imported $P_IMPORTED/$want_i removed $P_REMOVED/$want_r"
  fi
}
