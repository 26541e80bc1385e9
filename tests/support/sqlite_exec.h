// SQL on a SQLite index file through a connection of its own, as another
// program (the service, an operator) would run it.
#pragma once

#include <sqlite3.h>

#include <string>

#include "s3reconcile/status.h"

namespace s3reconcile::testing {

// The service may be writing when the test looks (a pass's record, its
// last batch): wait for its lock as another program would, not fail at once.
constexpr int kBusyTimeoutMs = 10000;

inline Status exec_on(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  Status status = rc == SQLITE_OK ? ok_status() : internal_error(message ? message : sqlite3_errstr(rc));
  sqlite3_free(message);
  sqlite3_close(db);
  return status;
}

}  // namespace s3reconcile::testing
