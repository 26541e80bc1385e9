# bench/lib/cases.sh - the figures of the performance issue, one function
# each. bench/run calls each in a subshell with `set -e`; each adds its rows
# with row(). Sourced by bench/run.

# shellcheck shell=bash

# The database n<N>, seeded once per run for N keys (backend "synth").
ensure_db() {
  [ -e "$WORK/seeded-n$1" ] && return 0
  say "seeding PostgreSQL database n$1 ($1 keys, 1% orphans, 1% stale rows)"
  seed_index "n$1" "$1" synth
  touch "$WORK/seeded-n$1"
}

# A config for the current source and the database of N keys.
source_config() {
  write_config "$WORK/$2.yaml" "$SRC_ENDPOINT" "$SRC_BUCKET" "$(pg_dsn "n$1")" synth
  echo "$WORK/$2.yaml"
}

min_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }

# 1. Peak RSS of a pass at each size: flat, under 64 MiB at the largest.
fig1() {
  local n cfg note first="" last="" last_n=""
  for n in $SIZES; do
    if ! source_up "$n" 0; then
      row 1 "peak RSS, pass at $n keys" n/a "flat" n/a "$SRC_NOTE"
      continue
    fi
    ensure_db "$n"
    cfg=$(source_config "$n" "fig1-$n")
    say "figure 1: pass at $n keys"
    tool_pass "fig1-pass-$n" "$cfg"
    source_down
    restore_drift "n$n" "$n" synth
    note=$(pass_checked "$n")
    row 1 "peak RSS, pass at $n keys" "$(mib "$P_RSS") MiB" "flat" "-" \
      "pass ${P_SECONDS} s${note:+; $note}${SRC_NOTE:+; $SRC_NOTE}"
    first=${first:-$P_RSS}
    last=$P_RSS
    last_n=$n
  done
  [ -n "$last" ] || return 0
  row 1 "peak RSS: largest / smallest size; at $last_n keys" \
    "$(calc "$last / $first")x; $(mib "$last") MiB" "<= 1.5x (flat); < 64 MiB at 10,000,000" \
    "$(verdict "$last <= 1.5 * $first && $last < 65536")" \
    "$( [ "$last_n" -ge 10000000 ] || echo "largest size run: $last_n (S3R_BENCH_MAX_KEYS/QUICK)")"
}

# 2. The tool's CPU for a pass: per key, and against its two sides alone
# (lister alone + index cursor alone), at zero latency, so that the pass is
# paced by CPU. With S3R_BENCH_BEFORE_DIR (an older build's s3reconcile and
# s3r-bench), the same three are run with those binaries in each round, side
# by side. CPU is user + system of the process (GNU time), the smallest of
# the rounds; wall seconds are kept as detail only.
fig2() {
  local n=$PASS_KEYS cfg r s before=${S3R_BENCH_BEFORE_DIR:-}
  local list="" index="" pass="" list_cpu="" index_cpu="" pass_cpu="" clean_cpu=""
  local b_list_cpu="" b_index_cpu="" b_pass_cpu="" b_pass="" b_note="" sides per_key b_per_key
  local what="$n keys (synthetic endpoint, PostgreSQL, 1% drift each way)"
  if ! source_up "$n" 0; then
    row 2 "tool CPU per key, full pass, $what" n/a "<= 1.5 µs" n/a "$SRC_NOTE"
    row 2 "pass CPU / (lister alone CPU + index alone CPU), $n keys" n/a "<= 1.3" n/a "$SRC_NOTE"
    return 0
  fi
  if [ -n "$before" ] && { [ ! -x "$before/s3reconcile" ] || [ ! -x "$before/s3r-bench" ]; }; then
    echo "S3R_BENCH_BEFORE_DIR=$before holds no executable s3reconcile and s3r-bench" >&2
    return 1
  fi
  ensure_db "$n"
  cfg=$(source_config "$n" "fig2")
  for ((r = 1; r <= REPEAT; r++)); do
    say "figure 2: round $r of $REPEAT at $n keys (lister alone, index alone, pass${before:+; then the same with $before})"
    measure "fig2-list-$r" "$BENCH_TOOL" list --endpoint "$SRC_ENDPOINT" --bucket "$SRC_BUCKET" --prefix "$VB/"
    [ "$(field keys "$M_OUT")" = "$n" ] || { echo "lister saw $(field keys "$M_OUT") keys, not $n" >&2; return 1; }
    list=$(min_of "$list" "$(field seconds "$M_OUT")")
    list_cpu=$(min_of "$list_cpu" "$M_CPU")
    measure "fig2-index-$r" "$BENCH_TOOL" index --dsn "$(pg_dsn "n$n")" --backend synth --bucket "$VB"
    index=$(min_of "$index" "$(field seconds "$M_OUT")")
    index_cpu=$(min_of "$index_cpu" "$M_CPU")
    tool_pass "fig2-pass-$r" "$cfg"
    s=$(pass_checked "$n")
    [ -z "$s" ] || { echo "$s" >&2; return 1; }
    pass=$(min_of "$pass" "$P_SECONDS")
    pass_cpu=$(min_of "$pass_cpu" "$P_CPU")
    # The same pass again, with nothing left to change: no HEAD, no write;
    # what the pass costs beside its two sides.
    tool_pass "fig2-clean-pass-$r" "$cfg"
    [ "$P_IMPORTED" = 0 ] && [ "$P_REMOVED" = 0 ] || { echo "second pass changed rows: +$P_IMPORTED -$P_REMOVED" >&2; return 1; }
    clean_cpu=$(min_of "$clean_cpu" "$P_CPU")
    restore_drift "n$n" "$n" synth
    [ -n "$before" ] || continue
    # The older build, same data, same drift (restored after its pass too).
    measure "fig2-before-list-$r" "$before/s3r-bench" list --endpoint "$SRC_ENDPOINT" --bucket "$SRC_BUCKET" --prefix "$VB/"
    b_list_cpu=$(min_of "$b_list_cpu" "$M_CPU")
    measure "fig2-before-index-$r" "$before/s3r-bench" index --dsn "$(pg_dsn "n$n")" --backend synth --bucket "$VB"
    b_index_cpu=$(min_of "$b_index_cpu" "$M_CPU")
    PASS_TOOL=$before/s3reconcile tool_pass "fig2-before-pass-$r" "$cfg"
    restore_drift "n$n" "$n" synth
    s=$(pass_checked "$n")
    [ -z "$s" ] || b_note="before's pass: $s"
    b_pass=$(min_of "$b_pass" "$P_SECONDS")
    b_pass_cpu=$(min_of "$b_pass_cpu" "$P_CPU")
  done
  # What the pass's HEADs cost at the least: its n/100 confirmations of stale
  # rows sent by the product's client, and pre-signed on plain sockets.
  local heads=$((n / 100)) head_product="" head_floor=""
  for ((r = 1; r <= REPEAT; r++)); do
    say "figure 2: round $r of $REPEAT, $heads HEADs with the product's client, then on plain sockets"
    measure "fig2-head-product-$r" "$BENCH_TOOL" head --endpoint "$SRC_ENDPOINT" --bucket "$SRC_BUCKET" \
      --count "$heads" --batch 8 --client product
    head_product=$(min_of "$head_product" "$(field cpu_us_per_head "$M_OUT")")
    measure "fig2-head-sockets-$r" "$BENCH_TOOL" head --endpoint "$SRC_ENDPOINT" --bucket "$SRC_BUCKET" \
      --count "$heads" --batch 8 --client sockets
    head_floor=$(min_of "$head_floor" "$(field cpu_us_per_head "$M_OUT")")
  done
  source_down
  row 2 "CPU per HEAD: the product's client; pre-signed on plain sockets (the floor)" \
    "$head_product µs; $head_floor µs" "-" "-" \
    "$heads HEADs of absent keys, 8 at a time on 8 keep-alive connections, smallest of $REPEAT; at the floor the $heads confirmations of the pass's stale rows (SPEC section 6) cost $(calc "$head_floor * $heads / $n") µs per key of the pass"
  per_key=$(awk -v c="$pass_cpu" -v n="$n" 'BEGIN { printf "%.3f", c * 1e6 / n }')
  sides=$(calc "$list_cpu + $index_cpu")
  row 2 "tool CPU per key, full pass, $what" "$per_key µs" "<= 1.5 µs" \
    "$(verdict "$per_key <= 1.5")" \
    "pass CPU ${pass_cpu} s (user + system, smallest of $REPEAT rounds) / $n keys; pass ${pass} s wall (its duration_ms, best of $REPEAT)${SRC_NOTE:+; $SRC_NOTE}"
  row 2 "pass CPU / (lister alone CPU + index alone CPU), $n keys" \
    "$(awk -v p="$pass_cpu" -v s="$sides" 'BEGIN { if (s > 0) printf "%.2f", p / s; else print "n/a" }')" "<= 1.3" \
    "$(verdict "$sides > 0 && $pass_cpu <= 1.3 * $sides")" \
    "CPU (smallest of $REPEAT): pass ${pass_cpu} s, lister alone ${list_cpu} s, index alone ${index_cpu} s; wall (best of $REPEAT): pass ${pass} s, lister ${list} s, index ${index} s, on 2 cores shared with the endpoint and PostgreSQL"
  row 2 "the same without drift (a second pass: no HEAD, nothing written): CPU per key; / (lister + index)" \
    "$(awk -v c="$clean_cpu" -v n="$n" -v s="$sides" 'BEGIN { printf "%.3f µs; %.2f", c * 1e6 / n, (s > 0 ? c / s : 0) }')" \
    "-" "-" "pass CPU ${clean_cpu} s (smallest of $REPEAT)"
  [ -n "$before" ] || return 0
  b_per_key=$(awk -v c="$b_pass_cpu" -v n="$n" 'BEGIN { printf "%.3f", c * 1e6 / n }')
  row 2 "before ($before): tool CPU per key, full pass, $n keys" "$b_per_key µs" "-" "-" \
    "pass CPU ${b_pass_cpu} s (smallest of $REPEAT), ${b_pass} s wall; lister alone ${b_list_cpu} s CPU, index alone ${b_index_cpu} s CPU${b_note:+; $b_note}"
  row 2 "after: tool CPU per key, full pass, $n keys" "$per_key µs" "-" "-" \
    "pass CPU ${pass_cpu} s (smallest of $REPEAT), ${pass} s wall; lister alone ${list_cpu} s CPU, index alone ${index_cpu} s CPU"
  row 2 "CPU per key, before / after" \
    "$(awk -v b="$b_pass_cpu" -v a="$pass_cpu" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "n/a" }')" \
    ">= 3x (a third)" "$(verdict "$pass_cpu > 0 && $b_pass_cpu >= 3 * $pass_cpu")" \
    "before ${b_pass_cpu} s, after ${pass_cpu} s of CPU for the same pass over $n keys${b_note:+; $b_note}"
}

# 3. K parallel ranges under injected latency (default 80 ms, what AWS takes
# to answer a 1000-key page): speed-up of K=32 over K=1, and the peak thread
# count of each pass, which should follow K, not the number of pages.
fig3() {
  local n=$PAR_KEYS cfg k t1="" t32="" th1="" th32="" note pages
  pages=$(( (n + 999) / 1000 ))
  if ! source_up "$n" "$LATENCY"; then row 3 "speed-up K=32 over K=1" n/a ">= 12" n/a "$SRC_NOTE"; return 0; fi
  ensure_db "$n"
  cfg=$(source_config "$n" "fig3")
  for k in $PARALLELISM; do
    if [ "$HAVE_PARALLELISM" != 1 ] && [ "$k" != 1 ]; then
      row 3 "pass, K=$k, ${LATENCY} ms latency, $n keys" n/a "" n/a "s3reconcile run has no --parallelism yet"
      continue
    fi
    say "figure 3: pass with K=$k at $n keys, ${LATENCY} ms per request"
    if [ "$HAVE_PARALLELISM" = 1 ]; then
      tool_pass "fig3-k$k" "$cfg" --parallelism "$k"
    else
      tool_pass "fig3-k$k" "$cfg"
    fi
    restore_drift "n$n" "$n" synth
    note=$(pass_checked "$n")
    [ "$k" = 1 ] && { t1=$P_SECONDS; th1=$P_THREADS; }
    [ "$k" = 32 ] && { t32=$P_SECONDS; th32=$P_THREADS; }
    row 3 "pass, K=$k, ${LATENCY} ms latency, $n keys" "$P_SECONDS s" "" "-" \
      "$( [ -n "$t1" ] && echo "speed-up $(calc "$t1 / $P_SECONDS")x over K=1; ")peak threads $P_THREADS; tool CPU ${P_CPU} s of 2 cores shared with the endpoint and PostgreSQL${note:+; $note}${SRC_NOTE:+; $SRC_NOTE}"
  done
  source_down
  if [ -n "$t1" ] && [ -n "$t32" ]; then
    row 3 "speed-up K=32 over K=1" "$(calc "$t1 / $t32")x" ">= 12" "$(verdict "$t1 >= 12 * $t32")" \
      "K=1 $t1 s, K=32 $t32 s (the passes' duration_ms)${SRC_NOTE:+; $SRC_NOTE}"
  else
    row 3 "speed-up K=32 over K=1" n/a ">= 12" n/a "K=1 or K=32 not run (S3R_BENCH_PARALLELISM)"
  fi
  # Threads, polled every ~20 ms from /proc/PID/status. A thread per page (or
  # per request in flight beyond K) would show as a count near the pages of
  # the pass; threads per range only grow with K. Met at K=32 when it uses no
  # more than 32 times the K=1 pass's threads and fewer than the pages.
  if [ -n "$th1" ]; then
    row 3 "peak threads of a pass, K=1" "$th1" "bounded (independent of pages)" "-" \
      "$n keys = $pages pages of 1000; polled every ~20 ms"
  else
    row 3 "peak threads of a pass, K=1" n/a "bounded (independent of pages)" n/a "K=1 not run"
  fi
  if [ -n "$th32" ] && [ -n "$th1" ] && [ "$th1" -gt 0 ]; then
    row 3 "peak threads of a pass, K=32" "$th32" "bounded (independent of pages)" \
      "$(verdict "$th32 <= 32 * $th1 && $th32 < $pages")" \
      "judged: <= 32 x K=1's $th1 (threads per range, not per page) and < the $pages pages; $(calc "($th32 - $th1) / 31") more threads per added range"
  else
    row 3 "peak threads of a pass, K=32" "${th32:-n/a}" "bounded (independent of pages)" n/a "K=1 or K=32 not run, or no thread count seen"
  fi
}

# 4. Importing orphans: batched against one statement per row.
fig4() {
  local m=$IMPORT_ROWS batched single fast_batched fast_single
  pg_sql postgres -c "CREATE DATABASE imports"
  "$BENCH_TOOL" index --dsn "$(pg_dsn imports)" --backend none --bucket "$VB" > /dev/null
  # First with PostgreSQL's own defaults (fsync and synchronous_commit on:
  # each commit waits for the disk, as on any index worth keeping), then
  # with the throwaway server's fsync off, where a commit costs nothing.
  pg_sql postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "SELECT pg_reload_conf()"
  say "figure 4: importing $m rows batched, then one statement per row (durable commits)"
  measure fig4-batched "$BENCH_TOOL" import --dsn "$(pg_dsn imports)" --backend imp-batched --count "$m" --mode batched
  batched=$(field seconds "$M_OUT")
  measure fig4-single "$BENCH_TOOL" import --dsn "$(pg_dsn imports)" --backend imp-single --count "$m" --mode single
  single=$(field seconds "$M_OUT")
  pg_sql postgres -c "ALTER SYSTEM RESET fsync" -c "ALTER SYSTEM RESET synchronous_commit" -c "SELECT pg_reload_conf()"
  say "figure 4: the same with fsync off"
  measure fig4-batched-nofsync "$BENCH_TOOL" import --dsn "$(pg_dsn imports)" --backend imp-batched-nf --count "$m" --mode batched
  fast_batched=$(field seconds "$M_OUT")
  measure fig4-single-nofsync "$BENCH_TOOL" import --dsn "$(pg_dsn imports)" --backend imp-single-nf --count "$m" --mode single
  fast_single=$(field seconds "$M_OUT")
  row 4 "import $m orphans: one per row / batched (durable commits)" "$(calc "$single / $batched")x" ">= 20x" \
    "$(verdict "$single >= 20 * $batched")" "one per row $single s, batched (500/transaction) $batched s"
  row 4 "the same with fsync off" "$(calc "$fast_single / $fast_batched")x" "-" "-" \
    "one per row $fast_single s, batched $fast_batched s"
}

# 5. The upstream design (hash sets of both sides) beside the merge.
fig5() {
  local n=$HASH_KEYS cfg hs hs_rss
  if ! source_up "$n" 0; then row 5 "hash sets vs merge at $n keys" n/a "side by side" n/a "$SRC_NOTE"; return 0; fi
  ensure_db "$n"
  cfg=$(source_config "$n" "fig5")
  say "figure 5: merge pass, then the hash-set design, at $n keys"
  tool_pass fig5-pass "$cfg"
  restore_drift "n$n" "$n" synth
  measure fig5-hashset "$BENCH_TOOL" hashset --endpoint "$SRC_ENDPOINT" --bucket "$SRC_BUCKET" \
    --dsn "$(pg_dsn "n$n")" --backend synth --vbucket "$VB"
  restore_drift "n$n" "$n" synth
  source_down
  hs=$(field seconds "$M_OUT")
  hs_rss=$M_RSS
  [ "$(field imported "$M_OUT")" = "$P_IMPORTED" ] && [ "$(field removed "$M_OUT")" = "$P_REMOVED" ] ||
    echo "hash sets made different changes: $M_OUT" >&2
  row 5 "merge pass (s3reconcile), $n keys" "$P_SECONDS s, $(mib "$P_RSS") MiB" "side by side" "-" \
    "imported $P_IMPORTED, removed $P_REMOVED${SRC_NOTE:+; $SRC_NOTE}"
  row 5 "hash sets (upstream design), $n keys" "$hs s, $(mib "$hs_rss") MiB" "side by side" "-" \
    "time $(calc "$hs / $P_SECONDS")x, peak RSS $(calc "$hs_rss / $P_RSS")x the merge's; imported $(field imported "$M_OUT"), removed $(field removed "$M_OUT")"
}

# Loads N objects under $VB/ into radosgw bucket "bench" and seeds database
# rgw for them, once per run.
load_rgw() {
  [ -e "$WORK/rgw-loaded" ] && return 0
  say "loading $1 objects into radosgw"
  measure rgw-load "$BENCH_TOOL" load --endpoint "$RGW_ENDPOINT" --bucket bench --count "$1" --prefix "$VB/" --threads 32
  say "seeding the index for radosgw"
  seed_index rgw "$1" rgw
  touch "$WORK/rgw-loaded"
}

# `env ...` prefixes for rclone and awscli against radosgw, with no user config
# (arrays, so that timeout can run them).
set_tool_envs() {
  RCLONE_ENV=(env -u AWS_CA_BUNDLE RCLONE_CONFIG="$WORK/rclone.conf" RCLONE_S3_PROVIDER=Ceph RCLONE_S3_ENDPOINT="$RGW_ENDPOINT"
    RCLONE_S3_ACCESS_KEY_ID="$S3R_TEST_ACCESS_KEY" RCLONE_S3_SECRET_ACCESS_KEY="$S3R_TEST_SECRET_KEY"
    RCLONE_S3_REGION=us-east-1 RCLONE_S3_FORCE_PATH_STYLE=true)
  AWS_ENV=(env -u AWS_CA_BUNDLE AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
    AWS_ACCESS_KEY_ID="$S3R_TEST_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3R_TEST_SECRET_KEY"
    AWS_DEFAULT_REGION=us-east-1)
}

# 6. On radosgw: listing throughput beside rclone and awscli, and the whole
# reconcile beside the shell pipeline an operator would write.
fig6() {
  local n=$RGW_KEYS r ours="" rcl="" aws="" keys cfg p_orph p_stale d_imp d_rem pipe diff_s
  [ -n "${RGW_ENDPOINT:-}" ] || { row 6 "radosgw" n/a "" n/a "radosgw not running"; return 0; }
  say "figure 6: loading $n objects into radosgw"
  load_rgw "$n"
  row 6 "load $n objects (setup, PUT x32 threads)" "$(field seconds "$M_OUT") s" "" "-" ""
  : > "$WORK/rclone.conf"
  set_tool_envs
  for ((r = 1; r <= REPEAT; r++)); do
    say "figure 6: listing round $r of $REPEAT (s3reconcile, rclone, awscli)"
    measure "fig6-ours-$r" "$BENCH_TOOL" list --endpoint "$RGW_ENDPOINT" --bucket bench --prefix "$VB/"
    keys=$(field keys "$M_OUT"); [ "$keys" = "$n" ] || { echo "s3reconcile listed $keys" >&2; return 1; }
    ours=$(min_of "$ours" "$M_WALL")
    measure "fig6-rclone-$r" "${RCLONE_ENV[@]}" rclone lsf -R --files-only --fast-list --s3-list-version 2 ":s3:bench/$VB/"
    keys=$(wc -l < "$WORK/fig6-rclone-$r.out"); [ "$keys" = "$n" ] || { echo "rclone listed $keys" >&2; return 1; }
    rcl=$(min_of "$rcl" "$M_WALL")
    measure "fig6-aws-$r" "${AWS_ENV[@]}" /usr/bin/aws s3api list-objects-v2 --endpoint-url "$RGW_ENDPOINT" \
      --bucket bench --prefix "$VB/" --output text --query 'Contents[].[Key]'
    keys=$(wc -l < "$WORK/fig6-aws-$r.out"); [ "$keys" = "$n" ] || { echo "awscli listed $keys" >&2; return 1; }
    aws=$(min_of "$aws" "$M_WALL")
  done
  row 6 "list $n keys: s3reconcile lister" "$(calc0 "$n / $ours") keys/s" ">= rclone (aim 2x)" \
    "$(verdict "$ours <= $rcl")" "$ours s wall; $(calc "$rcl / $ours")x rclone, $(calc "$aws / $ours")x awscli"
  row 6 "list $n keys: rclone lsf --fast-list --s3-list-version 2" "$(calc0 "$n / $rcl") keys/s" "" "-" "$rcl s wall"
  row 6 "list $n keys: aws s3api list-objects-v2 (awscli 2)" "$(calc0 "$n / $aws") keys/s" "" "-" "$aws s wall"

  # The operator's pipeline: list, dump the table, sort both in byte order, comm.
  cat > "$WORK/pipeline.sh" <<SH
set -euo pipefail
export LC_ALL=C
/usr/bin/aws s3api list-objects-v2 --endpoint-url "$RGW_ENDPOINT" --bucket bench --prefix "$VB/" \
  --output text --query 'Contents[].[Key]' | sort > "$WORK/pipe-listed"
"$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d rgw -c \
  "COPY (SELECT object_key FROM object_locations WHERE backend_name = 'rgw' AND object_key LIKE '$VB/%') TO STDOUT" \
  | sort > "$WORK/pipe-indexed"
echo "orphans=\$(comm -23 "$WORK/pipe-listed" "$WORK/pipe-indexed" | wc -l) stale=\$(comm -13 "$WORK/pipe-listed" "$WORK/pipe-indexed" | wc -l)"
SH
  cfg=$WORK/fig6.yaml
  write_config "$cfg" "$RGW_ENDPOINT" bench "$(pg_dsn rgw)" rgw
  say "figure 6: shell pipeline, s3reconcile diff, s3reconcile run"
  measure fig6-pipeline "${AWS_ENV[@]}" bash "$WORK/pipeline.sh"
  pipe=$M_WALL; p_orph=$(field orphans "$M_OUT"); p_stale=$(field stale "$M_OUT")
  measure fig6-diff "$TOOL" diff --config "$cfg" --log-level warn
  diff_s=$M_WALL
  d_imp=$(grep -c '"action":"import"' "$WORK/fig6-diff.out" || true)
  d_rem=$(grep -c '"action":"remove"' "$WORK/fig6-diff.out" || true)
  tool_pass fig6-run "$cfg"
  row 6 "find drift, $n keys: shell pipeline (aws, psql, sort, comm)" "$pipe s" "" "-" \
    "found $p_orph orphans, $p_stale stale rows (not confirmed, not applied)"
  row 6 "find drift, $n keys: s3reconcile diff" "$diff_s s" "<= pipeline" "$(verdict "$diff_s <= $pipe")" \
    "found $d_imp imports, $d_rem removals (removals confirmed by HEAD); $(calc "$pipe / $diff_s")x faster"
  row 6 "reconcile, $n keys: s3reconcile run" "$P_WALL s" "" "-" \
    "imported $P_IMPORTED, removed $P_REMOVED; expected $(orphans "$n") and $(stale "$n")"
}

# 7. The default pass (unprefixed keys adopted) on radosgw beside rclone
# listing the same keys: one walk of the bucket, so as many pages as the
# listing alone, in at most 0.75x rclone's time.
fig7() {
  local n=$RGW_KEYS r pass="" rcl="" keys cfg pages want
  [ -n "${RGW_ENDPOINT:-}" ] || { row 7 "radosgw" n/a "" n/a "radosgw not running"; return 0; }
  load_rgw "$n"
  : > "$WORK/rclone.conf"
  set_tool_envs
  cfg=$WORK/fig7.yaml
  write_config "$cfg" "$RGW_ENDPOINT" bench "$(pg_dsn rgw)" rgw adopt
  want=$(( (n + 999) / 1000 ))
  restore_drift rgw "$n" rgw  # figure 6's run repaired it
  for ((r = 1; r <= REPEAT; r++)); do
    say "figure 7: round $r of $REPEAT (rclone lsf of the bucket, the default pass)"
    measure "fig7-rclone-$r" "${RCLONE_ENV[@]}" rclone lsf -R --files-only --fast-list --s3-list-version 2 ":s3:bench/"
    keys=$(wc -l < "$WORK/fig7-rclone-$r.out"); [ "$keys" = "$n" ] || { echo "rclone listed $keys" >&2; return 1; }
    rcl=$(min_of "$rcl" "$M_WALL")
    tool_pass "fig7-pass-$r" "$cfg"
    [ "$P_STATUS" = ok ] || { echo "pass status $P_STATUS" >&2; return 1; }
    [ "$P_LISTED" = "$n" ] || { echo "the pass listed $P_LISTED keys, not $n" >&2; return 1; }
    pages=$(jsum api_pages "$M_OUT")
    pass=$(min_of "$pass" "$P_WALL")
    restore_drift rgw "$n" rgw
  done
  row 7 "default pass (adopt on), $n keys on radosgw: pages" "$pages" "= listing alone ($want)" \
    "$(verdict "$pages == $want")" "ListObjectsV2 requests of the pass, 1000 keys a page"
  row 7 "default pass (adopt on), $n keys on radosgw / rclone lsf" "$(calc "$pass / $rcl")" "<= 0.75" \
    "$(verdict "$pass <= 0.75 * $rcl")" "pass $pass s wall (process start to exit), rclone lsf -R --fast-list $rcl s (best of $REPEAT); the pass's CPU ${P_CPU} s"
}

# 8. One shared pass over JOIN_KEYS keys (default 10,000,000) under fig3's
# latency, planned with 128 ranges (reconcile.ranges) and worked by two
# `run --join` instances started together, 64 workers each (--parallelism,
# which a joining instance reads as its worker count). Wall time is from the
# start of the first to the end of the last; CPU is both processes'.
fig8() {
  local n=$JOIN_KEYS k=64 ranges=128 cfg i t0 t1 wall cpu imp rem rc note="" names=(fig8-a fig8-b)
  local pids=() rcs=() cpus=() threads=() statuses=() what help
  what="shared pass, $n keys, K=$ranges over two run --join instances, ${LATENCY} ms latency"
  # The help captured first: `grep -q` closing the pipe early would fail it under pipefail.
  help=$("$TOOL" run --help 2>&1 || true)
  if [ "$HAVE_PARALLELISM" != 1 ] || [[ $help != *--join* ]]; then
    row 8 "$what" n/a "-" n/a "s3reconcile run has no --join or --parallelism"
    return 0
  fi
  if ! source_up "$n" "$LATENCY"; then row 8 "$what" n/a "-" n/a "$SRC_NOTE"; return 0; fi
  ensure_db "$n"
  # Each worker holds three index connections (ledger, cursor, writer), and
  # each instance one more to plan and settle: 2 x 64 x 3 = 384, past the
  # throwaway server's 200.
  pg_ensure_connections $((2 * k * 3 + 50))
  cfg=$WORK/fig8.yaml
  write_config "$cfg" "$SRC_ENDPOINT" "$SRC_BUCKET" "$(pg_dsn "n$n")" synth ignore "reconcile: {ranges: $ranges}"
  say "figure 8: two run --join instances (--parallelism $k each) over one shared pass of $ranges ranges, $n keys, ${LATENCY} ms per request"
  t0=$EPOCHREALTIME
  for i in 0 1; do
    measure_bg "${names[i]}" "$TOOL" run --join --config "$cfg" --output json --log-level warn --parallelism "$k"
    pids[i]=$M_PID
  done
  poll_threads "${pids[@]}"
  for i in 0 1; do
    rc=0
    wait "${pids[i]}" || rc=$?
    rcs[i]=$rc
  done
  t1=$EPOCHREALTIME
  threads=("${THREADS_PEAK[@]}")
  imp=0; rem=0
  for i in 0 1; do
    measure_read "${names[i]}" "${rcs[i]}" "$TOOL" run --join || note="${note:+$note; }instance $((i + 1)) exit ${rcs[i]}"
    cpus[i]=$M_CPU
    pass_fields "$M_OUT"
    statuses[i]=$P_STATUS
    imp=$((imp + P_IMPORTED)); rem=$((rem + P_REMOVED))
  done
  source_down
  restore_drift "n$n" "$n" synth
  wall=$(calc "$t1 - $t0")
  cpu=$(calc "${cpus[0]} + ${cpus[1]}")
  [ "$imp" = "$(orphans "$n")" ] && [ "$rem" = "$(stale "$n")" ] ||
    note="${note:+$note; }WRONG COUNTS: imported $imp/$(orphans "$n") removed $rem/$(stale "$n")"
  [ "${statuses[0]}" = ok ] && [ "${statuses[1]}" = ok ] ||
    note="${note:+$note; }statuses ${statuses[0]}, ${statuses[1]}"
  row 8 "$what" "$wall s" "-" "$([ -z "$note" ] && echo "-" || echo FAILED)" \
    "$(calc0 "$n / $wall") keys/s; CPU ${cpu} s (${cpus[0]} + ${cpus[1]}), $(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.3f", c * 1e6 / n }') µs per key; imported $imp of $(orphans "$n"), removed $rem of $(stale "$n"); peak threads ${threads[0]} and ${threads[1]}; exits ${rcs[0]} and ${rcs[1]}${note:+; $note}${SRC_NOTE:+; $SRC_NOTE}"
  [ -z "$note" ] || { echo "figure 8: $note (outputs in $WORK/fig8-a.* and fig8-b.*)" >&2; return 1; }
}

# Micro-benchmarks: the merge and the ListObjectsV2 parser.
micro() {
  local args=(--benchmark_min_time="$MICRO_MIN_TIME" --benchmark_out="$WORK/micro.csv" --benchmark_out_format=csv)
  [ "$QUICK" = 1 ] && args+=(--benchmark_filter='BM_SortedMerge/(10000|100000)$|BM_ParseListObjectsV2')
  say "micro-benchmarks (Google Benchmark)"
  measure micro "$BUILD/bench/s3r_micro_bench" "${args[@]}"
  awk -F, '/^"BM_SortedMerge\// { gsub(/"/, "", $1); split($1, a, "/");
             printf "micro|merge (sorted), %s keys per side, 1%% drift each way|%.1f ns/key|-|-|%.2f ms CPU per merge\n", a[2], 1e9 / $7, $4 }
           /^"BM_ParseListObjectsV2\// { gsub(/"/, "", $1); split($1, a, "/");
             printf "micro|ListObjectsV2 parser, 1000-key page, %s|%.0f us CPU/page|-|-|%.0f keys/s\n", (a[2] == 1 ? "encoding-type=url" : "plain keys"), $4, $7 }
           /^"BM_ParseListObjectsV2Dom\// { gsub(/"/, "", $1); split($1, a, "/");
             printf "micro|the full parser alone (pugixml DOM, every page before the scanner), %s|%.0f us CPU/page|-|-|%.0f keys/s\n", (a[2] == 1 ? "encoding-type=url" : "plain keys"), $4, $7 }' \
    "$WORK/micro.csv" >> "$WORK/rows"
  # The targets: items_per_second ($7) counts the keys of both sides for the
  # merge and the page's keys for the parser.
  local merge parse
  merge=$(awk -F, '/^"BM_SortedMerge\/1000000[\/"]/ && $7 > 0 { printf "%.1f", 1e9 / $7; exit }' "$WORK/micro.csv")
  parse=$(awk -F, '/^"BM_ParseListObjectsV2\/1[\/"]/ && $7 > 0 { printf "%.0f", $7; exit }' "$WORK/micro.csv")
  if [ -n "$merge" ]; then
    row micro "merge (sorted) at 1,000,000 keys per side: ns per key" "$merge ns" "<= 30 ns" \
      "$(verdict "$merge <= 30")" "1e9 / items_per_second, keys of both sides, 1% drift each way"
  else
    row micro "merge (sorted) at 1,000,000 keys per side: ns per key" n/a "<= 30 ns" n/a "not run (QUICK filters it out)"
  fi
  if [ -n "$parse" ]; then
    row micro "ListObjectsV2 parser, url-encoded 1000-key page" "$parse keys/s" ">= 2,500,000 keys/s" \
      "$(verdict "$parse >= 2500000")" "encoding-type=url; items_per_second of BM_ParseListObjectsV2/1"
  else
    row micro "ListObjectsV2 parser, url-encoded 1000-key page" n/a ">= 2,500,000 keys/s" n/a "not run"
  fi
}
