// Collects a pass's imports and removals and writes them to the store in
// batches (one transaction each), counting what became of each change.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/outcomes.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/result.h"

namespace s3reconcile::internal {

// Safe to use from several threads (the merge adds imports, the removal
// confirmer adds removals).
class ChangeBatcher {
 public:
  // `batch_size` changes per transaction, each outcome told to `recorder`.
  // In a dry run nothing is written and every change counts as done. With
  // `writer_thread`, full batches are written by a thread of the batcher's
  // own while the merge goes on (the store is then used by that thread
  // alone; at most one batch is being written and one filling); without,
  // by the caller of add() (and the store may be shared with the caller).
  ChangeBatcher(IndexStore& store, std::string backend, std::size_t batch_size, Clock::time_point created_before,
                bool dry_run, OutcomeRecorder& recorder, bool writer_thread = false);
  ~ChangeBatcher();
  ChangeBatcher(const ChangeBatcher&) = delete;
  ChangeBatcher& operator=(const ChangeBatcher&) = delete;

  // Queues a change, writing the batch when it is full. Returns an error only
  // when the store is unusable (the pass must end).
  Status add(IndexChange change);

  // Writes what is queued and waits until every batch is written.
  Status flush();

  // Forgets queued removals not yet handed to the store (the pass failed:
  // removals decided before the failure are not applied after it; the next
  // pass decides again). Queued imports stay, to be flushed.
  void drop_removals();

 private:
  Status write(std::vector<IndexChange>& batch);
  void record(const IndexChange& change, const ChangeResult& outcome);
  // Hands `pending_` to the writer thread (lock held), waiting for it to be free.
  Status hand_off(MutexLock& lock) S3R_REQUIRES(mu_);
  void run_writer();

  IndexStore& store_;
  const std::string backend_;
  const std::size_t batch_size_;
  const Clock::time_point created_before_;
  const bool dry_run_;
  OutcomeRecorder& recorder_;

  Mutex mu_;
  std::condition_variable changed_;
  std::vector<IndexChange> pending_ S3R_GUARDED_BY(mu_);
  std::optional<std::vector<IndexChange>> handed_ S3R_GUARDED_BY(mu_);  // the writer's next batch
  bool writing_ S3R_GUARDED_BY(mu_) = false;
  bool closing_ S3R_GUARDED_BY(mu_) = false;
  Status failed_ S3R_GUARDED_BY(mu_);  // the store is unusable
  std::thread writer_;                 // last: started once everything it uses exists
};

}  // namespace s3reconcile::internal
