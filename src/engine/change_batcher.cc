#include "engine/change_batcher.h"

#include <algorithm>

namespace s3reconcile::internal {
namespace {

// What a resize would do, from what a removal of the same row would.
ResizeOutcome resize_like(RemoveOutcome removal) {
  switch (removal) {
    case RemoveOutcome::kTooNew:
      return ResizeOutcome::kTooNew;
    case RemoveOutcome::kAlreadyGone:
      return ResizeOutcome::kChanged;
    default:
      return ResizeOutcome::kResized;
  }
}

}  // namespace

ChangeBatcher::ChangeBatcher(IndexStore& store, std::string backend, std::size_t batch_size,
                             Clock::time_point created_before, bool dry_run, OutcomeRecorder& recorder,
                             bool writer_thread)
    : store_(store),
      backend_(std::move(backend)),
      batch_size_(std::max<std::size_t>(batch_size, 1)),
      created_before_(created_before),
      dry_run_(dry_run),
      recorder_(recorder) {
  pending_.reserve(batch_size_);
  if (writer_thread) writer_ = std::thread([this] { run_writer(); });
}

ChangeBatcher::~ChangeBatcher() {
  {
    MutexLock lock(mu_);
    closing_ = true;
  }
  changed_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Status ChangeBatcher::add(IndexChange change) {
  MutexLock lock(mu_);
  if (!failed_.ok()) {
    record(change, ChangeResult{failed_, false, RemoveOutcome::kRemoved});
    return failed_;
  }
  pending_.push_back(std::move(change));
  if (pending_.size() < batch_size_) return ok_status();
  if (writer_.joinable()) return hand_off(lock);
  std::vector<IndexChange> batch;
  batch.swap(pending_);
  pending_.reserve(batch_size_);
  failed_ = write(batch);
  return failed_;
}

Status ChangeBatcher::hand_off(MutexLock& lock) {
  lock.wait(changed_, [&]() S3R_REQUIRES(mu_) { return !handed_.has_value() || !failed_.ok(); });
  if (!failed_.ok()) return failed_;
  handed_.emplace();
  handed_->swap(pending_);
  pending_.reserve(batch_size_);
  changed_.notify_all();
  return ok_status();
}

void ChangeBatcher::run_writer() {
  MutexLock lock(mu_);
  while (true) {
    lock.wait(changed_, [&]() S3R_REQUIRES(mu_) { return handed_.has_value() || closing_; });
    if (!handed_) return;
    std::vector<IndexChange> batch = std::move(*handed_);
    writing_ = true;
    lock.unlock();
    Status written = write(batch);
    lock.lock();
    handed_.reset();
    writing_ = false;
    if (failed_.ok()) failed_ = written;
    changed_.notify_all();
  }
}

void ChangeBatcher::drop_removals() {
  MutexLock lock(mu_);
  std::erase_if(pending_, [](const IndexChange& c) { return c.kind == IndexChange::Kind::kRemove; });
}

Status ChangeBatcher::flush() {
  MutexLock lock(mu_);
  if (!pending_.empty() && failed_.ok()) {
    if (writer_.joinable()) {
      S3R_RETURN_IF_ERROR(hand_off(lock));
    } else {
      std::vector<IndexChange> batch;
      batch.swap(pending_);
      failed_ = write(batch);
    }
  }
  lock.wait(changed_, [&]() S3R_REQUIRES(mu_) { return (!handed_.has_value() && !writing_) || !failed_.ok(); });
  if (failed_.ok()) failed_ = recorder_.failure();
  // Changes never handed to a store that failed are not silently lost: they
  // count as failed, like the batch that found the store unusable.
  if (!failed_.ok()) {
    for (const auto& change : pending_) record(change, ChangeResult{failed_, false, RemoveOutcome::kRemoved});
    pending_.clear();
  }
  return failed_;
}

Status ChangeBatcher::write(std::vector<IndexChange>& batch) {
  if (batch.empty()) return ok_status();
  // The changes already made could not all be recorded (the change log):
  // make no more.
  if (Status unrecorded = recorder_.failure(); !unrecorded.ok()) {
    for (const auto& change : batch) record(change, ChangeResult{unrecorded, false, RemoveOutcome::kRemoved});
    return unrecorded;
  }
  if (dry_run_) {
    // Nothing is written, but the store says what it would do (a path the
    // service is deleting held back, a row too new kept), so that the counts
    // agree with a real pass.
    for (const auto& change : batch) {
      ChangeResult would{ok_status(), true, RemoveOutcome::kRemoved};
      if (change.kind == IndexChange::Kind::kImport) {
        auto queued = store_.queued_for_deletion(backend_, change.entry.storage_key);
        if (!queued.ok() && ends_pass(queued.status())) return queued.status();
        would.status = queued.status();
        would.pending_delete = queued.ok() && *queued;
        would.inserted = queued.ok() && !*queued;
      } else {
        // A resize is judged by the row's age alone, as a removal is.
        auto outcome = store_.removal_outcome(backend_, change.entry.key, created_before_);
        if (!outcome.ok() && ends_pass(outcome.status())) return outcome.status();
        would.status = outcome.status();
        if (outcome.ok()) {
          would.removal = *outcome;
          would.resize = resize_like(*outcome);
        }
      }
      record(change, would);
    }
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
    recorder_.import(change.entry, outcome);
  } else if (change.kind == IndexChange::Kind::kResize) {
    recorder_.resize(change.entry, outcome.status, outcome.resize);
  } else {
    recorder_.removal(change.entry, outcome.status, outcome.removal);
  }
}

}  // namespace s3reconcile::internal
