// The record of every pass (s3reconcile_pass_records) in the SQLite index,
// on the store's connection and in its schema (migration 3).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "s3reconcile/pass_records.h"

namespace s3reconcile::sqlite {

// The table, as the store's migration 3 creates it. Counts are one JSON
// text column (pass_counts_json): a counter added to PassCounts is recorded
// without a schema change. Times are UTC text, as created_at is.
inline constexpr std::string_view kCreatePassRecords = R"sql(
CREATE TABLE IF NOT EXISTS s3reconcile_pass_records (
  pass_id      TEXT    NOT NULL,
  instance     TEXT    NOT NULL,
  backend_name TEXT    NOT NULL,
  bucket       TEXT    NOT NULL,
  paths        TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  shared       INTEGER NOT NULL,
  dry_run      INTEGER NOT NULL,
  started_at   TEXT    NOT NULL,
  finished_at  TEXT,
  outcome      TEXT    NOT NULL,  -- running | ok | error | stopped
  error        TEXT    NOT NULL,
  counts       TEXT    NOT NULL,  -- {"listed":..,"rows":..,...}
  PRIMARY KEY (pass_id, instance)
);
CREATE INDEX IF NOT EXISTS s3reconcile_pass_records_backend_started
  ON s3reconcile_pass_records (backend_name, started_at);
)sql";

// Opens the records on `db` (owned by the store, which outlives this);
// `path` names the index in errors. Fails when the statements do not
// prepare (the table is missing).
StatusOr<std::unique_ptr<PassRecords>> open_sqlite_pass_records(sqlite3* db, std::string path);

}  // namespace s3reconcile::sqlite
