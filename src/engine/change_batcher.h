// Collects a pass's imports and removals and writes them to the store in
// batches (one transaction each), counting what became of each change.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/outcomes.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/result.h"

namespace s3reconcile::internal {

class ChangeBatcher {
 public:
  // `batch_size` changes per transaction, each outcome told to `recorder`.
  // In a dry run nothing is written and every change counts as done.
  ChangeBatcher(IndexStore& store, std::string backend, std::size_t batch_size,
                Clock::time_point created_before, bool dry_run, OutcomeRecorder& recorder);

  // Queues a change, writing the batch when it is full. Returns an error only
  // when the store is unusable (the pass must end).
  Status add(IndexChange change);

  // Writes what is queued.
  Status flush();

  // Forgets queued removals (the pass failed: removals decided before the
  // failure are not applied after it; the next pass decides again). Queued
  // imports stay, to be flushed.
  void drop_removals();

 private:
  void record(const IndexChange& change, const ChangeResult& outcome);

  IndexStore& store_;
  const std::string backend_;
  const std::size_t batch_size_;
  const Clock::time_point created_before_;
  const bool dry_run_;
  OutcomeRecorder& recorder_;
  std::vector<IndexChange> pending_;
};

}  // namespace s3reconcile::internal
