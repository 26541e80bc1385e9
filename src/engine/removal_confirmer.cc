#include "engine/removal_confirmer.h"

#include <algorithm>

namespace s3reconcile::internal {

RemovalConfirmer::RemovalConfirmer(std::size_t concurrency, Decide decide, std::stop_token stop)
    : decide_(std::move(decide)),
      stop_(std::move(stop)),
      queue_(std::max<std::size_t>(concurrency, 1) * kQueuedPerWorker) {
  if (concurrency <= 1) return;  // decisions inline, in submit()
  workers_.reserve(concurrency);
  for (std::size_t i = 0; i < concurrency; ++i) workers_.emplace_back([this] { work(); });
}

RemovalConfirmer::~RemovalConfirmer() { finish().ignore_error(); }

void RemovalConfirmer::work() {
  while (true) {
    // A stop is not a reason to abandon queued candidates half-way: each
    // decision probes with the pass's stop token and fails fast on its own.
    auto next = queue_.pop({});
    if (!next.ok() || !next->has_value()) return;
    decide_one(**next);
  }
}

void RemovalConfirmer::decide_one(const RemovalCandidate& candidate) {
  // Once the pass is ending nothing more is decided.
  Status decided = first_error().ok() ? decide_(candidate) : ok_status();
  MutexLock lock(mu_);
  if (!decided.ok() && first_error_.ok()) first_error_ = std::move(decided);
  --undecided_;
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
    decide_one(candidate);
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
