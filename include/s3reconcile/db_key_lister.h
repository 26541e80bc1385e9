// DBKeyLister: the narrow surface the index cursor needs from a store.
#pragma once

#include <cstddef>
#include <cstdint>
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

// A half-open key range [begin, end) in key order. An empty `end` means no
// upper bound; an empty `begin` means from the first key.
struct KeyRange {
  std::string begin;
  std::string end;
};

class DBKeyLister {
 public:
  virtual ~DBKeyLister() = default;

  // Up to `limit` rows of `backend` with object_key > after_key (all rows
  // when after_key is empty) and inside `range`, in ascending key order
  // (byte order, whatever the database's locale). Fewer than `limit` rows
  // means there are no more.
  virtual StatusOr<std::vector<IndexRow>> list_by_backend_key_asc(
      std::string_view backend, std::string_view after_key, std::size_t limit,
      const KeyRange& range) = 0;
};

}  // namespace s3reconcile
