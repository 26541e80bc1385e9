// A bounded FIFO between one producer thread and one consumer, with close
// semantics (after RocksDB's WorkQueue) and a first-error-wins close status.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include "s3reconcile/mutex.h"
#include "s3reconcile/status.h"

namespace s3reconcile::internal {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Blocks while the queue is full. Returns false, dropping the item, when
  // the queue was closed or a stop was requested. An item weighs `weight`
  // toward the capacity (a batch of entries weighs its size); an empty
  // queue takes any item, so one heavier than the capacity still passes.
  bool push(T item, std::stop_token stop, std::size_t weight = 1) {
    MutexLock lock(mu_);
    if (!lock.wait(not_full_, stop,
                   [&]() S3R_REQUIRES(mu_) { return closed_ || items_.empty() || used_ + weight <= capacity_; })) {
      return false;
    }
    if (closed_) return false;
    items_.emplace_back(std::move(item), weight);
    used_ += weight;
    if (used_ > high_watermark_) high_watermark_ = used_;
    // A consumer taking batches is woken once a batch is there, not per item.
    if (items_.size() >= wake_at_ || flush_) not_empty_.notify_one();
    return true;
  }

  // Lets a consumer waiting in pop_batch() take what is queued now, however
  // few (the producer wants everything so far handled).
  void flush() {
    MutexLock lock(mu_);
    flush_ = true;
    not_empty_.notify_all();
  }

  // Ends the queue. With OK, the consumer drains what is queued and then sees
  // the end; with an error, the consumer sees the error at once, and queued
  // items are dropped. The first close wins.
  void close(Status status) {
    MutexLock lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_status_ = std::move(status);
    if (!close_status_.ok()) {
      items_.clear();
      used_ = 0;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  // Blocks until an item, the close, or a stop. Returns the item, std::nullopt
  // after a clean close once drained, the close error, or CANCELLED on stop.
  StatusOr<std::optional<T>> pop(std::stop_token stop) {
    MutexLock lock(mu_);
    wake_at_ = 1;
    if (!lock.wait(not_empty_, stop, [&]() S3R_REQUIRES(mu_) { return closed_ || !items_.empty(); })) {
      return cancelled_error("listing cancelled");
    }
    if (!close_status_.ok()) return close_status_;
    if (items_.empty()) return std::optional<T>();
    std::optional<T> item(std::move(items_.front().first));
    used_ -= items_.front().second;
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  // For a consumer that takes items `batch` at a time: blocks until a whole
  // batch is queued, or fewer once the queue is closed or flush() was called,
  // then moves them into `out` (emptied first). Returns true with items,
  // false after a clean close once drained, or the close error.
  StatusOr<bool> pop_batch(std::vector<T>& out, std::size_t batch) {
    out.clear();
    MutexLock lock(mu_);
    // Never more than the queue holds: its producer would wait for room.
    wake_at_ = std::clamp<std::size_t>(batch, 1, capacity_);
    lock.wait(not_empty_,
              [&]() S3R_REQUIRES(mu_) { return closed_ || items_.size() >= wake_at_ || (flush_ && !items_.empty()); });
    if (!close_status_.ok()) return close_status_;
    while (!items_.empty() && out.size() < wake_at_) {
      out.push_back(std::move(items_.front().first));
      used_ -= items_.front().second;
      items_.pop_front();
    }
    if (items_.empty()) flush_ = false;
    not_full_.notify_one();
    return !out.empty();
  }

  // The most weight ever held at once (for tests and memory accounting).
  std::size_t high_watermark() const {
    MutexLock lock(mu_);
    return high_watermark_;
  }

 private:
  const std::size_t capacity_;
  mutable Mutex mu_;
  std::condition_variable_any not_empty_;
  std::condition_variable_any not_full_;
  std::deque<std::pair<T, std::size_t>> items_ S3R_GUARDED_BY(mu_);  // with their weights
  std::size_t used_ S3R_GUARDED_BY(mu_) = 0;                         // sum of the weights queued
  bool closed_ S3R_GUARDED_BY(mu_) = false;
  std::size_t wake_at_ S3R_GUARDED_BY(mu_) = 1;  // items that wake the consumer
  bool flush_ S3R_GUARDED_BY(mu_) = false;       // flush() called, not yet taken
  Status close_status_ S3R_GUARDED_BY(mu_);
  std::size_t high_watermark_ S3R_GUARDED_BY(mu_) = 0;
};

}  // namespace s3reconcile::internal
