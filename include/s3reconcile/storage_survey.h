// The hidden storage survey: what a backend keeps beyond its current objects
// (noncurrent versions, delete markers, incomplete multipart uploads),
// counted per virtual bucket in one streaming walk of each listing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>

#include "s3reconcile/buckets.h"
#include "s3reconcile/hidden_storage.h"

namespace s3reconcile {

struct HiddenTally {
  std::uint64_t noncurrent_versions = 0;
  std::int64_t noncurrent_version_bytes = 0;
  std::uint64_t delete_markers = 0;  // current or not: each is billed
  std::uint64_t incomplete_uploads = 0;
  std::int64_t incomplete_upload_bytes = 0;  // the parts uploaded so far
  std::optional<Clock::time_point> oldest_upload_initiated;

  void add(const HiddenTally& other);
};

struct SurveyOptions {
  Clock::time_point now = Clock::now();  // ages are measured from here
  // Only the keys under this prefix ("" = every key): a bucket's "bucket/".
  std::string prefix;
  // Abort every incomplete upload at least this old (none when unset; 0:
  // every one, even one initiated "in the future" by the server's clock).
  std::optional<Clock::duration> abort_older_than;
  bool dry_run = false;  // list what would be aborted; abort nothing
  // Told of each upload once aborted (or, in a dry run, that would be): a
  // caller streams the listing instead of the survey keeping it.
  std::function<void(const IncompleteUpload& upload, Clock::duration age)> on_abort;
};

struct SurveyReport {
  // Per virtual bucket; "" holds keys under no bucket of the backend.
  std::map<std::string, HiddenTally> buckets;
  HiddenTally total;
  std::uint64_t uploads_aborted = 0;  // or that would be, in a dry run
};

// Walks every version and every incomplete upload of `lister` once,
// classifying each key by `classifier` (as a pass does; keys of buckets
// stored elsewhere count under that bucket, keys under none under ""). The
// counts are those before any abort. Memory stays that of one page and the
// tallies. Never deletes an object or a version.
StatusOr<SurveyReport> survey_hidden_storage(HiddenStorageLister& lister, const PathClassifier& classifier,
                                             const SurveyOptions& options, std::stop_token stop);

}  // namespace s3reconcile
