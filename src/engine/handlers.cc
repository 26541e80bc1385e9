#include "s3reconcile/handlers.h"

#include "engine/outcomes.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace internal {

void OutcomeRecorder::count(const Entry& entry, std::uint64_t PassCounts::*field) {
  ++(result_.*field);
  ++(result_.buckets[entry.bucket].*field);
  if (live_.progress != nullptr && field == &PassCounts::imported) {
    live_.progress->imported.fetch_add(1, std::memory_order_relaxed);
  }
  if (live_.progress != nullptr && field == &PassCounts::removed) {
    live_.progress->removed.fetch_add(1, std::memory_order_relaxed);
  }
  if (live_.counts != nullptr) live_.counts->add(entry.bucket, field, 1);
}

void OutcomeRecorder::walked(std::uint64_t listed, std::uint64_t rows,
                             const std::map<std::string, std::uint64_t>& listed_by_bucket,
                             const std::map<std::string, std::uint64_t>& rows_by_bucket) {
  MutexLock lock(mu_);
  result_.listed += listed;
  result_.rows += rows;
  for (const auto& [bucket, n] : listed_by_bucket) result_.buckets[bucket].listed += n;
  for (const auto& [bucket, n] : rows_by_bucket) result_.buckets[bucket].rows += n;
}

void OutcomeRecorder::observe(ChangeAction action, const Entry& entry) {
  if (!observer_) return;
  Status told = observer_(action, entry);
  if (!told.ok() && observer_failure_.ok()) {
    observer_failure_ = std::move(told);
    log_.error("change not recorded",
               {{"bucket", entry.bucket}, {"key", key_text(entry.key)}, {"error", observer_failure_.to_string()}});
  }
}

void OutcomeRecorder::import(const Entry& entry, const ChangeResult& outcome) {
  MutexLock lock(mu_);
  if (!outcome.status.ok()) {
    count(entry, &PassCounts::import_failed);
    log_.warn("import failed", {{"bucket", entry.bucket},
                                {"key", key_text(entry.key)},
                                {"storage_key", key_text(entry.storage_key)},
                                {"error", outcome.status.to_string()}});
  } else if (outcome.pending_delete) {
    count(entry, &PassCounts::pending_delete);
    log_.info("not imported: the service is deleting it",
              {{"bucket", entry.bucket}, {"storage_key", key_text(entry.storage_key)}});
  } else if (outcome.inserted) {
    count(entry, &PassCounts::imported);
    if (log_.enabled(LogLevel::kDebug)) {
      log_.debug("imported", {{"bucket", entry.bucket},
                              {"key", key_text(entry.key)},
                              {"storage_key", key_text(entry.storage_key)},
                              {"size", entry.size},
                              {"dry_run", dry_run_}});
    }
    observe(ChangeAction::kImport, entry);
  } else if (entry.adopted) {
    // The listing matched no row at this path, so the row known by
    // "default/<path>" points at another path: the native object wins.
    count(entry, &PassCounts::collisions);
    log_.warn("unprefixed key not adopted: an index row already exists",
              {{"bucket", entry.bucket}, {"storage_key", key_text(entry.storage_key)}, {"key", key_text(entry.key)}});
  } else {
    count(entry, &PassCounts::already_present);
  }
}

void OutcomeRecorder::collision(const Entry& entry, const Status& probe) {
  MutexLock lock(mu_);
  if (!probe.ok()) {
    count(entry, &PassCounts::import_failed);
    log_.warn("import failed", {{"bucket", entry.bucket},
                                {"key", key_text(entry.key)},
                                {"storage_key", key_text(entry.storage_key)},
                                {"error", probe.to_string()}});
    return;
  }
  count(entry, &PassCounts::collisions);
  log_.warn("unprefixed key collides with a prefixed object, which is kept",
            {{"bucket", entry.bucket}, {"storage_key", key_text(entry.storage_key)}, {"key", key_text(entry.key)}});
}

void OutcomeRecorder::orphan_reported(const Entry& entry) {
  MutexLock lock(mu_);
  count(entry, &PassCounts::orphans_reported);
  log_.info("orphan", {{"bucket", entry.bucket},
                       {"key", key_text(entry.key)},
                       {"storage_key", key_text(entry.storage_key)},
                       {"size", entry.size}});
  observe(ChangeAction::kOrphan, entry);
}

void OutcomeRecorder::removal(const Entry& entry, const Status& status, RemoveOutcome outcome) {
  MutexLock lock(mu_);
  if (status.code() == StatusCode::kAborted) return;  // refused by a guard: not a failure of this row
  if (!status.ok()) {
    count(entry, &PassCounts::delete_failed);
    log_.warn("remove failed", {{"bucket", entry.bucket}, {"key", key_text(entry.key)}, {"error", status.to_string()}});
    return;
  }
  switch (outcome) {
    case RemoveOutcome::kRemoved:
      count(entry, &PassCounts::removed);
      log_.info("removed", {{"bucket", entry.bucket},
                            {"key", key_text(entry.key)},
                            {"storage_key", key_text(entry.storage_key)},
                            {"dry_run", dry_run_}});
      observe(ChangeAction::kRemove, entry);
      break;
    case RemoveOutcome::kTooNew:
      count(entry, &PassCounts::too_new);
      log_.info("kept row created during the pass", {{"bucket", entry.bucket}, {"key", key_text(entry.key)}});
      break;
    case RemoveOutcome::kAlreadyGone:
      count(entry, &PassCounts::already_gone);
      break;
    case RemoveOutcome::kObjectPresent:
      count(entry, &PassCounts::raced);
      log_.info("kept row whose object is present again",
                {{"bucket", entry.bucket}, {"key", key_text(entry.key)}, {"storage_key", key_text(entry.storage_key)}});
      break;
  }
}

void OutcomeRecorder::size_mismatch(const Entry& drift, bool will_fix) {
  MutexLock lock(mu_);
  count(drift, &PassCounts::size_mismatch);
  log_.warn("size mismatch", {{"bucket", drift.bucket},
                              {"key", key_text(drift.key)},
                              {"storage_key", key_text(drift.storage_key)},
                              {"index_size", drift.index_size.value_or(0)},
                              {"backend_size", drift.size}});
  if (!will_fix) observe(ChangeAction::kSizeMismatch, drift);
}

void OutcomeRecorder::left_alone(const Entry& drift, std::string_view why) {
  count(drift, &PassCounts::resize_skipped);
  log_.info("size not fixed", {{"bucket", drift.bucket},
                               {"key", key_text(drift.key)},
                               {"storage_key", key_text(drift.storage_key)},
                               {"index_size", drift.index_size.value_or(0)},
                               {"backend_size", drift.size},
                               {"reason", std::string(why)}});
  observe(ChangeAction::kSizeMismatch, drift);
}

void OutcomeRecorder::resize_skipped(const Entry& drift, std::string_view why) {
  MutexLock lock(mu_);
  left_alone(drift, why);
}

void OutcomeRecorder::resize(const Entry& drift, const Status& status, ResizeOutcome outcome) {
  MutexLock lock(mu_);
  if (!status.ok()) {
    log_.warn("resize failed", {{"bucket", drift.bucket}, {"key", key_text(drift.key)}, {"error", status.to_string()}});
    left_alone(drift, "the update failed");
    return;
  }
  switch (outcome) {
    case ResizeOutcome::kResized:
      count(drift, &PassCounts::resized);
      log_.info("resized", {{"bucket", drift.bucket},
                            {"key", key_text(drift.key)},
                            {"storage_key", key_text(drift.storage_key)},
                            {"index_size", drift.index_size.value_or(0)},
                            {"backend_size", drift.size},
                            {"dry_run", dry_run_}});
      observe(ChangeAction::kResize, drift);
      break;
    case ResizeOutcome::kTooNew:
      left_alone(drift, "the row was created during the pass");
      break;
    case ResizeOutcome::kChanged:
      left_alone(drift, "the row changed or went since it was read");
      break;
  }
}

}  // namespace internal

EntryCallback import_handler(EventLog log, std::string backend, ImporterFn importer, Result& result,
                             ChangeObserver observer) {
  auto recorder = std::make_shared<internal::OutcomeRecorder>(result, log.with({{"backend", backend}}),
                                                              internal::LiveSinks{}, false, std::move(observer));
  return [recorder = std::move(recorder), backend = std::move(backend),
          importer = std::move(importer)](const Entry& entry) mutable -> Status {
    auto inserted = importer(entry, backend);
    ChangeResult outcome;
    outcome.status = inserted.status();
    outcome.inserted = inserted.ok() && *inserted;
    recorder->import(entry, outcome);
    return ends_pass(inserted.status()) ? inserted.status() : ok_status();
  };
}

EntryCallback delete_handler(EventLog log, std::string backend, DeleterFn deleter, Result& result,
                             ChangeObserver observer) {
  auto recorder = std::make_shared<internal::OutcomeRecorder>(result, log.with({{"backend", backend}}),
                                                              internal::LiveSinks{}, false, std::move(observer));
  return [recorder = std::move(recorder), backend = std::move(backend),
          deleter = std::move(deleter)](const Entry& entry) mutable -> Status {
    auto outcome = deleter(entry, backend);
    recorder->removal(entry, outcome.status(), outcome.ok() ? *outcome : RemoveOutcome::kRemoved);
    return ends_pass(outcome.status()) ? outcome.status() : ok_status();
  };
}

}  // namespace s3reconcile
