// reconcile_backend: one pass over one backend, or a narrowed part of it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/event_log.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/live_counts.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/object_lister.h"
#include "s3reconcile/object_prober.h"
#include "s3reconcile/result.h"

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
  // Import orphans (orphans: import), or only report them (report), for
  // layouts whose orphan bytes have no name to be imported under.
  bool import_orphans = true;
};

// Which paths of a backend a pass covers.
struct PassScope {
  // Only paths under "bucket/" (one of the backend's buckets); "" = no
  // bucket narrowing.
  std::string bucket;
  // Only paths starting with this, when no bucket is given ("" = all).
  std::string prefix;

  // The path prefix the pass lists and pages: "bucket/", or `prefix`.
  std::string paths() const { return bucket.empty() ? prefix : bucket + "/"; }
};

// Limits that stop a pass from removing rows wholesale when something is off
// (a wrong bucket, an empty mount, a listing the server cut short while
// claiming it was complete). Tripping one ends the pass with ABORTED saying
// which and how to override it; removals admitted
// before it are written.
struct RemovalLimits {
  // Remove rows even when the listing of the paths the pass covers is empty
  // while the index holds rows for them.
  bool allow_empty_listing = false;
  // At most this many removals per pass; 0 = no limit.
  std::uint64_t max_removals = 0;
  // At most this share of the rows scanned may be removed (1 = no limit),
  // checked once `ratio_min_rows` rows were scanned.
  double max_removal_ratio = 1.0;
  std::uint64_t ratio_min_rows = 1000;
};

struct PassOptions {
  // The pass's id (new_pass_id()), carried on its Result so that its record,
  // its logs and anything showing passes name it alike. The pass makes one
  // up when it is "".
  std::string pass_id;
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
  // Where the pass logs (text on stderr by default). Every line of the
  // pass also carries pass_id, backend, bucket and paths.
  EventLog logger;
  RemovalLimits limits;
  // Hears of each import and removal done (or, in a dry run, that would be).
  ChangeObserver on_change;
  // Live counts of entries each side has produced, for progress displays
  // read from another thread. Optional.
  MergeCounters* counters = nullptr;
  // Every count of the pass, by bucket, as it is made (LiveCounts), for
  // metrics and status pages read while the pass runs. Optional.
  LiveCounts* live_counts = nullptr;

  // Opens another connection to the same index. With it (and batch_size >
  // 1) the pass is pipelined: changes are written by a writer thread on a
  // connection of its own while the merge goes on (the next index page's
  // query sent ahead to the store, or read on a thread with
  // index_read_ahead, while the current one is merged), and removal
  // candidates are confirmed `probe_concurrency` at a time. Without it the
  // pass uses `store` alone, one step after another, in one range.
  std::function<StatusOr<std::unique_ptr<IndexStore>>()> open_store;
  // Key ranges walked at once (needs open_store and batch_size > 1). The
  // bucket is split at the index's key quantiles (or, with an empty index,
  // at the listing's top-level names); each range is an independent sorted
  // merge with a connection of its own. The result is the same as with one
  // range, key for key.
  std::size_t parallelism = 1;
  // Removal confirmations (HEAD / stat) in flight at once, per range.
  std::size_t probe_concurrency = 8;
  // Query the index's next page on a thread of its own (one per range)
  // while the merge works through the current one (reconcile.
  // index_read_ahead; a pipelined pass only). Off by default: the listing
  // runs ahead of the merge on its own thread already, and each index query
  // is sent ahead on the merge's thread (DBKeyLister::
  // list_by_storage_key_next), so a page costs the pass no time unless the
  // listing outruns the index (a local folder against a distant index),
  // while the extra thread's hand-over every page cost a fifth of the pass's
  // context switches (BENCHMARKS.md).
  bool index_read_ahead = false;
  // Set a row's size_bytes to the backend's size when they differ, once
  // the backend, asked again (HEAD / stat), confirms the listed size
  // (reconcile.fix_sizes). Off: mismatches are counted and reported only.
  bool fix_sizes = false;
  // The request budget (reconcile.max_list_requests): list at most this
  // many pages (0 = no limit). A pass that spends it reconciles what it
  // listed, judges nothing past the last path listed, and says where it
  // stopped (Result::stopped_at_budget, Result::resume_after). It walks
  // as one range: a budget is spent in key order.
  std::uint64_t max_list_requests = 0;
  // Start after this path on both sides ("" = from the start): where an
  // earlier pass stopped at its budget.
  std::string resume_after;
};

// `base` with the context every line of a pass carries: pass_id, backend,
// bucket and paths.
EventLog pass_log(const EventLog& base, const std::string& pass_id, const std::string& backend, const PassScope& scope);

// Lists the backend once (the paths `scope` covers) and pages the index rows
// of that backend in storage_key order over the same paths, merges them on
// the path, imports orphans (or reports them) and removes stale rows (after
// confirming with the prober that each path is absent), in batches of
// `batch_size`. Each path is classified into a virtual bucket on the way
// (PathClassifier); `known_buckets` are every virtual bucket of the
// deployment: paths under one not stored on this backend are left out. When
// the pass fails, removals not yet written are dropped. The Result's status
// says whether the pass completed; its counts are per bucket and in total.
Result reconcile_backend(const BackendRef& backend, const std::vector<std::string>& known_buckets, IndexStore& store,
                         const PassOptions& options, const PassScope& scope = {});

}  // namespace s3reconcile
