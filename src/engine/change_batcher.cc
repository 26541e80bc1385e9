#include "engine/change_batcher.h"

#include <algorithm>


namespace s3reconcile::internal {

ChangeBatcher::ChangeBatcher(IndexStore& store, std::string backend, std::size_t batch_size,
                             Clock::time_point created_before, bool dry_run, OutcomeRecorder& recorder)
    : store_(store),
      backend_(std::move(backend)),
      batch_size_(std::max<std::size_t>(batch_size, 1)),
      created_before_(created_before),
      dry_run_(dry_run),
      recorder_(recorder) {
  pending_.reserve(batch_size_);
}

Status ChangeBatcher::add(IndexChange change) {
  pending_.push_back(std::move(change));
  if (pending_.size() < batch_size_) return ok_status();
  return flush();
}

void ChangeBatcher::drop_removals() {
  std::erase_if(pending_, [](const IndexChange& c) { return c.kind == IndexChange::Kind::kRemove; });
}

Status ChangeBatcher::flush() {
  if (pending_.empty()) return ok_status();
  std::vector<IndexChange> batch;
  batch.swap(pending_);
  pending_.reserve(batch_size_);
  if (dry_run_) {
    for (const auto& change : batch) record(change, ChangeResult{ok_status(), true, RemoveOutcome::kRemoved});
    return ok_status();
  }
  auto outcomes = store_.apply_changes(backend_, batch, created_before_);
  if (!outcomes.ok()) {
    const Status failed = outcomes.status().with_context("writing a batch of index changes");
    for (const auto& change : batch) record(change, ChangeResult{failed, false, RemoveOutcome::kRemoved});
    return failed;
  }
  for (std::size_t i = 0; i < batch.size() && i < outcomes->size(); ++i) record(batch[i], (*outcomes)[i]);
  return ok_status();
}

void ChangeBatcher::record(const IndexChange& change, const ChangeResult& outcome) {
  if (change.kind == IndexChange::Kind::kImport) {
    recorder_.import(change.entry, outcome.status, outcome.inserted);
  } else {
    recorder_.removal(change.entry, outcome.status, outcome.removal);
  }
}

}  // namespace s3reconcile::internal
