// The sorted merge: the heart of a reconcile pass.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stop_token>

#include "s3reconcile/entry.h"
#include "s3reconcile/key_source.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// Called by the merge with an entry seen on one side only. Returning an error
// ends the merge with that error.
using EntryCallback = std::function<Status(const Entry&)>;

// Called by the merge for each row whose path is listed: the listed entry,
// then the row. Returning an error ends the merge with that error.
using MatchCallback = std::function<Status(const Entry& listed, const Entry& row)>;

// What the merge calls: on_import and on_delete as below; on_match, when
// set, for every row whose path is listed (where sizes are compared).
struct MergeCallbacks {
  EntryCallback on_import;
  EntryCallback on_delete;
  MatchCallback on_match;
};

// Entries read from each side so far; safe to read from other threads while
// the merge runs (for progress displays).
struct MergeCounts {
  std::uint64_t listed = 0;
  std::uint64_t rows = 0;
  std::uint64_t imported = 0;  // rows inserted (in a dry run: that would be)
  std::uint64_t removed = 0;   // rows deleted (in a dry run: that would be)
};

// Live counts, written by the pass's threads and read by another's.
struct MergeCounters {
  std::atomic<std::uint64_t> listed{0};
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> imported{0};
  std::atomic<std::uint64_t> removed{0};

  MergeCounts snapshot() const {
    return MergeCounts{listed.load(std::memory_order_relaxed), rows.load(std::memory_order_relaxed),
                       imported.load(std::memory_order_relaxed), removed.load(std::memory_order_relaxed)};
  }
};

// Walks the backend listing and the index cursor in lockstep on the path
// the bytes live at (Entry::storage_key), compared in byte order:
//   - on_import for paths only in `listing`,
//   - on_delete for each row whose path is not in `listing`,
//   - nothing for paths on both sides. Several rows may share a path (copies
//     known under two names); a listed path matches every one of them.
// When the listing ends cut short (KeySource::cut_after(), a request
// budget), the merge ends OK at the first row past the cut: no row past
// the last path listed is judged.
//
// The merge ends, returning the error, at the first of:
//   - an error from either source (nothing after it is treated as missing);
//   - an error returned by a callback;
//   - a path out of order: on the listing, one not strictly greater than
//     the one before; on the index, one smaller than the one before
//     (FAILED_PRECONDITION naming the side and both paths; no callback runs
//     for either: each side is read one entry ahead of the callbacks);
//   - a stop requested on `stop` (CANCELLED).
// No callback runs after the merge has decided to end.
Status sorted(KeySource& listing, KeySource& index, const EntryCallback& on_import, const EntryCallback& on_delete,
              std::stop_token stop = {}, MergeCounters* counters = nullptr);

// The same, calling callbacks.on_match (when set) for each row matched.
Status sorted(KeySource& listing, KeySource& index, const MergeCallbacks& callbacks, std::stop_token stop = {},
              MergeCounters* counters = nullptr);

}  // namespace s3reconcile
