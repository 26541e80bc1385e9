// KeySource: the cursor contract both sides of the merge keep.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// A forward iterator over entries in ascending order of their path
// (Entry::storage_key), holding a bounded amount of memory whatever the
// number of keys. A listing is strictly ascending; an index cursor may
// repeat a path (rows sharing a storage key are neighbours).
//
// Entries are handed over in batches (a listing page, an index page): one
// virtual call and no copy per batch, not per key, since a pass reads
// millions of them. next_batch() returns one of three things:
//   - a non-empty run of entries, the ones after the previous batch. It is
//     the source's: valid until the next call of next_batch(), next() or
//     stop(), and never written by the source meanwhile;
//   - an empty run: a clean end of stream. The side holds no more keys;
//   - an error: the stream failed or was cancelled. The caller must abort.
//     An error is never an end of stream: treating it as one would make the
//     merge remove every index row after the point of failure.
// After the first end or error, every later call returns the same.
//
// next() is the same walk one entry at a time (a copy each), for callers
// to whom a key costs more than its hand-over; mixing both is allowed.
//
// stop() releases what the source holds (threads, connections: release()).
// It is safe to call more than once and from any thread; a read after stop()
// returns an error (or the end, if the end was already reached).
class KeySource {
 public:
  KeySource() = default;
  KeySource(const KeySource&) = delete;
  KeySource& operator=(const KeySource&) = delete;
  virtual ~KeySource() = default;

  virtual StatusOr<std::span<const Entry>> next_batch() = 0;

  void stop() {
    stopped_.store(true, std::memory_order_release);
    release();
  }

  // Once the clean end has been returned: the path after which the stream
  // stopped short by design (a listing's request budget ran out), when it
  // did; std::nullopt when the end is the true end. Nothing past that path
  // was looked at, so the merge judges no entry of the other side past it.
  virtual std::optional<std::string> cut_after() const { return std::nullopt; }

  StatusOr<std::optional<Entry>> next() {
    // After stop() the rest of a batch is not the source's to hand out:
    // the source says what a read after stop() is.
    if (at_ == batch_.size() || stopped_.load(std::memory_order_acquire)) {
      auto batch = next_batch();
      if (!batch.ok()) return batch.status();
      batch_ = *batch;
      at_ = 0;
      if (batch_.empty()) return std::optional<Entry>();
    }
    return std::optional<Entry>(batch_[at_++]);
  }

 protected:
  // What stop() does beyond making reads fail: release threads and
  // connections, wait for work in flight.
  virtual void release() = 0;

 private:
  std::atomic<bool> stopped_{false};
  // What next() has left of the last batch.
  std::span<const Entry> batch_;
  std::size_t at_ = 0;
};

}  // namespace s3reconcile
