// Counting, logging and reporting what became of one import or removal,
// shared by the per-row handlers and the batch writer.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "s3reconcile/entry.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/result.h"

namespace spdlog {
class logger;
}

namespace s3reconcile::internal {

// Safe to call from several threads: the writer, the removal confirmer and
// the ranges of a parallel pass all report here, and the observer is called
// from one thread at a time.
class OutcomeRecorder {
 public:
  OutcomeRecorder(Result& result, std::shared_ptr<spdlog::logger> log, std::string backend, bool dry_run,
                  ChangeObserver observer)
      : result_(result), log_(std::move(log)), backend_(std::move(backend)), dry_run_(dry_run),
        observer_(std::move(observer)) {}

  // `status` not OK: a failed import (logged at warn); else inserted or not.
  void import(const Entry& entry, const Status& status, bool inserted);

  // `status` not OK: a failed removal (logged at warn); else its outcome.
  // Removals are logged at info.
  void removal(const Entry& entry, const Status& status, RemoveOutcome outcome);

 private:
  Result& result_;
  std::shared_ptr<spdlog::logger> log_;
  const std::string backend_;
  const bool dry_run_;
  const ChangeObserver observer_;
  std::mutex mu_;
};

}  // namespace s3reconcile::internal
