#include "s3reconcile/handlers.h"

#include <spdlog/spdlog.h>

#include "engine/outcomes.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace internal {

void OutcomeRecorder::import(const Entry& entry, const Status& status, bool inserted) {
  std::lock_guard lock(mu_);
  if (!status.ok()) {
    ++result_.import_failed;
    log_->warn("import failed backend={} key={} error={}", backend_, quote_key(entry.key),
               quote_key(status.to_string()));
  } else if (inserted) {
    ++result_.imported;
    log_->debug("imported backend={} key={} size={}", backend_, quote_key(entry.key), entry.size);
    if (observer_) observer_(ChangeAction::kImport, entry);
  } else {
    ++result_.already_present;
  }
}

void OutcomeRecorder::removal(const Entry& entry, const Status& status, RemoveOutcome outcome) {
  std::lock_guard lock(mu_);
  if (status.code() == StatusCode::kAborted) return;  // refused by a guard: not a failure of this row
  if (!status.ok()) {
    ++result_.delete_failed;
    log_->warn("remove failed backend={} key={} error={}", backend_, quote_key(entry.key),
               quote_key(status.to_string()));
    return;
  }
  switch (outcome) {
    case RemoveOutcome::kRemoved:
      ++result_.removed;
      log_->info("removed backend={} key={} storage_key={}{}", backend_, quote_key(entry.key),
                 quote_key(entry.storage_key), dry_run_ ? " dry_run=true" : "");
      if (observer_) observer_(ChangeAction::kRemove, entry);
      break;
    case RemoveOutcome::kTooNew:
      ++result_.too_new;
      log_->info("kept row created during the pass backend={} key={}", backend_, quote_key(entry.key));
      break;
    case RemoveOutcome::kAlreadyGone:
      ++result_.already_gone;
      break;
    case RemoveOutcome::kObjectPresent:
      ++result_.raced;
      log_->info("kept row whose object is present again backend={} key={} storage_key={}", backend_,
                 quote_key(entry.key), quote_key(entry.storage_key));
      break;
  }
}

}  // namespace internal

EntryCallback import_handler(std::shared_ptr<spdlog::logger> log, std::string backend,
                             ImporterFn importer, Result& result, ChangeObserver observer) {
  auto recorder = std::make_shared<internal::OutcomeRecorder>(result, std::move(log), backend, false,
                                                               std::move(observer));
  return [recorder = std::move(recorder), backend = std::move(backend),
          importer = std::move(importer)](const Entry& entry) mutable -> Status {
    auto inserted = importer(entry, backend);
    recorder->import(entry, inserted.status(), inserted.ok() && *inserted);
    return ends_pass(inserted.status()) ? inserted.status() : ok_status();
  };
}

EntryCallback delete_handler(std::shared_ptr<spdlog::logger> log, std::string backend,
                             DeleterFn deleter, Result& result, ChangeObserver observer) {
  auto recorder = std::make_shared<internal::OutcomeRecorder>(result, std::move(log), backend, false,
                                                               std::move(observer));
  return [recorder = std::move(recorder), backend = std::move(backend),
          deleter = std::move(deleter)](const Entry& entry) mutable -> Status {
    auto outcome = deleter(entry, backend);
    recorder->removal(entry, outcome.status(), outcome.ok() ? *outcome : RemoveOutcome::kRemoved);
    return ends_pass(outcome.status()) ? outcome.status() : ok_status();
  };
}

}  // namespace s3reconcile
