#include "s3reconcile/merge.h"

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

// One side of the merge. It reads one entry ahead of the entry it offers, so
// that a key out of order (or a failure of the source) is caught before any
// callback runs for the key in front of it.
class Side {
 public:
  // `equal_neighbours`: the side may repeat a path (index rows sharing a
  // storage key); it must still never go back.
  Side(KeySource& source, std::string_view name, bool equal_neighbours, std::atomic<std::uint64_t>* counter)
      : source_(source), name_(name), equal_neighbours_(equal_neighbours), counter_(counter) {}

  // Loads the first entry and the one after it.
  Status start() {
    S3R_RETURN_IF_ERROR(fetch(head_));
    return fetch_after_head();
  }

  // Moves to the next entry: head() becomes the entry after it, or empty at
  // the end of the stream.
  Status advance() {
    head_ = std::move(ahead_);
    ahead_.reset();
    return fetch_after_head();
  }

  const std::optional<Entry>& head() const { return head_; }

 private:
  Status fetch_after_head() {
    if (!head_) return ok_status();
    S3R_RETURN_IF_ERROR(fetch(ahead_));
    if (!ahead_) return ok_status();
    const int order = compare_keys(ahead_->storage_key, head_->storage_key);
    if (order < 0 || (order == 0 && !equal_neighbours_)) {
      return failed_precondition_error(fmt::format("{} stream is not in ascending key order: {} came after {}{}", name_,
                                                   quote_key(ahead_->storage_key), quote_key(head_->storage_key),
                                                   order == 0 ? " (repeated key)" : ""));
    }
    return ok_status();
  }

  Status fetch(std::optional<Entry>& into) {
    auto next = source_.next();
    if (!next.ok()) return next.status().with_context(fmt::format("{} stream", name_));
    into = std::move(*next);
    if (into && counter_ != nullptr) counter_->fetch_add(1, std::memory_order_relaxed);
    return ok_status();
  }

  KeySource& source_;
  std::string_view name_;
  const bool equal_neighbours_;
  std::atomic<std::uint64_t>* const counter_;
  std::optional<Entry> head_;   // the entry the merge is looking at
  std::optional<Entry> ahead_;  // the entry after it, already checked
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
