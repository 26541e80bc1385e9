# scripts/lib/servers.sh - what every throwaway-server script shares. Sourced by
# scripts/pg-server, scripts/s3-server/{rgw,swift,synthetic}, scripts/test and bench/;
# sets PROG (the sourcing script's name) and S3R_ROOT (the repository).
# shellcheck shell=bash

PROG=$(basename "$0")
S3R_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

# The script's header comment, lines 2..$1, as its usage; exit 2.
usage_from_header() { sed -n "2,${1}p" "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

die() { echo "$PROG: $*" >&2; exit 1; }

# Whether something accepts connections on 127.0.0.1:$1.
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Dies unless $2 is a port (1..65535) nothing listens on; $1 names it in messages.
require_free_port() {
  [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 65535 ] || die "bad $1 '$2'"
  ! port_busy "$2" || die "127.0.0.1:$2 ($1) is already in use"
}

# A port nothing listens on right now: the first from $1 upwards (200 tries), or,
# without $1, a random one in 20000-29999. The one free-port helper of the scripts.
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    if [ -n "${1:-}" ]; then p=$(($1 + i)); else p=$((20000 + RANDOM % 10000)); fi
    port_busy "$p" || { echo "$p"; return 0; }
  done
  echo "$PROG: no free port found${1:+ from $1}" >&2
  return 1
}

# Dies unless each argument (keys, region) uses only [A-Za-z0-9._+/=-]: they end up
# in config files and shell-sourceable env files unquoted.
check_plain_values() {
  local v
  for v; do
    [[ $v =~ ^[A-Za-z0-9._+/=-]+$ ]] || die "credentials/region may only use [A-Za-z0-9._+/=-]: '$v'"
  done
}

# Makes folder $1 if needed and prints its absolute path; dies unless it is empty.
fresh_dir() {
  local d
  mkdir -p "$1"
  d=$(cd "$1" && pwd -P)
  [ -z "$(ls -A "$d")" ] || die "$d is not empty (run '$PROG stop $d' and remove it first)"
  echo "$d"
}

# Installs Debian packages "$@" with apt-get, bounded in time, with sudo unless root.
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$PROG: installing $* from Debian ..." >&2
  timeout 300 $sudo apt-get update -q >&2 || echo "$PROG: apt-get update failed, trying the install anyway" >&2
  DEBIAN_FRONTEND=noninteractive timeout 900 $sudo apt-get install -y -q --no-install-recommends "$@" >&2 ||
    die "apt-get install $* failed"
}

# Prints the report of a failed start on stderr: what was being done ($1), the exit
# code ($2), and the last lines of each non-empty log file that follows.
report_failed_start() {
  local step=$1 rc=$2 f
  shift 2
  {
    echo "$PROG: start FAILED while $step (exit $rc)"
    for f; do
      [ -s "$f" ] || continue
      echo "---- last lines of $f"
      tail -n 20 "$f"
    done
  } >&2
}
