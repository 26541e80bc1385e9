# bench/lib/servers.sh - starting and stopping what the benchmark measures against:
# a throwaway PostgreSQL (scripts/pg-server), a throwaway radosgw
# (scripts/s3-server/rgw) and synthetic S3 endpoints (s3r-synthetic-s3).
# Sourced by bench/run; uses ROOT, WORK, BUILD and say().

# shellcheck shell=bash disable=SC2034,SC2119
# (SC2034: the variables set here are read by the files that source this one;
# `shellcheck -x bench/run` checks them together. SC2119: free_port's
# argument is optional, a random port without it.)

SYNTH_PIDS=()

# free_port (a port nobody listens on, 20000-29999): scripts/lib/servers.sh.
# shellcheck source=scripts/lib/servers.sh
. "$ROOT/scripts/lib/servers.sh"

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

# pg_ensure_connections N: PostgreSQL's max_connections raised to at least N,
# restarting the server (scripts/pg-server sets 200; figure 8's two instances
# of 64 workers hold three connections each). Data and port stay; the restart
# runs as the user owning the data, as scripts/pg-server runs it.
pg_ensure_connections() {
  local want=$1 have data=$WORK/pg/data user
  have=$(pg_sql postgres -At -c "SHOW max_connections")
  [ "$have" -lt "$want" ] || return 0
  say "raising PostgreSQL's max_connections from $have to $want (a restart)"
  pg_sql postgres -c "ALTER SYSTEM SET max_connections = $want"
  user=$(stat -c %U "$data")
  local cmd=(timeout --kill-after=5 150 "$PG_BIN/pg_ctl" -D "$data" -l "$WORK/pg/log/postgres.log"
    -w -t 120 restart -m fast)
  if [ "$(id -u)" -ne 0 ] || [ "$user" = "$(id -un)" ]; then
    (cd / && "${cmd[@]}") > "$WORK/pg-restart.log" 2>&1
  else
    (cd / && runuser -u "$user" -- "${cmd[@]}") > "$WORK/pg-restart.log" 2>&1
  fi || { cat "$WORK/pg-restart.log" >&2; return 1; }
  have=$(pg_sql postgres -At -c "SHOW max_connections")
  [ "$have" -ge "$want" ] || { echo "max_connections is $have after the restart, not $want" >&2; return 1; }
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

synthetic_binary() { echo "${S3R_SYNTHETIC_S3:-$BUILD/bench/synthetic_s3/s3r-synthetic-s3}"; }
have_synthetic() { [ -x "$(synthetic_binary)" ]; }

# start_synthetic KEYS LATENCY_MS: a synthetic endpoint holding KEYS keys under
# $VB/ in bucket "bench", each request delayed LATENCY_MS, started the one way
# every script starts it (scripts/s3-server/synthetic, binary $S3R_SYNTHETIC_S3).
# Sets SYNTH_ENDPOINT and SYNTH_PID (the folder the script keeps it in).
start_synthetic() {
  local keys=$1 latency=$2 port dir
  port=$(free_port)
  dir=$WORK/synthetic-$keys-$latency-$port
  S3R_SYNTHETIC_S3=$(synthetic_binary) "$ROOT/scripts/s3-server/synthetic" start "$dir" "$port" \
    --bucket bench --keys "$keys" --key-prefix "$VB/" --latency-ms "$latency" --threads 1024 \
    2> "$WORK/synthetic-start.log" || { cat "$WORK/synthetic-start.log" >&2; return 1; }
  SYNTH_ENDPOINT="http://127.0.0.1:$port"
  SYNTH_PID=$dir
  SYNTH_PIDS+=("$dir")
}

# stop_synthetic [DIR]: stops the endpoint started in DIR (default: the last one).
stop_synthetic() {
  local dir=${1:-${SYNTH_PID:-}}
  [ -n "$dir" ] || return 0
  "$ROOT/scripts/s3-server/synthetic" stop "$dir" 2>/dev/null || true
}

# Everything started, stopped; bounded by the stop scripts' own timeouts.
stop_all() {
  local pid
  for pid in "${SYNTH_PIDS[@]}"; do stop_synthetic "$pid"; done  # folders, not pids
  [ "${RGW_STARTED:-0}" = 1 ] && { "$ROOT/scripts/s3-server/rgw" stop "$WORK/rgw" 2>/dev/null || true; }
  [ "${PG_STARTED:-0}" = 1 ] && { "$ROOT/scripts/pg-server" stop "$WORK/pg" 2>/dev/null || true; }
  return 0
}
