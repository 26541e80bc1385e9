// The S3 requests the synthetic endpoint understands, routed by path-style
// addressing (/bucket, /bucket/key): ListBuckets, CreateBucket, HeadBucket,
// DeleteBucket, ListObjectsV2, GetBucketLocation, HeadObject, GetObject,
// PutObject, DeleteObject. Every request must carry a valid SigV4 signature.
// Anything else is 501 NotImplemented, never a silent half-answer.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "bucket.h"
#include "request.h"
#include "session_credentials.h"
#include "sigv4_check.h"

namespace s3r_synthetic {

class Service {
 public:
  // `generated_bucket` exists from the start and holds `generated`.
  Service(AuthConfig auth, const std::string& generated_bucket, KeySpace generated);

  // Serves GET /_credentials (temporary credentials living `lifetime`) and
  // accepts requests signed with them until they expire. Call before serving.
  void issue_session_credentials(std::chrono::milliseconds lifetime);

  // Safe to call from many threads at once.
  Response handle(const Request& request);

 private:
  struct Call;  // one request being answered

  Response bucket_request(Call& call);
  Response object_request(Call& call);
  Response list_objects_v2(Call& call, const Bucket& bucket);
  // The signature check, with the session credentials when the key is one.
  std::optional<AuthFailure> authenticate(const Request& request) const;
  std::shared_ptr<Bucket> find(const std::string& name) const;

  const AuthConfig auth_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Bucket>> buckets_;
  std::atomic<unsigned long long> requests_{0};
  std::atomic<unsigned long long> refused_{0};  // failed the signature or token check
  std::unique_ptr<SessionCredentials> sessions_;
};

}  // namespace s3r_synthetic
