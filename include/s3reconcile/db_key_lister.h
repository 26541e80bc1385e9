// DBKeyLister: the narrow surface the index cursor needs from a store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/status.h"

namespace s3reconcile {

// One row of the index table object_locations.
struct IndexRow {
  std::string object_key;
  std::string storage_key;
  std::int64_t size_bytes = 0;
};

// A half-open range of paths (storage keys) [begin, end) in key order. An
// empty `end` means no upper bound; an empty `begin` means from the first.
struct KeyRange {
  std::string begin;
  std::string end;
};

// Where a cursor stands. Rows sort by (storage_key, object_key), both in
// byte order, so that a position is exact even when rows share a path.
//   - storage_key only: after every row with that path ("" = from the start);
//   - with object_key: after that one row.
struct RowPosition {
  std::string storage_key;
  std::optional<std::string> object_key;
};

class DBKeyLister {
 public:
  virtual ~DBKeyLister() = default;

  // Up to `limit` rows of `backend` after `after` and with storage_key inside
  // `range`, in ascending (storage_key, object_key) order (byte order,
  // whatever the database's locale), written over `rows`: it ends up holding
  // exactly the rows read, their strings written over the buffers of the
  // rows it held, so that a cursor passing the same vector back page after
  // page allocates nothing per row. Fewer than `limit` rows means there are
  // no more. On an error `rows` holds anything.
  virtual Status list_by_storage_key(std::string_view backend, const RowPosition& after, std::size_t limit,
                                     const KeyRange& range, std::vector<IndexRow>& rows) = 0;

  // The caller's next call will be list_by_storage_key with these
  // arguments, unless it stops. A store whose queries travel to a server may
  // send that query now, so that its answer arrives while the caller works
  // on the page before; any other call first reads that answer and drops
  // it, so no answer predates a change made after it was asked for.
  virtual void list_by_storage_key_next(std::string_view /*backend*/, const RowPosition& /*after*/,
                                        std::size_t /*limit*/, const KeyRange& /*range*/) {}
};

// DBKeyLister::list_by_storage_key into a new vector (tools and tests).
StatusOr<std::vector<IndexRow>> list_rows_by_storage_key(DBKeyLister& lister, std::string_view backend,
                                                         const RowPosition& after, std::size_t limit,
                                                         const KeyRange& range);

}  // namespace s3reconcile
