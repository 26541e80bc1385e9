#include "s3reconcile/storage_survey.h"

#include <fmt/format.h>

#include "s3reconcile/key_order.h"

namespace s3reconcile {

void HiddenTally::add(const HiddenTally& other) {
  noncurrent_versions += other.noncurrent_versions;
  noncurrent_version_bytes += other.noncurrent_version_bytes;
  delete_markers += other.delete_markers;
  incomplete_uploads += other.incomplete_uploads;
  incomplete_upload_bytes += other.incomplete_upload_bytes;
  if (other.oldest_upload_initiated &&
      (!oldest_upload_initiated || *other.oldest_upload_initiated < *oldest_upload_initiated)) {
    oldest_upload_initiated = other.oldest_upload_initiated;
  }
}

namespace {

// The bucket a key is counted under: its own when the backend stores it
// (or adopts unprefixed keys into the default), else the known bucket it
// names, else "". Hidden storage is billed whoever owns it, so nothing is
// left out.
std::string bucket_for(const PathClassifier& classifier, std::string_view key) {
  const PathClassifier::Class c = classifier.classify(key);
  if (c.kind != PathClassifier::Kind::kOut) return std::string(c.bucket);
  return std::string(classifier.bucket_of_key(key));
}

}  // namespace

StatusOr<SurveyReport> survey_hidden_storage(HiddenStorageLister& lister, const PathClassifier& classifier,
                                             const SurveyOptions& options, std::stop_token stop) {
  SurveyReport report;
  Status versions = lister.list_versions(
      options.prefix,
      [&](const std::vector<ObjectVersion>& page) {
        for (const ObjectVersion& v : page) {
          if (!v.delete_marker && v.is_latest) continue;  // a current object: the pass's business
          HiddenTally& tally = report.buckets[bucket_for(classifier, v.key)];
          if (v.delete_marker) {
            ++tally.delete_markers;
          } else {
            ++tally.noncurrent_versions;
            tally.noncurrent_version_bytes += v.size;
          }
        }
        return true;
      },
      stop);
  if (!versions.ok()) return versions;

  Status failure;  // the first failure inside the upload walk's callback
  Status uploads = lister.list_uploads(
      options.prefix,
      [&](const std::vector<IncompleteUpload>& page) {
        for (const IncompleteUpload& upload : page) {
          auto bytes = lister.upload_bytes(upload, stop);
          if (!bytes.ok()) {
            failure = bytes.status();
            return false;
          }
          HiddenTally one;
          one.incomplete_uploads = 1;
          one.incomplete_upload_bytes = *bytes;
          one.oldest_upload_initiated = upload.initiated;
          report.buckets[bucket_for(classifier, upload.key)].add(one);
          const Clock::duration age = options.now - upload.initiated;
          // 0 means every upload, whatever the clocks say: a server that rounds
          // Initiated up (Swift) would otherwise keep a fresh one from "0s".
          if (!options.abort_older_than) continue;
          if (options.abort_older_than->count() > 0 && age < *options.abort_older_than) continue;
          if (!options.dry_run) {
            if (Status aborted = lister.abort_upload(upload, stop); !aborted.ok()) {
              failure = aborted;
              return false;
            }
          }
          if (options.on_abort) options.on_abort(upload, age);
          ++report.uploads_aborted;
        }
        return true;
      },
      stop);
  if (!failure.ok()) return failure;
  if (!uploads.ok()) return uploads;
  for (const auto& [bucket, tally] : report.buckets) report.total.add(tally);
  return report;
}

}  // namespace s3reconcile
