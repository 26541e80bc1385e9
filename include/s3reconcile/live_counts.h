// LiveCounts: a pass's counts as it makes them, for whatever watches a pass
// in flight (metrics scraped mid-pass, a status page).
#pragma once

#include <cstdint>
#include <string_view>

#include "s3reconcile/result.h"

namespace s3reconcile {

// Told of the counts of a pass while it runs, by virtual bucket: each
// import, removal, kept removal or failure as it is decided, and the paths
// listed and rows scanned in runs (at every change of bucket, and at least
// every kLiveCountsRun entries), so that a pass of hours is seen moving. Over
// a pass that completes, the calls add up to its Result's counts.
//
// Called from the pass's threads, several at once: an implementation must
// be thread safe, and cheap, since the merge waits for it.
class LiveCounts {
 public:
  virtual ~LiveCounts() = default;
  virtual void add(std::string_view bucket, std::uint64_t PassCounts::*field, std::uint64_t n) = 0;
};

// Listed paths and scanned rows are reported at least this often.
inline constexpr std::uint64_t kLiveCountsRun = 500;

}  // namespace s3reconcile
