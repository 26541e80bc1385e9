#include "s3reconcile/merge.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

// One side of the merge, walking the source's batches in place: the merge
// looks at each entry where the source put it, and copies one entry a batch
// (the last, while the next batch is read).
//
// It reads one entry ahead of the entry it offers, so that a key out of
// order (or a failure of the source) is caught before any callback runs for
// the key in front of it. A batch's order is checked when it arrives, in one
// tight loop; the error is raised when the head reaches the entry before
// the bad one, exactly when an entry-by-entry read would have seen it.
class Side {
 public:
  // `equal_neighbours`: the side may repeat a path (index rows sharing a
  // storage key); it must still never go back.
  Side(KeySource& source, std::string_view name, bool equal_neighbours, std::atomic<std::uint64_t>* counter)
      : source_(source), name_(name), equal_neighbours_(equal_neighbours), counter_(counter) {}

  // Loads the first entry and the one after it.
  Status start() {
    S3R_RETURN_IF_ERROR(load(nullptr));
    if (batch_.empty()) return ok_status();
    head_ = &batch_[0];
    return look_ahead();
  }

  // Moves to the next entry: head() becomes the entry after it, or null at
  // the end of the stream.
  Status advance() {
    if (head_ == &carry_) {
      // The carried entry was the last of a batch; the batch after it is loaded.
      head_ = batch_.empty() ? nullptr : &batch_[0];
      at_ = 0;
    } else {
      head_ = &batch_[++at_];
    }
    return head_ == nullptr ? ok_status() : look_ahead();
  }

  const Entry* head() const { return head_; }

 private:
  // With the head at batch_[at_] (or carry_): fails when the entry after it
  // is out of order, and loads the next batch when the head is the last of
  // this one.
  Status look_ahead() {
    if (head_ == &carry_) return ok_status();  // already looked past
    if (at_ + 1 == bad_) return out_of_order(batch_[at_ + 1], batch_[at_]);
    if (at_ + 1 < batch_.size()) return ok_status();
    carry_ = batch_[at_];
    head_ = &carry_;
    return load(&carry_);
  }

  // Reads the next batch; `before` is the entry it must follow (the
  // carried one), null for the first.
  Status load(const Entry* before) {
    auto next = source_.next_batch();
    if (!next.ok()) return next.status().with_context(fmt::format("{} stream", name_));
    batch_ = *next;
    at_ = 0;
    bad_ = kNone;
    if (batch_.empty()) return ok_status();
    if (counter_ != nullptr) counter_->fetch_add(batch_.size(), std::memory_order_relaxed);
    if (before != nullptr && !in_order(*before, batch_[0])) return out_of_order(batch_[0], *before);
    for (std::size_t i = 1; i < batch_.size(); ++i) {
      if (!in_order(batch_[i - 1], batch_[i])) {
        bad_ = i;
        break;
      }
    }
    return ok_status();
  }

  bool in_order(const Entry& before, const Entry& after) const {
    const int order = compare_keys(after.storage_key, before.storage_key);
    return order > 0 || (order == 0 && equal_neighbours_);
  }

  Status out_of_order(const Entry& later, const Entry& earlier) const {
    const bool repeated = compare_keys(later.storage_key, earlier.storage_key) == 0;
    return failed_precondition_error(fmt::format("{} stream is not in ascending key order: {} came after {}{}", name_,
                                                 quote_key(later.storage_key), quote_key(earlier.storage_key),
                                                 repeated ? " (repeated key)" : ""));
  }

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  KeySource& source_;
  std::string_view name_;
  const bool equal_neighbours_;
  std::atomic<std::uint64_t>* const counter_;
  std::span<const Entry> batch_;  // the source's current batch
  std::size_t at_ = 0;            // the head's place in it (unless the head is carry_)
  std::size_t bad_ = kNone;       // the first entry of batch_ out of order with the one before
  Entry carry_;                   // the last entry of the previous batch, while the head
  const Entry* head_ = nullptr;   // the entry the merge is looking at; null at the end
};

}  // namespace

Status sorted(KeySource& listing, KeySource& index, const EntryCallback& on_import, const EntryCallback& on_delete,
              std::stop_token stop, MergeCounters* counters) {
  return sorted(listing, index, MergeCallbacks{on_import, on_delete, {}}, std::move(stop), counters);
}

Status sorted(KeySource& listing, KeySource& index, const MergeCallbacks& callbacks, std::stop_token stop,
              MergeCounters* counters) {
  const EntryCallback& on_import = callbacks.on_import;
  const EntryCallback& on_delete = callbacks.on_delete;
  Side backend(listing, "listing", false, counters ? &counters->listed : nullptr);
  Side rows(index, "index", true, counters ? &counters->rows : nullptr);
  S3R_RETURN_IF_ERROR(backend.start());
  S3R_RETURN_IF_ERROR(rows.start());

  // Invariant: every path smaller than both heads has been handled; the
  // listing's head is smaller than the entry after it, the index's head no
  // larger. `head_matched`: a row with the listing head's path was seen (the
  // rows sharing a path each match the one listed object).
  bool head_matched = false;
  // Set once the listing has ended short of its true end: rows past this
  // path were never compared with anything, so they are left unjudged.
  std::optional<std::string> cut;
  bool listing_over = false;
  while (backend.head() || rows.head()) {
    if (stop.stop_requested()) return cancelled_error("reconcile pass cancelled");
    if (!backend.head()) {
      if (!listing_over) cut = listing.cut_after();
      listing_over = true;
      if (cut && compare_keys(rows.head()->storage_key, *cut) > 0) break;
    }
    const int order = !rows.head()      ? -1
                      : !backend.head() ? 1
                                        : compare_keys(backend.head()->storage_key, rows.head()->storage_key);
    if (order < 0) {
      if (!head_matched) S3R_RETURN_IF_ERROR(on_import(*backend.head()));
      S3R_RETURN_IF_ERROR(backend.advance());
      head_matched = false;
    } else if (order > 0) {
      S3R_RETURN_IF_ERROR(on_delete(*rows.head()));
      S3R_RETURN_IF_ERROR(rows.advance());
    } else {
      if (callbacks.on_match) S3R_RETURN_IF_ERROR(callbacks.on_match(*backend.head(), *rows.head()));
      S3R_RETURN_IF_ERROR(rows.advance());
      head_matched = true;
    }
  }
  return ok_status();
}

}  // namespace s3reconcile
