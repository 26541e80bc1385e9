# bench/lib/measure.sh - running one command under GNU time and reading back
# what it printed. Sourced by bench/run.

# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are read by the files that source this one;
# `shellcheck -x bench/run` checks them together.)

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
  measure_read "$name" "$rc" "$@"
}

# measure_read NAME RC CMD...: sets M_WALL, M_RSS, M_CPU and M_OUT from NAME's
# files; fails, showing stderr, when RC (CMD's exit status) is not 0.
measure_read() {
  local name=$1 rc=$2; shift 2
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

# measure_bg NAME CMD...: measure's command started in the background (same
# files, same timeout); sets M_PID, the /usr/bin/time process. The caller
# polls it (poll_threads), waits for it and reads it back with measure_read.
measure_bg() {
  local name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/$name.time" \
    timeout --kill-after=10 "$TIMEOUT" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  M_PID=$!
}

# descendant_named PID NAME: the first process called NAME (its comm) at or
# below PID, looking four levels down (time, timeout, the tool); fails when
# there is none (yet).
descendant_named() {
  local level=("$1") next p c
  for _ in 1 2 3 4; do
    next=()
    for p in "${level[@]}"; do
      c=""
      { read -r c < "/proc/$p/comm"; } 2>/dev/null || true
      [ "$c" = "$2" ] && { echo "$p"; return 0; }
      mapfile -t -O "${#next[@]}" next < <(pgrep -P "$p" || true)
    done
    [ ${#next[@]} -gt 0 ] || return 1
    level=("${next[@]}")
  done
  return 1
}

# poll_threads PID...: until every PID (measure_bg's M_PID) has exited, every
# ~20 ms reads "Threads:" of the s3reconcile process below each and keeps the
# largest: THREADS_PEAK[i] for the i-th PID (0 when never seen). The loop ends
# when the processes are gone, which their timeout bounds; the iteration cap
# is a second bound (the timeout plus a minute, at 50 polls a second).
poll_threads() {
  local pids=("$@") tools=() i alive n k v t st tick fd
  THREADS_PEAK=()
  for i in "${!pids[@]}"; do THREADS_PEAK[i]=0; tools[i]=""; done
  # A FIFO opened read-write never has data: `read -t` on it is a sleep
  # without forking one 50 times a second beside the process measured.
  tick=$WORK/.poll-tick
  [ -p "$tick" ] || mkfifo "$tick"
  exec {fd}<> "$tick"
  for ((n = 0; n < (TIMEOUT + 60) * 50; n++)); do
    alive=0
    for i in "${!pids[@]}"; do
      # Gone, or a zombie not yet reaped (kill -0 would still succeed).
      st=""
      { read -r _ _ st _ < "/proc/${pids[i]}/stat"; } 2>/dev/null || true
      if [ -z "$st" ] || [ "$st" = Z ]; then continue; fi
      alive=1
      [ -n "${tools[i]}" ] || tools[i]=$(descendant_named "${pids[i]}" s3reconcile) || continue
      t=0
      { while read -r k v _; do
          [ "$k" = Threads: ] && { t=$v; break; }
        done < "/proc/${tools[i]}/status"; } 2>/dev/null || true
      [ "$t" -le "${THREADS_PEAK[i]}" ] || THREADS_PEAK[i]=$t
    done
    [ "$alive" = 1 ] || break
    read -r -t 0.02 -u "$fd" _ || true
  done
  exec {fd}<&-
}

# measure_threads NAME CMD...: measure, polling the peak thread count of the
# s3reconcile process CMD runs (M_THREADS; 0 when none was seen).
measure_threads() {
  local name=$1; shift
  local rc=0
  measure_bg "$name" "$@"
  poll_threads "$M_PID"
  wait "$M_PID" || rc=$?
  M_THREADS=${THREADS_PEAK[0]}
  measure_read "$name" "$rc" "$@"
}

# field NAME TEXT: the value of NAME=value in an s3r-bench report line.
field() { grep -o "\(^\| \)$1=[^ ]*" <<< "$2" | head -n 1 | cut -d= -f2; }

# jsum NAME JSON: the sum of every "NAME":number in JSON (one per pass).
# The passes' own counts only: each pass also reports its counts per bucket
# (a "buckets" array of flat objects), which would count them twice.
# shellcheck disable=SC2001  # a bracket expression, which ${//} has not
jsum() { sed 's/"buckets":\[[^]]*\]//g' <<< "$2" | { grep -o "\"$1\":[0-9]*" || true; } | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'; }
# jmax NAME JSON: the largest. Both give 0 when NAME is absent (a failed
# pass prints nothing), rather than failing the case under pipefail.
jmax() { { grep -o "\"$1\":[0-9]*" <<< "$2" || true; } | cut -d: -f2 | awk '$1 > m { m = $1 } END { print m + 0 }'; }

# write_config FILE ENDPOINT BUCKET DSN BACKEND [UNPREFIXED [EXTRA]]: a config
# reconciling the virtual bucket $VB (keys under $VB/) of BUCKET at ENDPOINT
# with the index DSN; unprefixed keys ignored unless UNPREFIXED says adopt.
# EXTRA, YAML appended as is (top-level keys the above lacks, e.g.
# "reconcile: {ranges: 128}").
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
  [ -z "${7:-}" ] || printf '%s\n' "$7" >> "$1"
}

# tool_pass NAME CONFIG [ARGS...]: one `s3reconcile run` (a real pass) with
# JSON output, by $PASS_TOOL (default $TOOL: PASS_TOOL=... tool_pass runs an
# older build). Sets P_SECONDS (the pass's own duration_ms, without process
# start and index open), P_WALL, P_RSS (KiB), P_CPU (user + system s),
# P_THREADS (peak thread count, polled every ~20 ms), P_LISTED, P_ROWS,
# P_IMPORTED, P_REMOVED, P_STATUS.
tool_pass() {
  local name=$1 config=$2; shift 2
  measure_threads "$name" "${PASS_TOOL:-$TOOL}" run --config "$config" --output json --log-level warn "$@" || true
  P_WALL=$M_WALL
  P_RSS=$M_RSS
  P_CPU=$M_CPU
  P_THREADS=$M_THREADS
  pass_fields "$M_OUT"
}

# pass_fields JSON: P_SECONDS, P_LISTED, P_ROWS, P_IMPORTED, P_REMOVED and
# P_STATUS from `s3reconcile run --output json`.
pass_fields() {
  P_SECONDS=$(calc "$(jmax duration_ms "$1") / 1000")
  P_LISTED=$(jsum listed "$1")
  P_ROWS=$(jsum rows "$1")
  P_IMPORTED=$(jsum imported "$1")
  P_REMOVED=$(jsum removed "$1")
  P_STATUS=$({ grep -o '"status":"[a-z_]*"' <<< "$1" || true; } | head -n 1 | cut -d'"' -f4)
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
