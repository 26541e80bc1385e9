// The PostgreSQL store's SQL. Internal; the tests read it to EXPLAIN the very
// queries the store prepares.
#pragma once

#include <array>
#include <string_view>

namespace s3reconcile::postgres {

// Each entry moves the schema from version i to i + 1. Never edit a shipped
// step: add a new one. `IF NOT EXISTS` lets migration 1 adopt a table that
// the service writing the index created itself.
inline constexpr std::array<std::string_view, 1> kMigrations = {
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
};

inline constexpr std::string_view kCursorIndex = "object_locations_backend_key_c";

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

// A cursor page. $1 backend, $2 after_key (exclusive), $3 the range's first
// key (inclusive), $4 the page size. Every comparison and the order are
// COLLATE "C", matching object_locations_backend_key_c.
inline constexpr std::string_view kList = R"sql(
SELECT object_key, storage_key, size_bytes FROM object_locations
 WHERE backend_name = $1
   AND object_key COLLATE "C" > $2 AND object_key COLLATE "C" >= $3
 ORDER BY object_key COLLATE "C" LIMIT $4)sql";

// The same with $5, the range's end (exclusive).
inline constexpr std::string_view kListBounded = R"sql(
SELECT object_key, storage_key, size_bytes FROM object_locations
 WHERE backend_name = $1
   AND object_key COLLATE "C" > $2 AND object_key COLLATE "C" >= $3
   AND object_key COLLATE "C" < $5
 ORDER BY object_key COLLATE "C" LIMIT $4)sql";

// Boundary keys splitting a backend's rows in [$2, $3) ($3 '' = no end)
// into $4 runs: every step-th key, step = ceil(rows / $4), not the last.
// Two index-only scans of the range; only a parallel pass asks.
inline constexpr std::string_view kSplitKeys = R"sql(
WITH n AS (SELECT count(*) AS n FROM object_locations
            WHERE backend_name = $1 AND object_key COLLATE "C" >= $2
              AND ($3 = '' OR object_key COLLATE "C" < $3))
SELECT object_key FROM (
  SELECT object_key, row_number() OVER (ORDER BY object_key COLLATE "C") AS rn FROM object_locations
   WHERE backend_name = $1 AND object_key COLLATE "C" >= $2
     AND ($3 = '' OR object_key COLLATE "C" < $3)) AS k, n
 WHERE k.rn < n.n AND k.rn % greatest(1, (n.n + $4::bigint - 1) / $4::bigint) = 0
 ORDER BY object_key COLLATE "C")sql";

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

}  // namespace s3reconcile::postgres
