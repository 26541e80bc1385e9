// The hidden-storage listings of an S3 bucket (ListObjectVersions,
// ListMultipartUploads, ListParts) and AbortMultipartUpload, sent through
// the backend's own signed and retried request path.
#pragma once

#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "s3/http_client.h"
#include "s3/sigv4.h"
#include "s3reconcile/hidden_storage.h"

namespace s3reconcile::s3 {

// What the walks borrow from S3Backend, so that there is one way to sign,
// send and retry a request and to name a failure.
struct S3Requests {
  HttpOptions http;
  std::string where;  // "endpoint=... bucket=...", for errors
  std::size_t page_size = 1000;
  // Signs and sends one request, retrying what is worth retrying.
  std::function<StatusOr<HttpResponse>(HttpClient& client, const std::string& method, std::string_view key,
                                       const NameValues& query, std::string_view operation, std::string_view context,
                                       std::stop_token stop)>
      send;
  // The error for an answer that is not a success, naming what was asked.
  std::function<Status(std::string_view operation, std::string_view context, const HttpResponse& response)> failure;
};

class HiddenStorageWalk final : public HiddenStorageLister {
 public:
  explicit HiddenStorageWalk(S3Requests requests) : requests_(std::move(requests)) {}

  Status list_versions(const std::string& prefix, const VersionPageCallback& on_page, std::stop_token stop) override;
  Status list_uploads(const std::string& prefix, const UploadPageCallback& on_page, std::stop_token stop) override;
  StatusOr<std::int64_t> upload_bytes(const IncompleteUpload& upload, std::stop_token stop) override;
  Status abort_upload(const IncompleteUpload& upload, std::stop_token stop) override;

 private:
  S3Requests requests_;
};

}  // namespace s3reconcile::s3
