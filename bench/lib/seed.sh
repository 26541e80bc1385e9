# bench/lib/seed.sh - the index side of the benchmark data, made with SQL
# (generate_series) because inserting millions of rows through any client is
# slower than the passes being measured. Sourced by bench/run.
#
# Keys are those of the synthetic endpoint: i = 0..N-1 named
# $VB/d<i/10000, 5 digits>/o<i, 12 digits>. The index holds every key except
# those with i % 100 = 7 (1% orphans: objects with no row) and, for each i with
# i % 100 = 3, an extra row "<key>-stale" whose object does not exist (1% stale
# rows). A pass over N keys therefore imports orphans(N) rows and removes
# stale(N) rows.

# shellcheck shell=bash

pg_dsn() { echo "host=127.0.0.1 port=$PG_PORT user=postgres dbname=$1"; }

# pg_sql DB SQL...: runs statements, quietly, stopping at the first error.
pg_sql() {
  local db=$1; shift
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" "$@"
}

# How many i in [0, N) have i % 100 = R.
count_mod() { echo $(( $1 / 100 + ($1 % 100 > $2 ? 1 : 0) )); }
orphans() { count_mod "$1" 7; }
stale() { count_mod "$1" 3; }

key_sql() { echo "'$VB/d' || lpad((i / 10000)::text, 5, '0') || '/o' || lpad(i::text, 12, '0')"; }

# seed_index DB N BACKEND: a new database DB whose index holds the rows above
# for BACKEND, created a day ago (so that a pass may remove the stale ones).
seed_index() {
  local db=$1 n=$2 backend=$3
  pg_sql postgres -c "CREATE DATABASE $db"
  # The product creates (migrates) its own schema.
  "$BENCH_TOOL" index --dsn "$(pg_dsn "$db")" --backend "$backend" --bucket "$VB" > /dev/null
  # Loading with the indexes in place costs a B-tree insert per row in the
  # en_US collation; building them afterwards is a sort. Same definitions as
  # the store's migrations 1 and 3 (src/store/postgres/postgres_queries.h).
  pg_sql "$db" <<SQL
SET maintenance_work_mem = '1GB';
ALTER TABLE object_locations DROP CONSTRAINT object_locations_pkey;
DROP INDEX object_locations_backend_key_c;
DROP INDEX object_locations_backend_storage_c;
INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at)
SELECT k, '$backend', k, 1000 + i % 9000, now() - interval '1 day'
  FROM (SELECT i, $(key_sql) AS k FROM generate_series(0::bigint, $n - 1) AS i) s
 WHERE i % 100 <> 7;
INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at)
SELECT k, '$backend', k, 1000 + i % 9000, now() - interval '1 day'
  FROM (SELECT i, $(key_sql) || '-stale' AS k FROM generate_series(3::bigint, $n - 1, 100) AS i) s;
ALTER TABLE object_locations ADD PRIMARY KEY (object_key, backend_name);
CREATE INDEX object_locations_backend_key_c ON object_locations (backend_name, object_key COLLATE "C");
CREATE INDEX object_locations_backend_storage_c
  ON object_locations (backend_name, storage_key COLLATE "C", object_key COLLATE "C");
VACUUM ANALYZE object_locations;
SQL
}

# restore_drift DB N BACKEND: puts back the drift a real pass repaired (the
# imported orphans out, the removed stale rows in), so the next pass over DB
# has the same work to do.
restore_drift() {
  local db=$1 n=$2 backend=$3
  pg_sql "$db" <<SQL
DELETE FROM object_locations
 WHERE backend_name = '$backend' AND object_key LIKE '$VB/%' AND right(object_key, 2) = '07';
INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at)
SELECT k, '$backend', k, 1000 + i % 9000, now() - interval '1 day'
  FROM (SELECT i, $(key_sql) || '-stale' AS k FROM generate_series(3::bigint, $n - 1, 100) AS i) s
ON CONFLICT DO NOTHING;
VACUUM ANALYZE object_locations;
SQL
}
