// IndexStore: what a pass needs from the SQL index (object_locations).
#pragma once

#include <string_view>

#include "s3reconcile/db_key_lister.h"
#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

enum class RemoveOutcome {
  kRemoved,      // the row was deleted
  kTooNew,       // the row was created at or after the cutoff; kept
  kAlreadyGone,  // there was no such row any more
  // The backend still holds the object when asked again: kept. Never
  // returned by a store; the removal's confirmation step answers it.
  kObjectPresent,
};

// Implemented by each store (SQLite, PostgreSQL). A store orders keys by
// byte order whatever its collation settings, and never changes an existing
// row on import.
class IndexStore : public DBKeyLister {
 public:
  // Inserts (object_key = entry.key, storage_key, size, created_at) for
  // `backend` unless a row with that key and backend exists. Returns true
  // when it inserted, false when the row was already there (left unchanged).
  virtual StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& entry,
                                          Clock::time_point created_at) = 0;

  // Deletes the row (object_key, backend) only if it was created before
  // `created_before` (the pass's start: rows written during a pass are never
  // removed by it).
  virtual StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend,
                                                           std::string_view object_key,
                                                           Clock::time_point created_before) = 0;
};

}  // namespace s3reconcile
