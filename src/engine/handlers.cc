#include "s3reconcile/handlers.h"

#include <spdlog/spdlog.h>

#include "engine/outcomes.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace internal {

void record_import(Result& result, spdlog::logger& log, std::string_view backend, const Entry& entry,
                   const Status& status, bool inserted) {
  if (!status.ok()) {
    ++result.import_failed;
    log.warn("import failed backend={} key={} error={}", backend, quote_key(entry.key), status.to_string());
  } else if (inserted) {
    ++result.imported;
    log.debug("imported backend={} key={} size={}", backend, quote_key(entry.key), entry.size);
  } else {
    ++result.already_present;
  }
}

void record_removal(Result& result, spdlog::logger& log, std::string_view backend, const Entry& entry,
                    const Status& status, RemoveOutcome outcome, bool dry_run) {
  if (!status.ok()) {
    ++result.delete_failed;
    log.warn("remove failed backend={} key={} error={}", backend, quote_key(entry.key), status.to_string());
    return;
  }
  switch (outcome) {
    case RemoveOutcome::kRemoved:
      ++result.removed;
      log.info("removed backend={} key={} storage_key={}{}", backend, quote_key(entry.key),
               quote_key(entry.storage_key), dry_run ? " dry_run=true" : "");
      break;
    case RemoveOutcome::kTooNew:
      ++result.too_new;
      log.info("kept row created during the pass backend={} key={}", backend, quote_key(entry.key));
      break;
    case RemoveOutcome::kAlreadyGone:
      ++result.already_gone;
      break;
    case RemoveOutcome::kObjectPresent:
      ++result.raced;
      log.info("kept row whose object is present again backend={} key={} storage_key={}", backend,
               quote_key(entry.key), quote_key(entry.storage_key));
      break;
  }
}

}  // namespace internal

EntryCallback import_handler(std::shared_ptr<spdlog::logger> log, std::string backend,
                             ImporterFn importer, Result& result) {
  return [log = std::move(log), backend = std::move(backend), importer = std::move(importer),
          &result](const Entry& entry) -> Status {
    auto inserted = importer(entry, backend);
    internal::record_import(result, *log, backend, entry, inserted.status(), inserted.ok() && *inserted);
    return ends_pass(inserted.status()) ? inserted.status() : ok_status();
  };
}

EntryCallback delete_handler(std::shared_ptr<spdlog::logger> log, std::string backend,
                             DeleterFn deleter, Result& result) {
  return [log = std::move(log), backend = std::move(backend), deleter = std::move(deleter),
          &result](const Entry& entry) -> Status {
    auto outcome = deleter(entry, backend);
    internal::record_removal(result, *log, backend, entry, outcome.status(),
                             outcome.ok() ? *outcome : RemoveOutcome::kRemoved, false);
    return ends_pass(outcome.status()) ? outcome.status() : ok_status();
  };
}

}  // namespace s3reconcile
