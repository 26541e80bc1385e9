#include "s3reconcile/db_cursor_stream.h"

#include <fmt/format.h>

#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {

DBCursorStream::DBCursorStream(DBKeyLister& lister, DBCursorOptions options)
    : lister_(lister),
      options_(std::move(options)),
      prefix_(bucket_prefix(options_.bucket)),
      siblings_(sibling_prefixes(options_.known_buckets, options_.bucket)),
      range_{prefix_, prefix_successor(prefix_)},
      after_key_(options_.start_after) {}

Status DBCursorStream::fetch_page() {
  const std::size_t limit = options_.page_size == 0 ? 1 : options_.page_size;
  auto rows = prefetched_.valid() ? prefetched_.get()
                                  : lister_.list_by_backend_key_asc(options_.backend, after_key_, limit, range_);
  ++pages_fetched_;
  if (!rows.ok()) {
    return rows.status().with_context(fmt::format("index page of backend \"{}\" after key {}",
                                                  options_.backend, quote_key(after_key_)));
  }
  if (rows->size() > limit) {
    return internal_error(fmt::format("index returned {} rows for a page of {}", rows->size(), limit));
  }
  exhausted_ = rows->size() < limit;
  for (auto& row : *rows) {
    // Keyset paging only works on ascending rows; anything else would loop or skip.
    if (!after_key_.empty() || rows_scanned_ > 0) {
      if (compare_keys(row.object_key, after_key_) <= 0) {
        return failed_precondition_error(fmt::format(
            "index returned rows out of key order for backend \"{}\": {} after {}",
            options_.backend, quote_key(row.object_key), quote_key(after_key_)));
      }
    }
    after_key_ = row.object_key;
    ++rows_scanned_;
    page_.push_back(std::move(row));
  }
  const bool past_range = !options_.through.empty() && compare_keys(after_key_, options_.through) > 0;
  if (options_.prefetch && !exhausted_ && !past_range) {
    // The next page is read while this one is merged. Only this thread and
    // that task use the lister, one after the other.
    prefetched_ = std::async(std::launch::async, [this, after = after_key_, limit] {
      return lister_.list_by_backend_key_asc(options_.backend, after, limit, range_);
    });
  }
  return ok_status();
}

StatusOr<std::optional<Entry>> DBCursorStream::next() {
  if (latched_) return *latched_;
  while (true) {
    while (!page_.empty()) {
      IndexRow row = std::move(page_.front());
      page_.pop_front();
      // The query is already bounded to the bucket; this filter is the guard.
      if (!row.object_key.starts_with(prefix_)) continue;
      if (!options_.through.empty() && compare_keys(row.object_key, options_.through) > 0) {
        // Past the range: rows after it are another range's, and not counted.
        rows_scanned_ -= page_.size() + 1;
        page_.clear();
        exhausted_ = true;
        return std::optional<Entry>();
      }
      bool sibling = false;
      for (const auto& s : siblings_) sibling = sibling || row.object_key.starts_with(s);
      if (sibling) continue;
      return std::optional<Entry>(
          Entry{std::move(row.object_key), std::move(row.storage_key), row.size_bytes, std::nullopt});
    }
    if (exhausted_) return std::optional<Entry>();
    Status fetched = fetch_page();
    if (!fetched.ok()) {
      latched_ = fetched;
      return fetched;
    }
  }
}

}  // namespace s3reconcile
