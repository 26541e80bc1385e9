// DBCursorStream: the index side of the merge, one bounded page at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "s3reconcile/db_key_lister.h"
#include "s3reconcile/key_source.h"

namespace s3reconcile {

struct DBCursorOptions {
  // The backend whose rows are walked.
  std::string backend;
  // The virtual bucket being reconciled: only rows under "bucket/" are
  // yielded, and the query is bounded to that key range.
  std::string bucket;
  // Every known virtual bucket; rows under a sibling's prefix are skipped.
  std::vector<std::string> known_buckets;
  // Rows fetched per query.
  std::size_t page_size = 1000;
  // Only rows with object_key strictly after this ("" = from the start).
  std::string start_after;
  // Only rows with object_key up to and including this ("" = to the end of
  // the bucket). The stream ends at the first row beyond it.
  std::string through;
  // Query the next page while the current one is being consumed. The
  // lister is then used from another thread (never two queries at once),
  // so it must not be shared with anything else meanwhile.
  bool prefetch = false;
};

// Pages through DBKeyLister::list_by_backend_key_asc with keyset paging
// (object_key > last key seen). No query is issued before the first next();
// a page shorter than page_size is the last, and after the end no query is
// ever issued again. A store error is returned with the backend and page
// position as context and latched. Rows that come back out of key order are
// an error, not something to page around.
class DBCursorStream final : public KeySource {
 public:
  DBCursorStream(DBKeyLister& lister, DBCursorOptions options);

  StatusOr<std::optional<Entry>> next() override;
  // Holds no thread or connection; defined so both sides share KeySource.
  void stop() override {}

  // Rows the store returned (before bucket filtering).
  std::uint64_t rows_scanned() const { return rows_scanned_; }
  // Queries issued so far.
  std::uint64_t pages_fetched() const { return pages_fetched_; }

 private:
  Status fetch_page();

  DBKeyLister& lister_;
  const DBCursorOptions options_;
  const std::string prefix_;
  const std::vector<std::string> siblings_;
  KeyRange range_;
  std::string after_key_;
  std::deque<IndexRow> page_;
  bool exhausted_ = false;  // the last page has been fetched
  std::optional<Status> latched_;
  std::uint64_t rows_scanned_ = 0;
  std::uint64_t pages_fetched_ = 0;
  // The next page, being queried (with prefetch). Last: destroyed (and so
  // waited for) before anything the query uses.
  std::future<StatusOr<std::vector<IndexRow>>> prefetched_;
};

}  // namespace s3reconcile
