#include "s3reconcile/merge.h"

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

// One side of the merge: its source, its current head, and the last key it
// produced, so that a key out of order is caught before anything uses it.
class Side {
 public:
  Side(KeySource& source, std::string_view name) : source_(source), name_(name) {}

  // Moves to the next entry. On success head() is the new entry, or empty at
  // the end of the stream.
  Status advance() {
    auto next = source_.next();
    if (!next.ok()) return next.status().with_context(fmt::format("{} stream", name_));
    head_ = std::move(*next);
    if (!head_) return ok_status();
    if (has_previous_ && compare_keys(head_->key, previous_) <= 0) {
      const bool repeated = head_->key == previous_;
      return failed_precondition_error(fmt::format(
          "{} stream is not in ascending key order: {} came after {}{}", name_,
          quote_key(head_->key), quote_key(previous_),
          repeated ? " (repeated key)" : ""));
    }
    previous_ = head_->key;
    has_previous_ = true;
    return ok_status();
  }

  const std::optional<Entry>& head() const { return head_; }

 private:
  KeySource& source_;
  std::string_view name_;
  std::optional<Entry> head_;
  std::string previous_;
  bool has_previous_ = false;
};

}  // namespace

Status sorted(KeySource& listing, KeySource& index, const EntryCallback& on_import,
              const EntryCallback& on_delete, std::stop_token stop) {
  Side backend(listing, "listing");
  Side rows(index, "index");
  S3R_RETURN_IF_ERROR(backend.advance());
  S3R_RETURN_IF_ERROR(rows.advance());

  // Invariant: every key smaller than both heads has been handled, and each
  // head is strictly greater than everything its side produced before.
  while (backend.head() || rows.head()) {
    if (stop.stop_requested()) return cancelled_error("reconcile pass cancelled");
    const int order = !rows.head()      ? -1
                      : !backend.head() ? 1
                                        : compare_keys(backend.head()->key, rows.head()->key);
    if (order < 0) {
      S3R_RETURN_IF_ERROR(on_import(*backend.head()));
      S3R_RETURN_IF_ERROR(backend.advance());
    } else if (order > 0) {
      S3R_RETURN_IF_ERROR(on_delete(*rows.head()));
      S3R_RETURN_IF_ERROR(rows.advance());
    } else {
      S3R_RETURN_IF_ERROR(backend.advance());
      S3R_RETURN_IF_ERROR(rows.advance());
    }
  }
  return ok_status();
}

}  // namespace s3reconcile
