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

// Rows asked for per query (a page of none would never end).
std::size_t page_limit(const DBCursorOptions& options) { return options.page_size == 0 ? 1 : options.page_size; }

// Whether `b` comes after `a` in (storage_key, object_key) order.
bool ascending(const IndexRow& a, const IndexRow& b) {
  const int by_path = compare_keys(b.storage_key, a.storage_key);
  return by_path > 0 || (by_path == 0 && compare_keys(b.object_key, a.object_key) > 0);
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

void DBCursorStream::release() { read_ahead_.wait(); }

const std::map<std::string, std::uint64_t>& DBCursorStream::rows_by_bucket() { return tally_->counts(); }

DBCursorStream::Page DBCursorStream::read_page(const RowPosition& after, std::vector<Entry> recycled) {
  Page page;
  const std::size_t limit = page_limit(options_);
  page.status = lister_.list_by_storage_key(options_.backend, after, limit, range_, rows_);
  if (!page.status.ok()) return page;
  if (rows_.size() > limit) {
    page.status = internal_error(fmt::format("index returned {} rows for a page of {}", rows_.size(), limit));
    return page;
  }
  // Keyset paging only works on ascending rows; anything else would loop or
  // skip. Each row is checked against the one before it, the first against
  // where the page was asked from.
  const bool from_start = after.storage_key.empty() && !after.object_key;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const IndexRow& row = rows_[i];
    if (i == 0 ? !from_start && compare_to(row, after) <= 0 : !ascending(rows_[i - 1], row)) {
      const std::string before =
          describe(i == 0 ? after : RowPosition{rows_[i - 1].storage_key, rows_[i - 1].object_key});
      page.status = failed_precondition_error(
          fmt::format("index returned rows out of key order for backend \"{}\": path {} (row {}) after {}",
                      options_.backend, quote_key(row.storage_key), quote_key(row.object_key), before));
      return page;
    }
  }
  page.rows = rows_.size();
  if (!rows_.empty()) page.last = RowPosition{rows_.back().storage_key, rows_.back().object_key};

  std::vector<Entry>& entries = page.entries = std::move(recycled);
  std::size_t used = 0;
  for (const IndexRow& row : rows_) {
    // The query is already bounded to the prefix; this filter is the guard.
    if (!row.storage_key.starts_with(options_.prefix)) continue;
    if (!options_.through.empty() && compare_keys(row.storage_key, options_.through) > 0) {
      // Past the range: rows after it are another range's.
      page.past_range = true;
      break;
    }
    std::string_view bucket;
    if (options_.classifier) {
      if (options_.classifier->classify(row.storage_key).kind == PathClassifier::Kind::kOut) continue;
      bucket = options_.classifier->bucket_of_key(row.object_key);
    }
    // assign(), not moves: the recycled entry's buffers are reused.
    if (used == entries.size()) entries.emplace_back();
    Entry& entry = entries[used++];
    entry.key.assign(row.object_key);
    entry.storage_key.assign(row.storage_key);
    entry.size = row.size_bytes;
    entry.last_modified.reset();
    entry.bucket.assign(bucket);
    entry.adopted = false;
    entry.index_size.reset();
  }
  entries.resize(used);
  return page;
}

Status DBCursorStream::fetch_page() {
  const std::size_t limit = page_limit(options_);
  // The batch handed out before is done with: the next page is written over it.
  if (spare_.empty()) spare_ = std::move(batch_);
  batch_.clear();
  Page page = read_ahead_.pending() ? read_ahead_.take() : read_page(after_, std::move(spare_));
  ++pages_fetched_;
  if (!page.status.ok()) {
    return page.status.with_context(
        fmt::format("index page of backend \"{}\" after path {}", options_.backend, describe(after_)));
  }
  exhausted_ = page.rows < limit || page.past_range;
  if (page.rows > 0) after_ = std::move(page.last);
  if (!exhausted_ && options_.read_ahead == IndexReadAhead::kThread) {
    // The next page is read while this one is merged. Only this thread and
    // the read-ahead use the lister, one after the other.
    read_ahead_.start(
        [this, after = after_, spare = std::move(spare_)]() mutable { return read_page(after, std::move(spare)); });
    spare_.clear();
  } else if (!exhausted_ && options_.read_ahead == IndexReadAhead::kAnnounce) {
    lister_.list_by_storage_key_next(options_.backend, after_, limit, range_);
  }
  batch_ = std::move(page.entries);
  for (const Entry& entry : batch_) tally_->add(entry.bucket);
  rows_scanned_ += batch_.size();
  return ok_status();
}

StatusOr<std::span<const Entry>> DBCursorStream::next_batch() {
  if (latched_) return *latched_;
  while (true) {
    if (exhausted_) {
      batch_.clear();
      return std::span<const Entry>();
    }
    Status fetched = fetch_page();
    if (!fetched.ok()) {
      batch_.clear();
      latched_ = fetched;
      return fetched;
    }
    if (!batch_.empty()) return std::span<const Entry>(batch_);
  }
}

}  // namespace s3reconcile
