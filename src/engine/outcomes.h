// Counting, logging and reporting what became of one import or removal,
// shared by the per-row handlers and the batch writer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "s3reconcile/entry.h"
#include "s3reconcile/event_log.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/live_counts.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/result.h"

namespace s3reconcile::internal {

// Where counts also go as they happen, both optional: imports and removals
// to the progress display's counters, every count to `counts`.
struct LiveSinks {
  MergeCounters* progress = nullptr;
  LiveCounts* counts = nullptr;
};

// Safe to call from several threads: the writer, the removal confirmer and
// the ranges of a parallel pass all report here, and the observer is called
// from one thread at a time.
class OutcomeRecorder {
 public:
  OutcomeRecorder(Result& result, EventLog log, LiveSinks live, bool dry_run, ChangeObserver observer)
      : result_(result), log_(std::move(log)), live_(live), dry_run_(dry_run), observer_(std::move(observer)) {}

  // What became of an import: failed (logged at warn), inserted, held back
  // (the path is queued for deletion), or not needed (the row was there; for
  // an adopted path, a row known by "default/<path>" is a collision).
  void import(const Entry& entry, const ChangeResult& outcome);

  // An adopted orphan not imported because "default/<path>" exists on the
  // backend (`probe` OK) or the backend could not say (`probe` an error,
  // counted as a failed import).
  void collision(const Entry& entry, const Status& probe);

  // An orphan of a backend whose orphans are reported, not imported.
  void orphan_reported(const Entry& entry);

  // A path on both sides whose sizes differ (`drift`: the row, with the
  // backend's size and `index_size`): counted and logged with both sizes.
  // Unless `will_fix` (fix_sizes on: the backend is asked again first), it
  // is reported as a size mismatch left alone.
  void size_mismatch(const Entry& drift, bool will_fix);

  // A mismatch fix_sizes did not fix before the write (`why`: the object
  // changed size again or vanished when asked, or it could not be asked).
  void resize_skipped(const Entry& drift, std::string_view why);

  // What became of a resize the store was asked to make (`status` not OK: it
  // failed).
  void resize(const Entry& drift, const Status& status, ResizeOutcome outcome);

  // What a range walked: entries listed and rows scanned, in total and by
  // bucket. Every count of the Result goes through here (and its lock).
  void walked(std::uint64_t listed, std::uint64_t rows, const std::map<std::string, std::uint64_t>& listed_by_bucket,
              const std::map<std::string, std::uint64_t>& rows_by_bucket);

  // The first error the observer returned, or OK: once set, no more changes
  // may be applied.
  Status failure() const {
    MutexLock lock(mu_);
    return observer_failure_;
  }

  // `status` not OK: a failed removal (logged at warn); else its outcome.
  // Removals are logged at info.
  void removal(const Entry& entry, const Status& status, RemoveOutcome outcome);

 private:
  // Adds one to `field` of the totals and of the entry's bucket (lock held).
  void count(const Entry& entry, std::uint64_t PassCounts::*field) S3R_REQUIRES(mu_);
  // Tells the observer (lock held), keeping its first error.
  void observe(ChangeAction action, const Entry& entry) S3R_REQUIRES(mu_);
  // Counts and logs a mismatch left alone, and reports it (lock held).
  void left_alone(const Entry& drift, std::string_view why) S3R_REQUIRES(mu_);

  Result& result_;
  EventLog log_;
  const LiveSinks live_;
  const bool dry_run_;
  const ChangeObserver observer_;
  mutable Mutex mu_;
  Status observer_failure_ S3R_GUARDED_BY(mu_);
};

}  // namespace s3reconcile::internal
