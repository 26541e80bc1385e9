// DBCursorStream: the index side of the merge, one bounded page at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "s3reconcile/buckets.h"
#include "s3reconcile/db_key_lister.h"
#include "s3reconcile/key_source.h"
#include "s3reconcile/live_counts.h"
#include "s3reconcile/read_ahead.h"

namespace s3reconcile {

namespace internal {
class BucketTally;
}

// How the cursor gets its next page ready while the merge works on the
// current one.
enum class IndexReadAhead {
  // Queried when the merge asks for it: the store is shared with the pass's
  // writes, which would stand between the query and its answer.
  kNone,
  // Announced to the store (DBKeyLister::list_by_storage_key_next) as soon as
  // the page before it is read: PostgreSQL sends the query then, and the
  // server works on it while the merge goes through the page in hand.
  kAnnounce,
  // Queried on one thread kept for the walk.
  kThread,
};

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
  // How the next page is got ready. With kThread the lister is used from
  // that thread (never two queries at once); with kThread or kAnnounce it
  // must not be shared with anything else meanwhile.
  IndexReadAhead read_ahead = IndexReadAhead::kNone;
  // Told of the rows yielded, by bucket, as they go. Optional.
  LiveCounts* live_counts = nullptr;
};

// Pages through DBKeyLister::list_by_storage_key with keyset paging on
// (storage_key, object_key). No query is issued before the first next();
// a page shorter than page_size is the last, and after the end no query is
// ever issued again. A store error is returned with the backend and page
// position as context and latched. Rows that come back out of order are an
// error, not something to page around. Entries come in path order; rows
// sharing a path are neighbours; a batch is one page's rows.
class DBCursorStream final : public KeySource {
 public:
  DBCursorStream(DBKeyLister& lister, DBCursorOptions options);
  ~DBCursorStream() override;

  StatusOr<std::span<const Entry>> next_batch() override;
  // Holds no connection; waits for a query in flight on the read-ahead thread.
  void release() override;

  // Rows yielded: inside the range and covered by the pass.
  std::uint64_t rows_scanned() const { return rows_scanned_; }
  // Queries issued so far.
  std::uint64_t pages_fetched() const { return pages_fetched_; }
  // Rows yielded, by bucket.
  const std::map<std::string, std::uint64_t>& rows_by_bucket();

 private:
  // One page of rows, read and turned into entries by read_page().
  struct Page {
    Status status;
    std::vector<Entry> entries;  // the rows inside the range and covered by the pass
    std::size_t rows = 0;        // rows the query returned
    RowPosition last;            // the last of them (when there is one)
    bool past_range = false;     // a row beyond options_.through came back
  };

  // Queries the page after `after` and turns its rows into entries written
  // over `recycled` (a batch the consumer is done with). Runs on the
  // read-ahead thread (or the caller's), one call at a time, so that the
  // rows' strings are allocated and freed on one thread; reads only what
  // never changes, and writes rows_.
  Page read_page(const RowPosition& after, std::vector<Entry> recycled);
  // The next page into batch_ (possibly empty: rows outside the pass are
  // left out), and the one after it got ready as options_.read_ahead says.
  Status fetch_page();

  DBKeyLister& lister_;
  const DBCursorOptions options_;
  KeyRange range_;
  RowPosition after_;
  std::vector<Entry> batch_;  // the batch handed out last
  std::vector<Entry> spare_;  // a batch to write the next page over
  // The rows of the page read last, written over by the next: read_page's
  // only, which runs one call at a time.
  std::vector<IndexRow> rows_;
  bool exhausted_ = false;  // the last page has been fetched
  std::optional<Status> latched_;
  std::uint64_t rows_scanned_ = 0;
  std::uint64_t pages_fetched_ = 0;
  std::unique_ptr<internal::BucketTally> tally_;
  // The next page, being queried (kThread). Last: destroyed (and so
  // waited for) before anything the query uses.
  ReadAhead<Page> read_ahead_;
};

}  // namespace s3reconcile
