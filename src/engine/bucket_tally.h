// Counting entries per virtual bucket at the cost of a comparison per key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace s3reconcile::internal {

// Keys come in path order, so neighbours mostly share a bucket: the tally
// counts a run of one bucket in a local counter and touches the map only
// when the bucket changes.
class BucketTally {
 public:
  void add(std::string_view bucket) {
    if (run_ > 0 && bucket == current_) {
      ++run_;
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
  void flush() {
    if (run_ > 0) counts_[current_] += run_;
    run_ = 0;
  }

  std::string current_;
  std::uint64_t run_ = 0;
  std::map<std::string, std::uint64_t> counts_;
};

}  // namespace s3reconcile::internal
