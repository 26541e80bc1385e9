// Result: what one pass over one (backend, virtual bucket) did.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "s3reconcile/entry.h"

#include "s3reconcile/status.h"

namespace s3reconcile {

struct Result {
  std::string backend;
  std::string bucket;
  // OK, or why the pass ended early. Counters hold what happened until then.
  Status status;

  std::uint64_t listed = 0;           // entries the backend listing yielded
  std::uint64_t rows = 0;             // index rows scanned
  std::uint64_t imported = 0;         // rows inserted (or, in a dry run, that would be)
  std::uint64_t removed = 0;          // rows removed (or, in a dry run, that would be)
  std::uint64_t already_present = 0;  // import found the row already there
  std::uint64_t import_failed = 0;
  std::uint64_t delete_failed = 0;
  // Removal candidates kept because the backend still holds the object when
  // asked again (written after the listing passed its key).
  std::uint64_t raced = 0;
  // Removal candidates kept because their row was created after the pass began.
  std::uint64_t too_new = 0;
  // Removal candidates whose row was already gone when the removal ran.
  std::uint64_t already_gone = 0;
  // Unprefixed keys not adopted because the prefixed key also exists.
  std::uint64_t collisions = 0;
  std::uint64_t api_pages = 0;        // listing pages fetched
  std::uint64_t ranges = 1;           // key ranges the pass was split into
  std::chrono::milliseconds duration{0};
};

enum class ChangeAction { kImport, kRemove };

// Told about each import and removal a pass made (in a dry run: would have
// made), once it is done: an import that found its row already there, or a
// removal kept because the object is back, is not a change.
using ChangeObserver = std::function<void(ChangeAction, const Entry&)>;

}  // namespace s3reconcile
