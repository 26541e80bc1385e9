// Result: what one pass over one backend (or a narrowed part of it) did.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "s3reconcile/entry.h"

#include "s3reconcile/status.h"

namespace s3reconcile {

// The counters of a pass, of one of its virtual buckets, or of one range:
// one struct, added up the same way wherever counts are summed.
struct PassCounts {
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
  // Unprefixed paths not adopted because "default/<path>" exists on the
  // backend or is already an index row pointing elsewhere.
  std::uint64_t collisions = 0;
  // Orphans not imported because the service has queued their path for
  // deletion (the store's pending-delete query answered a row).
  std::uint64_t pending_delete = 0;
  // Orphans of a backend with `orphans: report`: reported, never imported.
  std::uint64_t orphans_reported = 0;
  // Paths on both sides whose row's size_bytes differs from the backend's
  // size (seen, whether or not fixed).
  std::uint64_t size_mismatch = 0;
  // Rows whose size_bytes was set to the backend's size (reconcile.fix_sizes;
  // in a dry run: would be).
  std::uint64_t resized = 0;
  // Size mismatches left alone although fix_sizes is on: the object changed
  // size again or vanished by the time it was asked (HEAD / stat), its row
  // was created after the pass began or changed meanwhile, or the update
  // failed. The next pass judges them again.
  std::uint64_t resize_skipped = 0;

  PassCounts& operator+=(const PassCounts& o);
  // Calls f(name, value) for every counter, in declaration order: how
  // counts become JSON, ledger records and metrics without listing the
  // fields again.
  template <typename F>
  void for_each(F&& f) const;
};

// Every counter of PassCounts, by name: the one list of them.
inline constexpr std::pair<std::string_view, std::uint64_t PassCounts::*> kPassCountFields[] = {
    {"listed", &PassCounts::listed},
    {"rows", &PassCounts::rows},
    {"imported", &PassCounts::imported},
    {"removed", &PassCounts::removed},
    {"already_present", &PassCounts::already_present},
    {"import_failed", &PassCounts::import_failed},
    {"delete_failed", &PassCounts::delete_failed},
    {"raced", &PassCounts::raced},
    {"too_new", &PassCounts::too_new},
    {"already_gone", &PassCounts::already_gone},
    {"collisions", &PassCounts::collisions},
    {"pending_delete", &PassCounts::pending_delete},
    {"orphans_reported", &PassCounts::orphans_reported},
    {"size_mismatch", &PassCounts::size_mismatch},
    {"resized", &PassCounts::resized},
    {"resize_skipped", &PassCounts::resize_skipped},
};

template <typename F>
void PassCounts::for_each(F&& f) const {
  for (const auto& [name, field] : kPassCountFields) f(name, this->*field);
}

// Counts as one flat JSON object ({"listed":6,"rows":5,...}): how the stores
// keep them (the ledger's ranges, the pass records) in one column, so that
// a new counter needs no schema change.
std::string pass_counts_json(const PassCounts& counts);
// The counts from such an object; a counter missing from it (written by an
// older build) reads as 0, a name it does not know is ignored.
PassCounts pass_counts_from_json(std::string_view json);

struct Result : PassCounts {
  // The pass's id (PassOptions::pass_id; a shared pass's ledger id), under
  // which it is recorded in the index (PassRecords) and can be named.
  std::string pass_id;
  std::string backend;
  // The pass was narrowed to this virtual bucket (--bucket); "" when it
  // covered the whole backend or a --prefix.
  std::string bucket;
  // The paths the pass covered: "" for the whole backend, "b/" for a
  // bucket, or the --prefix given.
  std::string prefix;
  // OK, or why the pass ended early. Counters hold what happened until then.
  Status status;
  // The counts of each virtual bucket the pass's paths were classified into
  // (the totals above are their sum). Key "" holds index rows whose
  // object_key is under no known bucket.
  std::map<std::string, PassCounts> buckets;
  std::uint64_t api_pages = 0;  // listing pages fetched
  std::uint64_t ranges = 1;     // key ranges the pass was split into
  // The pass spent its request budget (PassOptions::max_list_requests)
  // before the end of its paths: a partial success (status OK) that
  // judged nothing past `resume_after`.
  bool stopped_at_budget = false;
  // Where the next pass over the same paths starts (after this path): the
  // last path listed when stopped_at_budget, else "" (from the start: a
  // pass that reached the end wraps around). Meaningful when status is OK.
  std::string resume_after;
  // Where this pass started (PassOptions::resume_after).
  std::string started_after;
  std::chrono::milliseconds duration{0};

  PassCounts& totals() { return *this; }
  const PassCounts& totals() const { return *this; }
  // Adds another part of the same pass (a range, a shared pass's work).
  void add(const Result& o);
};

enum class ChangeAction {
  kImport,  // an orphan imported
  kRemove,  // a stale row removed
  kOrphan,  // an orphan reported, not imported (orphans: report)
  // A row's size_bytes set to the backend's size (reconcile.fix_sizes). The
  // entry's `index_size` is the size the row held, `size` the new one.
  kResize,
  // A size mismatch reported and left alone (fix_sizes off, or the
  // backend's answer or the row changed before it could be fixed): the
  // same two sizes, nothing written.
  kSizeMismatch,
};

// Told about each import, removal and resize a pass made (in a dry run:
// would have made), once it is done, and of each orphan and size mismatch
// reported: an import that found
// its row already there, or a removal kept because the object is back, is
// not a change. An error (the change log could not be written) fails the
// pass before its next batch of changes is applied: a change log is only
// worth keeping if it holds every change.
using ChangeObserver = std::function<Status(ChangeAction, const Entry&)>;

}  // namespace s3reconcile
