// One range of a pass: the sorted merge over a key interval, with what
// every range of the pass shares. Used by reconcile_backend (one process,
// K ranges) and by shared passes (ranges claimed from a PassLedger).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/change_batcher.h"
#include "engine/outcomes.h"
#include "engine/removal_guard.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/db_cursor_stream.h"
#include "s3reconcile/range_plan.h"
#include "s3reconcile/reconcile.h"

namespace s3reconcile::internal {

// What every range of one pass shares.
struct Pass {
  Pass(const BackendRef& backend, const PassScope& scope, const std::vector<std::string>& known_buckets,
       const PassOptions& options, Result& result, EventLog log, Clock::time_point started_at)
      : backend(backend),
        paths(scope.paths()),
        classifier(std::make_shared<PathClassifier>(backend.buckets, known_buckets, backend.adopt_unprefixed)),
        options(options),
        result(result),
        log(std::move(log)),
        started_at(started_at),
        guard(options.limits, backend.name, paths),
        recorder(result, this->log, LiveSinks{options.counters, options.live_counts}, options.dry_run,
                 options.on_change) {
    if (options.stop.stop_possible()) {
      caller_stop.emplace(options.stop, std::function<void()>([this] { stop.request_stop(); }));
    }
  }

  const BackendRef& backend;
  // The path prefix the pass covers ("" = the whole backend).
  const std::string paths;
  const std::shared_ptr<const PathClassifier> classifier;
  const PassOptions& options;
  Result& result;
  const EventLog log;
  const Clock::time_point started_at;
  internal::RemovalGuard guard;
  internal::OutcomeRecorder recorder;
  std::atomic<std::uint64_t> api_pages{0};
  std::atomic<std::uint64_t> rows_scanned{0};  // by every range, for the ratio guard
  // Set when the listing of `paths` is known to hold keys (a parallel pass
  // checks before splitting), so no range's empty slice looks like an empty backend.
  bool listing_has_keys = false;
  // How the pass's pipeline runs, decided once for every range: with
  // connections to spare, candidates are confirmed `probe_concurrency` at a
  // time and each index page is announced to the store as soon as it is
  // known (or read on a thread, if the options ask for it); on a single
  // connection, which the writes share, neither, and a confirmer of
  // concurrency 1 (decisions inline).
  IndexReadAhead index_read_ahead = IndexReadAhead::kNone;
  std::size_t probe_concurrency = 1;
  // Listing pages the walk may request (0 = no limit): the budget, less what
  // the pass spent before the walk.
  std::uint64_t max_pages = 0;
  // Where the listing stopped at the request budget (a budgeted pass walks
  // one range, which alone writes it).
  std::optional<std::string> listing_cut;
  // Ends every range: the caller's stop, or one range failing.
  std::stop_source stop;
  std::optional<std::stop_callback<std::function<void()>>> caller_stop;
};

// Whether the backend lists at least one key under `prefix`: one page.
StatusOr<bool> listing_has_keys(ObjectLister& lister, const std::string& prefix, std::stop_token stop);

// A size mismatch with fix_sizes on, with what the backend said when asked
// again (HEAD / stat): the row is fixed only when the object is there with
// the listed size.
Status decide_resize(Pass& pass, const Entry& drift, StatusOr<std::optional<ObjectInfo>> probe, ChangeBatcher& batcher);

// When a range records how far it got. Asked from the merge's thread after
// each key; when due, the range drains its pipeline (every change so far
// written) and calls record() with the greatest path whose rows are all
// handled. An error from record() ends the range.
class CheckpointPolicy {
 public:
  virtual ~CheckpointPolicy() = default;
  virtual bool due(std::uint64_t keys_merged) = 0;
  virtual Status record(const std::string& applied_through) = 0;
};

// Never due: a pass in one process starts over after a failure.
CheckpointPolicy& no_checkpoints();

// Due every `every` keys merged (0: never); records through `record`.
class EveryKeysCheckpoint final : public CheckpointPolicy {
 public:
  EveryKeysCheckpoint(std::uint64_t every, std::function<Status(const std::string&)> record)
      : every_(every), record_(std::move(record)) {}
  bool due(std::uint64_t keys_merged) override;
  Status record(const std::string& applied_through) override { return record_(applied_through); }

 private:
  const std::uint64_t every_;
  const std::function<Status(const std::string&)> record_;
  std::uint64_t merged_at_last_ = 0;
};

// One sorted merge over `range` (of paths): builds the two streams and the
// sinks (the confirmer, `batcher`) as `pass` says, and runs sorted().
// `rows_store` serves the index cursor. Adds the range's listing and index
// counts to pass.result.
Status run_range(Pass& pass, const KeyInterval& range, IndexStore& rows_store, ChangeBatcher& batcher,
                 CheckpointPolicy& checkpoints = no_checkpoints());

}  // namespace s3reconcile::internal
