#include "engine/removal_confirmer.h"

#include <algorithm>

namespace s3reconcile::internal {

RemovalConfirmer::RemovalConfirmer(std::size_t concurrency, bool together, Ask ask, Decide decide, std::stop_token stop)
    : concurrency_(std::max<std::size_t>(concurrency, 1)),
      together_(together),
      ask_(std::move(ask)),
      decide_(std::move(decide)),
      stop_(std::move(stop)),
      queue_(concurrency_ * kQueuedPerWorker) {
  if (concurrency_ == 1) return;  // decisions inline, in submit()
  const std::size_t workers = together_ ? 1 : concurrency_;
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

RemovalConfirmer::~RemovalConfirmer() { finish().ignore_error(); }

void RemovalConfirmer::work() {
  // This worker asks about this many candidates at once, and waits until
  // they are queued (a drain or the end takes fewer): a HEAD sent alone
  // costs a third more CPU than one of 8 sent together, and the merge wakes
  // this thread once per batch instead of once per stale row.
  const std::size_t at_once = together_ ? concurrency_ : 1;
  std::vector<RemovalCandidate> candidates;
  while (true) {
    // A stop is not a reason to abandon queued candidates half-way: each
    // decision probes with the pass's stop token and fails fast on its own.
    auto taken = queue_.pop_batch(candidates, at_once);
    if (!taken.ok() || !*taken) return;
    confirm(candidates);
  }
}

void RemovalConfirmer::confirm(std::span<const RemovalCandidate> candidates) {
  // Once the pass is ending nothing more is asked or decided.
  std::vector<Answer> answers;
  if (first_error().ok()) answers = ask_(candidates);
  Status failed;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!failed.ok() || i >= answers.size() || !first_error().ok()) continue;
    Status decided = decide_(candidates[i], std::move(answers[i]));
    if (!decided.ok()) failed = std::move(decided);
  }
  MutexLock lock(mu_);
  if (!failed.ok() && first_error_.ok()) first_error_ = std::move(failed);
  undecided_ -= candidates.size();
  decided_.notify_all();
}

Status RemovalConfirmer::first_error() const {
  MutexLock lock(mu_);
  return first_error_;
}

Status RemovalConfirmer::submit(RemovalCandidate candidate) {
  {
    MutexLock lock(mu_);
    S3R_RETURN_IF_ERROR(first_error_);
    ++undecided_;
  }
  if (workers_.empty()) {
    confirm(std::span<const RemovalCandidate>(&candidate, 1));
    return first_error();
  }
  if (!queue_.push(std::move(candidate), stop_)) {
    MutexLock lock(mu_);
    --undecided_;
    decided_.notify_all();
    S3R_RETURN_IF_ERROR(first_error_);
    return cancelled_error("removal confirmation cancelled");
  }
  return first_error();
}

Status RemovalConfirmer::drain() {
  queue_.flush();  // a partial batch goes now
  MutexLock lock(mu_);
  lock.wait(decided_, [&]() S3R_REQUIRES(mu_) { return undecided_ == 0; });
  return first_error_;
}

Status RemovalConfirmer::finish() {
  queue_.close(ok_status());
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  return first_error();
}

}  // namespace s3reconcile::internal
