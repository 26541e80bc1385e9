// The PostgreSQL index store: for indexes shared by several services and
// instances, and for large deployments.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "s3reconcile/index_store.h"

namespace s3reconcile {

struct PostgresStoreOptions {
  // A libpq connection string, keyword/value ("host=db dbname=index user=s3r
  // password=...") or URI ("postgresql://s3r@db/index"). libpq's environment
  // variables (PGPASSWORD, PGHOST, ...) and ~/.pgpass apply as usual. The
  // password never appears in an error: errors name the connection by host,
  // port and database only.
  std::string dsn;
  // How long connecting may take, unless the DSN sets connect_timeout.
  std::chrono::seconds connect_timeout{10};
  // How long opening waits for another instance's schema migration (or for
  // the locks a migration step needs) before failing with UNAVAILABLE,
  // rather than hanging behind a stuck session.
  std::chrono::milliseconds migration_lock_timeout{std::chrono::minutes(5)};
  // A query answering a row when the service has queued a path for
  // deletion: $1 the path (storage_key), $2 the backend's name, for example
  // "SELECT 1 FROM cleanup_queue WHERE storage_key = $1 AND backend_name = $2".
  // Such a path is never imported. Prepared at open: a query that does not
  // work is refused then (INVALID_ARGUMENT naming it). Empty: none.
  std::string pending_delete_query;
};

// The schema version this build creates and understands (SQLite's plus one:
// the ledger of shared passes). Kept in the table s3reconcile_schema; an older
// schema is migrated on open, a newer one is refused.
int postgres_schema_version();

// "host=H port=P dbname=D" for a DSN, as far as it names them (libpq's
// defaults otherwise): how errors and output name the index, never with the
// password. An unparseable DSN gives "(unparseable connection string)".
std::string describe_postgres_dsn(const std::string& dsn);

// Connects and migrates the schema, under a transaction-scoped advisory lock
// so that instances starting at once migrate one after the other. The table
// is object_locations(object_key text, backend_name text, storage_key text,
// size_bytes bigint, created_at timestamptz) with primary key (object_key,
// backend_name) and an index on (backend_name, object_key COLLATE "C"): every
// ordered query compares keys with COLLATE "C" (byte order) whatever the
// database's locale, and pages by index range scans.
//
// Keys are sent as text: a key holding a NUL byte, or bytes that are not
// UTF-8, cannot be stored, and fails as that one row (INVALID_ARGUMENT).
// A lost connection fails the call with UNAVAILABLE ("PostgreSQL connection
// lost: ...") and every later call the same way; the store does not
// reconnect: open a new one. The store is used from one thread at a time.
StatusOr<std::unique_ptr<IndexStore>> open_postgres_store(const PostgresStoreOptions& options);

}  // namespace s3reconcile
