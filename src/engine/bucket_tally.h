// Counting entries per virtual bucket at the cost of a comparison per key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "s3reconcile/live_counts.h"

namespace s3reconcile::internal {

// Keys come in path order, so neighbours mostly share a bucket: the tally
// counts a run of one bucket in a local counter and touches the map only
// when the bucket changes. With `live`, each run is also reported there as
// `field`, in pieces of at most kLiveCountsRun, for watchers of the pass.
class BucketTally {
 public:
  BucketTally() = default;
  BucketTally(LiveCounts* live, std::uint64_t PassCounts::*field) : live_(live), field_(field) {}

  void add(std::string_view bucket) {
    if (run_ > 0 && bucket == current_) {
      ++run_;
      if (live_ != nullptr && run_ - published_ >= kLiveCountsRun) publish();
      return;
    }
    flush();
    current_.assign(bucket);
    run_ = 1;
  }

  // The counts so far, by bucket.
  const std::map<std::string, std::uint64_t>& counts() {
    flush();
    return counts_;
  }

 private:
  void publish() {
    live_->add(current_, field_, run_ - published_);
    published_ = run_;
  }
  void flush() {
    if (live_ != nullptr && run_ > published_) publish();
    if (run_ > 0) counts_[current_] += run_;
    run_ = 0;
    published_ = 0;
  }

  LiveCounts* live_ = nullptr;
  std::uint64_t PassCounts::*field_ = nullptr;
  std::string current_;
  std::uint64_t run_ = 0;
  std::uint64_t published_ = 0;  // of the current run, already told to live_
  std::map<std::string, std::uint64_t> counts_;
};

}  // namespace s3reconcile::internal
