# bench/lib/servers.sh - starting and stopping what the benchmark measures against:
# a throwaway PostgreSQL (scripts/pg-server), a throwaway radosgw
# (scripts/s3-server/rgw) and synthetic S3 endpoints (s3r-synthetic-s3).
# Sourced by bench/run; uses ROOT, WORK, BUILD and say().

SYNTH_PIDS=()

# A TCP port nobody listens on, 20000-29999 (other benchmarks and tests may run).
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 10000))
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null || { echo "$p"; return 0; }
  done
  echo "no free port found" >&2
  return 1
}

# Sets PG_DSN_BASE ("host=... port=... user=postgres") and PG_BIN.
start_postgres() {
  local port
  port=$(free_port)
  say "starting PostgreSQL on 127.0.0.1:$port"
  "$ROOT/scripts/pg-server" start "$WORK/pg" "$port" 2> "$WORK/pg-start.log" ||
    { cat "$WORK/pg-start.log" >&2; return 1; }
  # shellcheck disable=SC1091
  . "$WORK/pg/env"
  PG_BIN=$S3R_TEST_PG_BIN
  PG_PORT=$port
  PG_STARTED=1
}

# Sets RGW_ENDPOINT.
start_rgw() {
  local port
  port=$(free_port)
  say "starting radosgw on 127.0.0.1:$port (about a minute)"
  "$ROOT/scripts/s3-server/rgw" start "$WORK/rgw" "$port" 2> "$WORK/rgw-start.log" ||
    { cat "$WORK/rgw-start.log" >&2; return 1; }
  RGW_STARTED=1
  RGW_ENDPOINT=$(sed -n 's/^S3R_TEST_ENDPOINT=//p' "$WORK/rgw/env")
}

synthetic_binary() { echo "${S3R_BENCH_SYNTHETIC_BIN:-$BUILD/bench/synthetic_s3/s3r-synthetic-s3}"; }
have_synthetic() { [ -x "$(synthetic_binary)" ]; }

# start_synthetic KEYS LATENCY_MS: a synthetic endpoint holding KEYS keys under
# $VB/ in bucket "bench", each request delayed LATENCY_MS. Sets SYNTH_ENDPOINT
# and SYNTH_PID. Waits (at most 60 s) for its "listening on" line.
start_synthetic() {
  local keys=$1 latency=$2 port log i
  port=$(free_port)
  log=$WORK/synthetic-$keys-$latency.log
  "$(synthetic_binary)" --listen "127.0.0.1:$port" --bucket bench --keys "$keys" --key-prefix "$VB/" \
    --latency-ms "$latency" --threads 1024 --access-key "$S3R_TEST_ACCESS_KEY" --secret-key "$S3R_TEST_SECRET_KEY" \
    > "$log" 2>&1 &
  SYNTH_PID=$!
  SYNTH_PIDS+=("$SYNTH_PID")
  for ((i = 0; i < 600; i++)); do
    if grep -q "listening on" "$log" 2>/dev/null; then
      SYNTH_ENDPOINT="http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$SYNTH_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "synthetic endpoint did not start:" >&2
  cat "$log" >&2
  return 1
}

stop_synthetic() {
  local pid=${1:-${SYNTH_PID:-}} i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Everything started, stopped; bounded by the stop scripts' own timeouts.
stop_all() {
  local pid
  for pid in "${SYNTH_PIDS[@]}"; do stop_synthetic "$pid"; done
  [ "${RGW_STARTED:-0}" = 1 ] && { "$ROOT/scripts/s3-server/rgw" stop "$WORK/rgw" 2>/dev/null || true; }
  [ "${PG_STARTED:-0}" = 1 ] && { "$ROOT/scripts/pg-server" stop "$WORK/pg" 2>/dev/null || true; }
  return 0
}
