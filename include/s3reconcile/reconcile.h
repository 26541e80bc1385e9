// reconcile_backend: one pass over one (backend, virtual bucket) pair.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/index_store.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/object_lister.h"
#include "s3reconcile/object_prober.h"
#include "s3reconcile/result.h"

namespace spdlog {
class logger;
}

namespace s3reconcile {

// A backend as the engine sees it: a name, how to list it, how to ask it
// about one key, and which virtual buckets it stores.
struct BackendRef {
  std::string name;
  ObjectLister* lister = nullptr;  // required
  ObjectProber* prober = nullptr;  // required: removals are confirmed
  // The virtual buckets stored here; the first is the default bucket.
  std::vector<std::string> buckets;
  // Adopt keys under no known bucket prefix into the default bucket
  // (unprefixed_keys: adopt), or leave them alone (ignore).
  bool adopt_unprefixed = true;
};

// Limits that stop a pass from removing rows wholesale when something is off
// (a wrong bucket, an empty mount, a listing the server cut short while
// claiming it was complete). Tripping one ends the pass with ABORTED saying
// which and how to override it; removals admitted
// before it are written.
struct RemovalLimits {
  // Remove rows even when the listing under the bucket prefix is empty while
  // the index holds rows for it.
  bool allow_empty_listing = false;
  // At most this many removals per pass; 0 = no limit.
  std::uint64_t max_removals = 0;
  // At most this share of the rows scanned may be removed (1 = no limit),
  // checked once `ratio_min_rows` rows were scanned.
  double max_removal_ratio = 1.0;
  std::uint64_t ratio_min_rows = 1000;
};

struct PassOptions {
  // Rows per index query.
  std::size_t page_size = 1000;
  // Entries the listing producer may run ahead of the merge.
  std::size_t queue_size = 1000;
  // Index changes written per transaction. 1 writes each change on its own
  // as it is found (the seed's unbatched handlers).
  std::size_t batch_size = 500;
  // Report what would change, change nothing. Removals are still confirmed
  // against the backend so that the counts match a real pass.
  bool dry_run = false;
  // Rows created at or after this instant are never removed. Defaults to the
  // moment the pass starts when left at the epoch.
  Clock::time_point started_at{};
  // Stops the pass (CANCELLED) from another thread or a signal handler.
  std::stop_token stop;
  // Where the pass logs; a logger writing to stderr when null.
  std::shared_ptr<spdlog::logger> logger;
  RemovalLimits limits;
  // Hears of each import and removal done (or, in a dry run, that would be).
  ChangeObserver on_change;
  // Live counts of entries each side has produced, for progress displays
  // read from another thread. Optional.
  MergeCounters* counters = nullptr;

  // Opens another connection to the same index. With it (and batch_size >
  // 1) the pass is pipelined: changes are written by a writer thread on a
  // connection of its own while the merge goes on, the next index page is
  // read while the current one is merged, and removal candidates are
  // confirmed `probe_concurrency` at a time. Without it the pass uses
  // `store` alone, one step after another, in one range.
  std::function<StatusOr<std::unique_ptr<IndexStore>>()> open_store;
  // Key ranges walked at once (needs open_store and batch_size > 1). The
  // bucket is split at the index's key quantiles (or, with an empty index,
  // at the listing's top-level names); each range is an independent sorted
  // merge with a connection of its own. The result is the same as with one
  // range, key for key.
  std::size_t parallelism = 1;
  // Removal confirmations (HEAD / stat) in flight at once, per range.
  std::size_t probe_concurrency = 8;
};

// Lists `bucket` on the backend and pages the index for the same bucket,
// merges them, imports orphans and removes stale rows (after confirming with
// the prober that each storage key is absent), in batches of `batch_size`.
// When the pass fails, removals not yet written are dropped. `known_buckets` are every
// virtual bucket of the deployment: keys under another one's prefix are its,
// not ours. The Result's status says whether the pass completed.
Result reconcile_backend(const BackendRef& backend, std::string_view bucket,
                         const std::vector<std::string>& known_buckets, IndexStore& store,
                         const PassOptions& options);

}  // namespace s3reconcile
