// HiddenStorageLister: what a plain listing cannot see on a backend, yet the
// provider bills for: noncurrent versions, delete markers and multipart
// uploads that were never completed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "s3reconcile/entry.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// One entry of a version listing: a version of an object or a delete marker.
struct ObjectVersion {
  std::string key;
  std::string version_id;
  std::int64_t size = 0;  // 0 for a delete marker
  bool is_latest = false;
  bool delete_marker = false;
  std::optional<Clock::time_point> last_modified;
};

// A multipart upload that was started and neither completed nor aborted.
struct IncompleteUpload {
  std::string key;
  std::string upload_id;
  Clock::time_point initiated{};
};

// Receive one page, in key order, continuing the previous page; returning
// false stops the walk (the walk then returns OK).
using VersionPageCallback = std::function<bool(const std::vector<ObjectVersion>& page)>;
using UploadPageCallback = std::function<bool(const std::vector<IncompleteUpload>& page)>;

class HiddenStorageLister {
 public:
  virtual ~HiddenStorageLister() = default;

  // Every version and delete marker under `prefix`, a page at a time. As
  // with ObjectLister::list, OK only at the true end (or when asked to
  // stop); a page that cannot be fetched, does not parse, goes back in key
  // order or claims more without saying where is an error naming the page.
  virtual Status list_versions(const std::string& prefix, const VersionPageCallback& on_page, std::stop_token stop) = 0;

  // Every incomplete multipart upload under `prefix`, a page at a time, with
  // the same rules.
  virtual Status list_uploads(const std::string& prefix, const UploadPageCallback& on_page, std::stop_token stop) = 0;

  // The bytes of the parts uploaded so far to `upload`.
  virtual StatusOr<std::int64_t> upload_bytes(const IncompleteUpload& upload, std::stop_token stop) = 0;

  // Aborts `upload`, freeing its parts. Touches no object and no version.
  virtual Status abort_upload(const IncompleteUpload& upload, std::stop_token stop) = 0;
};

}  // namespace s3reconcile
