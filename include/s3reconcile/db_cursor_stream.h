// DBCursorStream: the index side of the merge, one bounded page at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s3reconcile/buckets.h"
#include "s3reconcile/db_key_lister.h"
#include "s3reconcile/key_source.h"
#include "s3reconcile/live_counts.h"

namespace s3reconcile {

namespace internal {
class BucketTally;
}

struct DBCursorOptions {
  // The backend whose rows are walked.
  std::string backend;
  // Decides which rows the pass covers (by their path, exactly as the
  // listing side is filtered) and which bucket each is counted under (by its
  // object_key). Null: every row, counted under the bucket of its key.
  std::shared_ptr<const PathClassifier> classifier;
  // Only rows whose path starts with this ("" = every path): the query is
  // bounded to that range.
  std::string prefix;
  // Rows fetched per query.
  std::size_t page_size = 1000;
  // Only rows with a path strictly after this ("" = from the start).
  std::string start_after;
  // Only rows with a path up to and including this ("" = to the end). The
  // stream ends at the first row beyond it.
  std::string through;
  // Query the next page while the current one is being consumed. The
  // lister is then used from another thread (never two queries at once),
  // so it must not be shared with anything else meanwhile.
  bool prefetch = false;
  // Told of the rows yielded, by bucket, as they go. Optional.
  LiveCounts* live_counts = nullptr;
};

// Pages through DBKeyLister::list_by_storage_key with keyset paging on
// (storage_key, object_key). No query is issued before the first next();
// a page shorter than page_size is the last, and after the end no query is
// ever issued again. A store error is returned with the backend and page
// position as context and latched. Rows that come back out of order are an
// error, not something to page around. Entries come in path order; rows
// sharing a path are neighbours.
class DBCursorStream final : public KeySource {
 public:
  DBCursorStream(DBKeyLister& lister, DBCursorOptions options);
  ~DBCursorStream() override;

  StatusOr<std::optional<Entry>> next() override;
  // Holds no connection; waits for a prefetch in flight.
  void stop() override;

  // Rows yielded: inside the range and covered by the pass.
  std::uint64_t rows_scanned() const { return rows_scanned_; }
  // Queries issued so far.
  std::uint64_t pages_fetched() const { return pages_fetched_; }
  // Rows yielded, by bucket.
  const std::map<std::string, std::uint64_t>& rows_by_bucket();

 private:
  Status fetch_page();

  DBKeyLister& lister_;
  const DBCursorOptions options_;
  KeyRange range_;
  RowPosition after_;
  std::deque<IndexRow> page_;
  bool exhausted_ = false;  // the last page has been fetched
  std::optional<Status> latched_;
  std::uint64_t rows_scanned_ = 0;
  std::uint64_t pages_fetched_ = 0;
  std::unique_ptr<internal::BucketTally> tally_;
  // The next page, being queried (with prefetch). Last: destroyed (and so
  // waited for) before anything the query uses.
  std::future<StatusOr<std::vector<IndexRow>>> prefetched_;
};

}  // namespace s3reconcile
