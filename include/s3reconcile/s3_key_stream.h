// S3KeyStream: a backend's page-callback walk turned into a KeySource.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "s3reconcile/buckets.h"
#include "s3reconcile/key_source.h"
#include "s3reconcile/live_counts.h"
#include "s3reconcile/object_lister.h"

namespace s3reconcile {

namespace internal {
class BucketTally;
}

struct S3KeyStreamOptions {
  // Classifies each listed path into a virtual bucket (native or adopted)
  // or leaves it out of the pass. Null: every path is yielded, native, in
  // no bucket.
  std::shared_ptr<const PathClassifier> classifier;
  // Only paths under this prefix ("" = the whole backend).
  std::string prefix;
  // Entries the producer may queue ahead of the consumer. Pages are handed
  // over whole, so a page larger than this still goes through (one at a
  // time): the bound is the larger of this and one page.
  std::size_t queue_size = 1000;
  // Only paths strictly after this ("" = from the start).
  std::string start_after;
  // Only paths up to and including this ("" = to the end). The walk stops
  // at its first path beyond it, so a range of a parallel pass lists its
  // own paths and about one page more.
  std::string through;
  // Incremented once per listing page, from the producer thread. Optional.
  std::atomic<std::uint64_t>* api_pages = nullptr;
  // Told of the entries yielded, by bucket, as they go (on the consumer's
  // thread). Optional.
  LiveCounts* live_counts = nullptr;
  // List at most this many pages (0 = no limit): the request budget
  // (reconcile.max_list_requests). A walk that spends it ends cleanly and
  // says where (cut_after()), even when its last page happened to be the
  // listing's last: a page does not say whether more follow.
  std::uint64_t max_pages = 0;
};

// One producer thread walks the lister once, in the backend's order, into a
// bounded queue, a page a batch; next_batch() pops one. Each listed path is classified on the way
// (never renamed, never reordered): the stream's order is the listing's.
//
// Errors: a failed walk, a path outside the requested prefix, a stop of the
// stream or of `pass_stop` make the next read return an error, which is latched. A
// cancelled or failed walk is never reported as an end of stream.
//
// stop() cancels and joins the producer; it is idempotent and the
// destructor calls it.
class S3KeyStream final : public KeySource {
 public:
  S3KeyStream(ObjectLister& lister, S3KeyStreamOptions options, std::stop_token pass_stop = {});
  ~S3KeyStream() override;

  StatusOr<std::span<const Entry>> next_batch() override;
  void release() override;
  // After the end: the last raw path listed (or start_after, when none was)
  // if the walk spent its page budget; std::nullopt otherwise.
  std::optional<std::string> cut_after() const override;

  // Whether the (clean) end of the stream has been returned.
  bool ended() const { return ended_; }
  // Entries yielded so far.
  std::uint64_t yielded() const { return yielded_; }
  // Paths the backend listed in range, including those left out of the pass.
  std::uint64_t listed_paths() const { return listed_paths_.load(); }
  // Entries yielded, by bucket.
  const std::map<std::string, std::uint64_t>& listed_by_bucket();
  // The most entries the producer held queued at once (at most the larger
  // of queue_size and one page).
  std::size_t queue_high_watermark() const;

 private:
  class Walk;

  S3KeyStreamOptions options_;
  std::optional<Status> latched_;  // first error seen by next_batch()
  bool ended_ = false;
  std::uint64_t yielded_ = 0;
  std::atomic<std::uint64_t> listed_paths_{0};
  std::unique_ptr<internal::BucketTally> tally_;
  std::stop_source stop_source_;
  std::unique_ptr<Walk> walk_;
  std::optional<std::stop_callback<std::function<void()>>> pass_stop_link_;
};

}  // namespace s3reconcile
