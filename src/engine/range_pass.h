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
#include "s3reconcile/range_plan.h"
#include "s3reconcile/reconcile.h"

namespace spdlog {
class logger;
}

namespace s3reconcile::internal {

std::shared_ptr<spdlog::logger> stderr_logger();

// What every range of one pass shares.
struct Pass {
  Pass(const BackendRef& backend, const PassScope& scope, const std::vector<std::string>& known_buckets,
       const PassOptions& options, Result& result, std::shared_ptr<spdlog::logger> log, Clock::time_point started_at)
      : backend(backend),
        paths(scope.paths()),
        classifier(std::make_shared<PathClassifier>(backend.buckets, known_buckets, backend.adopt_unprefixed)),
        options(options),
        result(result),
        log(std::move(log)),
        started_at(started_at),
        guard(options.limits, backend.name, paths),
        recorder(result, this->log, backend.name, options.dry_run, options.on_change) {
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
  const std::shared_ptr<spdlog::logger> log;
  const Clock::time_point started_at;
  internal::RemovalGuard guard;
  internal::OutcomeRecorder recorder;
  std::atomic<std::uint64_t> api_pages{0};
  std::atomic<std::uint64_t> rows_scanned{0};  // by every range, for the ratio guard
  // Set when the listing of `paths` is known to hold keys (a parallel pass
  // checks before splitting), so no range's empty slice looks like an empty backend.
  bool listing_has_keys = false;
  // Ends every range: the caller's stop, or one range failing.
  std::stop_source stop;
  std::optional<std::stop_callback<std::function<void()>>> caller_stop;
};

// Whether the backend lists at least one key under `prefix`: one page.
StatusOr<bool> listing_has_keys(ObjectLister& lister, const std::string& prefix, std::stop_token stop);

// Records how far a range got: every change for keys up to `applied_through`
// is written. Called from the merge's thread, at most every `every` keys
// merged, after the pipeline was drained; an error ends the range.
struct RangeCheckpoint {
  std::uint64_t every = 0;
  std::function<Status(const std::string& applied_through)> record;
};

// One sorted merge over `range` (of paths). `rows_store` serves the index
// cursor; `batcher` writes the changes; with `pipelined`, backend round
// trips (removal confirmations, adoption checks) run concurrently and the
// index is read ahead. Adds the range's listing and index counts to
// pass.result.
Status run_range(Pass& pass, const KeyInterval& range, IndexStore& rows_store, ChangeBatcher& batcher, bool pipelined,
                 const RangeCheckpoint* checkpoint = nullptr);

}  // namespace s3reconcile::internal
