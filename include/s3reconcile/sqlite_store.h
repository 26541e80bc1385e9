// The SQLite index store: the embedded default.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "s3reconcile/index_store.h"

namespace s3reconcile {

struct SqliteStoreOptions {
  // The database file; created with its schema when missing.
  std::string path;
  // How long a statement waits for another connection's lock before failing
  // with UNAVAILABLE ("database is locked").
  std::chrono::milliseconds busy_timeout{5000};
  // A query answering a row when the service has queued a path for
  // deletion: $1 the path (storage_key), $2 the backend's name. Such a path
  // is never imported. Prepared and run once at open: a query that does not
  // work is refused then (INVALID_ARGUMENT naming it). Empty: none.
  std::string pending_delete_query;
};

// The schema version this build creates and understands. Stored in the
// database's PRAGMA user_version; an older database is migrated on open, a
// newer one is refused.
int sqlite_schema_version();

// Opens (creating if needed) the index and migrates its schema. The table is
// object_locations(object_key, backend_name, storage_key, size_bytes,
// created_at) with primary key (object_key, backend_name) and an index on
// (backend_name, object_key); keys compare with the BINARY (byte) collation.
// created_at is UTC text "YYYY-MM-DDTHH:MM:SS.ffffffZ".
// The store is used from one thread at a time.
StatusOr<std::unique_ptr<IndexStore>> open_sqlite_store(const SqliteStoreOptions& options);

}  // namespace s3reconcile
