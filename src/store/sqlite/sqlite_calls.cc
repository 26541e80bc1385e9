#include "store/sqlite/sqlite_calls.h"

#include <fmt/format.h>

namespace s3reconcile::sqlite {

Status status_for(int rc, std::string message) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_INTERRUPT:
      return unavailable_error(std::move(message));
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return invalid_argument_error(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return data_loss_error(std::move(message));
    default:
      return internal_error(std::move(message));
  }
}

Status last_error(sqlite3* db, int rc, std::string_view path, std::string_view doing) {
  return status_for(rc, fmt::format("sqlite index \"{}\": {}: {}", path, doing, sqlite3_errmsg(db)));
}

}  // namespace s3reconcile::sqlite
