// What the SQLite store's files need of the C API alike: text in and out by
// length (keys are bytes; a NUL or a byte that is not UTF-8 stays as it is),
// and a failed call as a Status whose code says what the caller may do.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "s3reconcile/status.h"

namespace s3reconcile::sqlite {

inline void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
  sqlite3_bind_text64(s, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// A view valid until the next step, reset or finalize of `s`.
inline std::string_view column_view(sqlite3_stmt* s, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
  const int bytes = sqlite3_column_bytes(s, column);
  return text ? std::string_view(text, static_cast<std::size_t>(bytes)) : std::string_view();
}

inline std::string column_text(sqlite3_stmt* s, int column) { return std::string(column_view(s, column)); }

// `rc` as a code: busy, locked, I/O, full and interrupted calls are
// UNAVAILABLE (retry later); a constraint or a mismatch INVALID_ARGUMENT (the
// row, not the store); a corrupt file DATA_LOSS; anything else INTERNAL.
Status status_for(int rc, std::string message);

// The error of the last call on `db` on the index at `path`, while `doing`.
Status last_error(sqlite3* db, int rc, std::string_view path, std::string_view doing);

}  // namespace s3reconcile::sqlite
