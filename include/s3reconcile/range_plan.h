// Splitting one bucket's keys into ranges that a parallel pass walks apart.
#pragma once

#include <cstddef>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/index_store.h"
#include "s3reconcile/object_lister.h"

namespace s3reconcile {

// A slice of one backend's paths (storage keys): every path k with
// after < k <= through. An empty `after` starts at the first path, an
// empty `through` runs to the last. Both ends are keys, never "the key
// before": that is what S3's start-after and keyset paging can express.
struct KeyInterval {
  std::string after;
  std::string through;
};

// The intervals between `boundaries` (ascending, distinct): (-, b1], (b1, b2],
// ..., (bn, -). Together they hold every key exactly once.
std::vector<KeyInterval> intervals_between(const std::vector<std::string>& boundaries);

struct RangePlan {
  enum class Source {
    kWhole,    // one range: one part asked for, or nothing to split by
    kIndex,    // at quantiles of the index's keys
    kListing,  // at the top-level names of the listing (the index is empty)
  };
  std::vector<KeyInterval> ranges;
  Source source = Source::kWhole;
};

std::string_view range_source_name(RangePlan::Source source);

// Plans up to `parts` ranges over the paths under `paths` ("" = all) on
// `backend`: at the index's own storage_key quantiles
// (IndexStore::split_keys), or, when the index holds no rows to split by,
// at the names one ListObjectsV2 page with delimiter "/" shows under the
// prefix (descending while there is only one). A planner
// that can do neither plans one range. Only a failing store or listing is
// an error; an UNIMPLEMENTED answer is a fallback.
StatusOr<RangePlan> plan_ranges(IndexStore& store, ObjectLister& lister, std::string_view backend,
                                std::string_view paths, std::size_t parts, std::stop_token stop);

}  // namespace s3reconcile
