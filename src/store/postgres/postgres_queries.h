// The PostgreSQL store's SQL. Internal; the tests read it to EXPLAIN the very
// queries the store prepares.
#pragma once

#include <array>
#include <string_view>

namespace s3reconcile::postgres {

// Each entry moves the schema from version i to i + 1. Never edit a shipped
// step: add a new one. `IF NOT EXISTS` lets migration 1 adopt a table that
// the service writing the index created itself.
inline constexpr std::array<std::string_view, 5> kMigrations = {
    R"sql(
CREATE TABLE IF NOT EXISTS object_locations (
  object_key   text        NOT NULL,
  backend_name text        NOT NULL,
  storage_key  text        NOT NULL,
  size_bytes   bigint      NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (object_key, backend_name)
);
-- The cursor's index: byte order within a backend, whatever the database's
-- collation, so that each page is a range scan and never a sort.
CREATE INDEX IF NOT EXISTS object_locations_backend_key_c
  ON object_locations (backend_name, object_key COLLATE "C");
)sql",
    R"sql(
-- Passes shared by several instances (run --join, serve with shared passes):
-- at most one running pass per (backend, bucket), planned as ranges that
-- instances claim, heartbeat, and record their progress in.
CREATE TABLE IF NOT EXISTS s3reconcile_passes (
  pass_id      bigserial   PRIMARY KEY,
  backend_name text        NOT NULL,
  bucket       text        NOT NULL,
  state        text        NOT NULL DEFAULT 'running',  -- running | done | failed
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  range_count  integer     NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS s3reconcile_passes_one_running
  ON s3reconcile_passes (backend_name, bucket) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS s3reconcile_ranges (
  pass_id      bigint      NOT NULL REFERENCES s3reconcile_passes ON DELETE CASCADE,
  range_no     integer     NOT NULL,
  after_key    text        NOT NULL,               -- '' = from the bucket's first key
  through_key  text        NOT NULL,               -- '' = to its last
  state        text        NOT NULL DEFAULT 'pending',  -- pending | running | done | failed
  owner        text,
  heartbeat_at timestamptz,
  resume_after text        NOT NULL DEFAULT '',    -- every change up to this key is applied
  attempts     integer     NOT NULL DEFAULT 0,
  counts       jsonb       NOT NULL DEFAULT '{}',
  error        text,
  PRIMARY KEY (pass_id, range_no)
);
)sql",
    R"sql(
-- The cursor walks a backend's rows by the path their bytes live at, in
-- byte order; rows sharing a path are ordered by object_key, so that a page
-- position is exact. On a large table, build it beforehand without
-- blocking writes (CREATE INDEX CONCURRENTLY with this name and shape, see
-- the README); this step then finds it and does nothing.
CREATE INDEX IF NOT EXISTS object_locations_backend_storage_c
  ON object_locations (backend_name, storage_key COLLATE "C", object_key COLLATE "C");
)sql",
    R"sql(
-- The record of every pass (PassRecords): one row per pass and instance
-- (the instances working a shared pass each record their part under its
-- ledger id). Counts are one jsonb column of PassCounts' fields by name, so
-- that a new counter needs no schema change.
CREATE TABLE IF NOT EXISTS s3reconcile_pass_records (
  pass_id      text        NOT NULL,
  instance     text        NOT NULL,
  backend_name text        NOT NULL,
  bucket       text        NOT NULL,
  paths        text        NOT NULL,
  kind         text        NOT NULL,
  shared       boolean     NOT NULL,
  dry_run      boolean     NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  outcome      text        NOT NULL,  -- running | ok | error | stopped
  error        text        NOT NULL,
  counts       jsonb       NOT NULL,
  PRIMARY KEY (pass_id, instance)
);
CREATE INDEX IF NOT EXISTS s3reconcile_pass_records_backend_started
  ON s3reconcile_pass_records (backend_name, started_at);
)sql",
    R"sql(
-- Where a pass that spent its request budget (reconcile.max_list_requests)
-- stopped, per backend and paths ('' = the whole backend, 'b/' a bucket,
-- or a --prefix): the next pass over them starts after resume_after, the
-- listed path's bytes (bytea: a listing may hold keys that are not UTF-8).
CREATE TABLE IF NOT EXISTS s3reconcile_resume_points (
  backend_name text        NOT NULL,
  paths        text        NOT NULL,
  resume_after bytea       NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (backend_name, paths)
);
)sql",
};

// ---- shared passes (PassLedger)

inline constexpr std::string_view kRunningPass = R"sql(
SELECT pass_id FROM s3reconcile_passes WHERE backend_name = $1 AND bucket = $2 AND state = 'running')sql";

// Returns the new pass's id, or nothing when another instance's running
// pass won the unique index (then kRunningPass finds it).
inline constexpr std::string_view kInsertPass = R"sql(
INSERT INTO s3reconcile_passes (backend_name, bucket, started_at, range_count)
VALUES ($1, $2, $3::timestamptz, $4::integer)
ON CONFLICT (backend_name, bucket) WHERE state = 'running' DO NOTHING
RETURNING pass_id)sql";

inline constexpr std::string_view kInsertRange = R"sql(
INSERT INTO s3reconcile_ranges (pass_id, range_no, after_key, through_key)
VALUES ($1::bigint, $2::integer, $3, $4))sql";

// A range's counts, as the JSON text the store parses back.
#define S3R_RANGE_COUNTS "r.counts::text"

// $1 pass, $2 owner, $3 lease in milliseconds. The lowest-numbered range
// that is pending or whose owner stopped heartbeating; SKIP LOCKED keeps
// two claimers off the same row. The choice is a CTE, evaluated once: as a
// subquery in FROM the planner may rescan it per row and claim them all.
inline constexpr std::string_view kClaimRange =
    "WITH c AS (SELECT range_no FROM s3reconcile_ranges WHERE pass_id = $1::bigint "
    "             AND (state = 'pending' OR (state = 'running' AND "
    "                  heartbeat_at < now() - $3::bigint * interval '1 millisecond')) "
    "           ORDER BY range_no LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE s3reconcile_ranges AS r SET state = 'running', owner = $2, heartbeat_at = now(), "
    "attempts = r.attempts + 1 "
    "FROM c WHERE r.pass_id = $1::bigint AND r.range_no = c.range_no "
    "RETURNING r.range_no, r.after_key, r.through_key, r.resume_after, r.attempts, "
    "(SELECT (extract(epoch FROM p.started_at) * 1000000)::bigint FROM s3reconcile_passes p "
    "  WHERE p.pass_id = r.pass_id), " S3R_RANGE_COUNTS;

inline constexpr std::string_view kHeartbeat = R"sql(
UPDATE s3reconcile_ranges SET heartbeat_at = now()
 WHERE pass_id = $1::bigint AND range_no = $2::integer AND owner = $3 AND state = 'running')sql";

inline constexpr std::string_view kRecordProgress = R"sql(
UPDATE s3reconcile_ranges SET resume_after = $4, counts = $5::jsonb, heartbeat_at = now()
 WHERE pass_id = $1::bigint AND range_no = $2::integer AND owner = $3 AND state = 'running')sql";

inline constexpr std::string_view kFinishRange = R"sql(
UPDATE s3reconcile_ranges SET state = $4, counts = $5::jsonb, error = nullif($6, ''), heartbeat_at = now()
 WHERE pass_id = $1::bigint AND range_no = $2::integer AND owner = $3 AND state = 'running')sql";

inline constexpr std::string_view kSettlePass = R"sql(
UPDATE s3reconcile_passes p
   SET state = CASE WHEN EXISTS (SELECT 1 FROM s3reconcile_ranges
                                  WHERE pass_id = $1::bigint AND state = 'failed') THEN 'failed' ELSE 'done' END,
       finished_at = now()
 WHERE p.pass_id = $1::bigint AND p.state = 'running'
   AND NOT EXISTS (SELECT 1 FROM s3reconcile_ranges
                    WHERE pass_id = $1::bigint AND state IN ('pending', 'running'))
RETURNING p.state)sql";

inline constexpr std::string_view kPassStateOf = R"sql(
SELECT state FROM s3reconcile_passes WHERE pass_id = $1::bigint)sql";

inline constexpr std::string_view kRecentPasses = R"sql(
SELECT pass_id, backend_name, bucket, state, (extract(epoch FROM started_at) * 1000000)::bigint,
       coalesce((extract(epoch FROM finished_at) * 1000000)::bigint, 0)
  FROM s3reconcile_passes ORDER BY pass_id DESC LIMIT $1::integer)sql";

// Ranges go with their pass (ON DELETE CASCADE). At most $2 passes a
// statement: see delete_in_batches.
inline constexpr std::string_view kPruneSettledPasses = R"sql(
DELETE FROM s3reconcile_passes WHERE pass_id IN (
  SELECT pass_id FROM s3reconcile_passes WHERE state <> 'running' AND finished_at < $1::timestamptz
   LIMIT $2::integer))sql";

inline constexpr std::string_view kRangesOf =
    "SELECT r.range_no, r.after_key, r.through_key, r.state, coalesce(r.owner, ''), "
    "coalesce((extract(epoch FROM r.heartbeat_at) * 1000000)::bigint, 0), r.resume_after, r.attempts, "
    "coalesce(r.error, ''), " S3R_RANGE_COUNTS
    " FROM s3reconcile_ranges r WHERE r.pass_id = $1::bigint ORDER BY r.range_no";
#undef S3R_RANGE_COUNTS

// ---- pass records (PassRecords)

// begin and finish both write the whole record ($10 '' = not finished): a
// finish without its begin still leaves one.
inline constexpr std::string_view kUpsertPassRecord = R"sql(
INSERT INTO s3reconcile_pass_records (pass_id, instance, backend_name, bucket, paths, kind, shared, dry_run,
                                      started_at, finished_at, outcome, error, counts)
VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8::boolean, $9::timestamptz, nullif($10, '')::timestamptz, $11, $12,
        $13::jsonb)
ON CONFLICT (pass_id, instance) DO UPDATE SET
  backend_name = excluded.backend_name, bucket = excluded.bucket, paths = excluded.paths, kind = excluded.kind,
  shared = excluded.shared, dry_run = excluded.dry_run, started_at = excluded.started_at,
  finished_at = excluded.finished_at, outcome = excluded.outcome, error = excluded.error, counts = excluded.counts)sql";

// $1 the backend ('' = all), $2 the limit; times as microseconds since the epoch.
inline constexpr std::string_view kRecentPassRecords = R"sql(
SELECT pass_id, instance, backend_name, bucket, paths, kind, shared, dry_run,
       (extract(epoch FROM started_at) * 1000000)::bigint,
       coalesce((extract(epoch FROM finished_at) * 1000000)::bigint, 0), outcome, error, counts::text
  FROM s3reconcile_pass_records WHERE $1 = '' OR backend_name = $1
 ORDER BY started_at DESC, pass_id DESC, instance DESC LIMIT $2::integer)sql";

// At most $2 records a statement: see delete_in_batches.
inline constexpr std::string_view kPrunePassRecords = R"sql(
DELETE FROM s3reconcile_pass_records WHERE (pass_id, instance) IN (
  SELECT pass_id, instance FROM s3reconcile_pass_records WHERE finished_at < $1::timestamptz
   LIMIT $2::integer))sql";

inline constexpr std::string_view kCursorIndex = "object_locations_backend_storage_c";

// pg_advisory_xact_lock key that serializes migrations: "s3r-migr" read as
// a big-endian integer, unlikely to be anyone else's lock.
inline constexpr std::string_view kMigrationLockKey = "8301104077608675186";

inline constexpr std::string_view kCreateVersionTable = R"sql(
CREATE TABLE s3reconcile_schema (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version   integer NOT NULL
))sql";

inline constexpr std::string_view kSetVersion = R"sql(
INSERT INTO s3reconcile_schema (version) VALUES ($1)
ON CONFLICT (singleton) DO UPDATE SET version = excluded.version)sql";

// Cursor pages: a backend's rows in (storage_key, object_key) order with
// storage_key >= $3, $4 rows, after a path ($2) or after one row ($2 and
// the object_key $5), below an end (the bounded forms: $5 after a path, $6
// after a row). Every comparison and the order are COLLATE "C", matching
// object_locations_backend_storage_c, so that each page is a range scan of
// that index and never a sort.
#define S3R_LIST_SELECT                                               \
  "SELECT object_key, storage_key, size_bytes FROM object_locations " \
  "WHERE backend_name = $1 AND storage_key COLLATE \"C\" >= $3 "
#define S3R_LIST_ORDER "ORDER BY storage_key COLLATE \"C\", object_key COLLATE \"C\" LIMIT $4"
inline constexpr std::string_view kListAfterPath = S3R_LIST_SELECT "AND storage_key COLLATE \"C\" > $2 " S3R_LIST_ORDER;
inline constexpr std::string_view kListAfterPathBounded =
    S3R_LIST_SELECT "AND storage_key COLLATE \"C\" > $2 AND storage_key COLLATE \"C\" < $5 " S3R_LIST_ORDER;
inline constexpr std::string_view kListAfterRow =
    S3R_LIST_SELECT "AND (storage_key COLLATE \"C\", object_key COLLATE \"C\") > ($2, $5) " S3R_LIST_ORDER;
inline constexpr std::string_view kListAfterRowBounded = S3R_LIST_SELECT
    "AND (storage_key COLLATE \"C\", object_key COLLATE \"C\") > ($2, $5) "
    "AND storage_key COLLATE \"C\" < $6 " S3R_LIST_ORDER;
#undef S3R_LIST_SELECT
#undef S3R_LIST_ORDER

// Boundary paths splitting a backend's rows with storage_key in [$2, $3)
// ($3 '' = no end) into $4 runs: the path of every step-th row, step =
// ceil($5 / $4) where $5 is the range's row count (kSplitCount, a statement
// of its own: as a CTE joined to the numbered rows, a planner without
// statistics, right after a bulk load, may recount the range for every row,
// 91,000 x 91,000 index entries). Index-only scans; only a parallel pass asks.
inline constexpr std::string_view kSplitCount = R"sql(
SELECT count(*) FROM object_locations
 WHERE backend_name = $1 AND storage_key COLLATE "C" >= $2 AND ($3 = '' OR storage_key COLLATE "C" < $3))sql";

inline constexpr std::string_view kSplitKeys = R"sql(
SELECT storage_key FROM (
  SELECT storage_key, row_number() OVER (ORDER BY storage_key COLLATE "C", object_key COLLATE "C") AS rn
    FROM object_locations
   WHERE backend_name = $1 AND storage_key COLLATE "C" >= $2
     AND ($3 = '' OR storage_key COLLATE "C" < $3)) AS k
 WHERE k.rn < $5::bigint AND k.rn % greatest(1, ($5::bigint + $4::bigint - 1) / $4::bigint) = 0
 ORDER BY storage_key COLLATE "C")sql";

// The planner's estimate of the table's rows (-1 before the first ANALYZE).
inline constexpr std::string_view kTableRows = R"sql(
SELECT reltuples, relpages FROM pg_class WHERE oid = 'object_locations'::regclass)sql";

// The paths of a random sample of the table's pages ($4 percent of them),
// within [$2, $3) ($3 '' = no end). Unordered: sorted in byte order by the caller.
inline constexpr std::string_view kSampleKeys = R"sql(
SELECT storage_key FROM object_locations TABLESAMPLE SYSTEM ($4::float8)
 WHERE backend_name = $1 AND storage_key COLLATE "C" >= $2 AND ($3 = '' OR storage_key COLLATE "C" < $3))sql";

// Session advisory locks electing one instance per backend. The class id is
// "s3rb" read as a big-endian integer; the object id hashes the backend name.
inline constexpr std::string_view kTryLockBackend = R"sql(
SELECT pg_try_advisory_lock(863269474, hashtext($1)))sql";
inline constexpr std::string_view kUnlockBackend = R"sql(
SELECT pg_advisory_unlock(863269474, hashtext($1)))sql";

// Returns one row when it inserted, none when the row was already there.
inline constexpr std::string_view kInsert = R"sql(
INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (object_key, backend_name) DO NOTHING
RETURNING 1)sql";

// Deletes the row if it was created before $3, and says in the same round
// trip whether a row was there at all: the EXISTS reads the statement's
// snapshot, taken before the delete. (removed, present): (1, t) removed,
// (0, t) too new, (0, f) already gone.
inline constexpr std::string_view kRemove = R"sql(
WITH gone AS (
  DELETE FROM object_locations
   WHERE object_key = $1 AND backend_name = $2 AND created_at < $3
  RETURNING 1)
SELECT (SELECT count(*) FROM gone),
       EXISTS (SELECT 1 FROM object_locations WHERE object_key = $1 AND backend_name = $2))sql";

// What kRemove would do, changing nothing: no row, or whether it is old
// enough.
inline constexpr std::string_view kRemovalOutcome = R"sql(
SELECT created_at < $3 FROM object_locations WHERE object_key = $1 AND backend_name = $2)sql";

// $1 key, $2 backend, $3 storage_key, $4 new size, $5 the size the pass
// read, $6 the cutoff. Only the row the pass judged, old enough to be its
// to fix. Answers how many rows changed, and whether the row is still as
// judged (then only its age kept it).
inline constexpr std::string_view kResize = R"sql(
WITH fixed AS (
  UPDATE object_locations SET size_bytes = $4::bigint
   WHERE object_key = $1 AND backend_name = $2 AND storage_key = $3 AND size_bytes = $5::bigint
     AND created_at < $6::timestamptz
  RETURNING 1)
SELECT (SELECT count(*) FROM fixed),
       EXISTS (SELECT 1 FROM object_locations
                WHERE object_key = $1 AND backend_name = $2 AND storage_key = $3 AND size_bytes = $5::bigint))sql";

// The path travels as hex both ways.
inline constexpr std::string_view kResumePoint = R"sql(
SELECT encode(resume_after, 'hex') FROM s3reconcile_resume_points WHERE backend_name = $1 AND paths = $2)sql";

inline constexpr std::string_view kSetResumePoint = R"sql(
INSERT INTO s3reconcile_resume_points (backend_name, paths, resume_after, updated_at)
VALUES ($1, $2, decode($3, 'hex'), now())
ON CONFLICT (backend_name, paths) DO UPDATE SET resume_after = excluded.resume_after, updated_at = now())sql";

}  // namespace s3reconcile::postgres
