// S3KeyStream: a backend's page-callback walk turned into a KeySource.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "s3reconcile/key_source.h"
#include "s3reconcile/object_lister.h"

namespace spdlog {
class logger;
}

namespace s3reconcile {

struct S3KeyStreamOptions {
  // The virtual bucket being reconciled. Its keys live under "bucket/".
  std::string bucket;
  // Every known virtual bucket (may include `bucket`). Keys under another
  // known bucket's prefix belong to that sibling and are dropped.
  std::vector<std::string> known_buckets;
  // Adopt keys under no known bucket prefix as "bucket/<key>" (storage key
  // stays "<key>"). Set only for a backend's default bucket whose
  // unprefixed_keys setting is "adopt".
  bool adopt_unprefixed = false;
  // Entries the producer may queue ahead of the consumer, per walk. Pages
  // are handed over whole, so a page larger than this still goes through
  // (one at a time): the bound is the larger of this and one page.
  std::size_t queue_size = 1000;
  // Only keys strictly after this namespaced key ("" = from the start).
  std::string start_after;
  // Only keys up to and including this namespaced key ("" = to the end of
  // the bucket). Each walk stops at its first key beyond it, so a range of
  // a parallel pass lists its own keys and about one page more.
  std::string through;
  // Incremented once per listing page, from the producer threads. Optional.
  std::atomic<std::uint64_t>* api_pages = nullptr;
  // Where collisions are logged. Optional.
  std::shared_ptr<spdlog::logger> logger;
};

// One producer thread walks the lister into a bounded queue; next() pops.
// When unprefixed keys are adopted, a second producer walks the raw keys and
// next() merges both walks in key order, so the stream stays ascending: with
// native "b/a", "b/z" and raw "m" it yields "b/a", "b/m", "b/z". A key
// present both raw ("x") and prefixed ("b/x") is yielded once, as the
// prefixed one; the raw one is a collision (counted, logged, never yielded).
//
// Errors: a failed walk, a key outside the requested prefix, a stop of the
// stream or of `pass_stop` make next() return an error, which is latched. A
// cancelled or failed walk is never reported as an end of stream.
//
// stop() cancels and joins the producers; it is idempotent and the
// destructor calls it.
class S3KeyStream final : public KeySource {
 public:
  S3KeyStream(ObjectLister& lister, S3KeyStreamOptions options,
              std::stop_token pass_stop = {});
  ~S3KeyStream() override;

  StatusOr<std::optional<Entry>> next() override;
  void stop() override;

  // Whether next() has returned the (clean) end of the stream.
  bool ended() const { return ended_; }
  // Entries yielded by next() so far.
  std::uint64_t yielded() const { return yielded_; }
  // Raw keys dropped because their prefixed twin exists.
  std::uint64_t collisions() const { return collisions_; }
  // The most entries any producer held queued at once (at most the larger
  // of queue_size and one page).
  std::size_t queue_high_watermark() const;

 private:
  class Walk;

  StatusOr<std::optional<Entry>> next_merged();
  Status fill(Walk& walk, std::optional<Entry>& head, bool& done);

  S3KeyStreamOptions options_;
  std::optional<Status> latched_;  // first error or end seen by next()
  bool ended_ = false;
  std::uint64_t collisions_ = 0;
  std::uint64_t yielded_ = 0;
  // Heads of the two walks while merging adopted keys.
  std::optional<Entry> native_head_, raw_head_;
  bool native_done_ = false, raw_done_ = false;
  std::stop_source stop_source_;
  std::unique_ptr<Walk> native_;
  std::unique_ptr<Walk> raw_;  // null unless adopting
  std::optional<std::stop_callback<std::function<void()>>> pass_stop_link_;
};

}  // namespace s3reconcile
