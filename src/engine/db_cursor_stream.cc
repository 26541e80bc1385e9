#include "s3reconcile/db_cursor_stream.h"

#include <fmt/format.h>

#include "engine/bucket_tally.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

// (storage_key, object_key) of `row` compared with a position.
int compare_to(const IndexRow& row, const RowPosition& at) {
  const int by_path = compare_keys(row.storage_key, at.storage_key);
  if (by_path != 0 || !at.object_key) return by_path == 0 ? -1 : by_path;  // a path-only position is past its rows
  return compare_keys(row.object_key, *at.object_key);
}

std::string describe(const RowPosition& at) {
  return at.object_key ? fmt::format("{} (row {})", quote_key(at.storage_key), quote_key(*at.object_key))
                       : quote_key(at.storage_key);
}

}  // namespace

DBCursorStream::DBCursorStream(DBKeyLister& lister, DBCursorOptions options)
    : lister_(lister),
      options_(std::move(options)),
      range_{options_.prefix, prefix_successor(options_.prefix)},
      after_{options_.start_after, std::nullopt},
      tally_(std::make_unique<internal::BucketTally>(options_.live_counts, &PassCounts::rows)) {}

DBCursorStream::~DBCursorStream() { stop(); }

void DBCursorStream::stop() {
  if (prefetched_.valid()) prefetched_.wait();
}

const std::map<std::string, std::uint64_t>& DBCursorStream::rows_by_bucket() { return tally_->counts(); }

Status DBCursorStream::fetch_page() {
  const std::size_t limit = options_.page_size == 0 ? 1 : options_.page_size;
  auto rows =
      prefetched_.valid() ? prefetched_.get() : lister_.list_by_storage_key(options_.backend, after_, limit, range_);
  ++pages_fetched_;
  if (!rows.ok()) {
    return rows.status().with_context(
        fmt::format("index page of backend \"{}\" after path {}", options_.backend, describe(after_)));
  }
  if (rows->size() > limit) {
    return internal_error(fmt::format("index returned {} rows for a page of {}", rows->size(), limit));
  }
  exhausted_ = rows->size() < limit;
  for (auto& row : *rows) {
    // Keyset paging only works on ascending rows; anything else would loop or skip.
    if (compare_to(row, after_) <= 0 && (!after_.storage_key.empty() || after_.object_key)) {
      return failed_precondition_error(
          fmt::format("index returned rows out of key order for backend \"{}\": path {} (row {}) after {}",
                      options_.backend, quote_key(row.storage_key), quote_key(row.object_key), describe(after_)));
    }
    after_ = RowPosition{row.storage_key, row.object_key};
    page_.push_back(std::move(row));
  }
  const bool past_range = !options_.through.empty() && compare_keys(after_.storage_key, options_.through) > 0;
  if (options_.prefetch && !exhausted_ && !past_range) {
    // The next page is read while this one is merged. Only this thread and
    // that task use the lister, one after the other.
    prefetched_ = std::async(std::launch::async, [this, after = after_, limit] {
      return lister_.list_by_storage_key(options_.backend, after, limit, range_);
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
      // The query is already bounded to the prefix; this filter is the guard.
      if (!row.storage_key.starts_with(options_.prefix)) continue;
      if (!options_.through.empty() && compare_keys(row.storage_key, options_.through) > 0) {
        // Past the range: rows after it are another range's.
        page_.clear();
        exhausted_ = true;
        return std::optional<Entry>();
      }
      std::string bucket;
      if (options_.classifier) {
        if (options_.classifier->classify(row.storage_key).kind == PathClassifier::Kind::kOut) continue;
        bucket = options_.classifier->bucket_of_key(row.object_key);
      }
      ++rows_scanned_;
      tally_->add(bucket);
      return std::optional<Entry>(Entry{std::move(row.object_key), std::move(row.storage_key), row.size_bytes,
                                        std::nullopt, std::move(bucket), false});
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
