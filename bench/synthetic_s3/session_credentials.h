// Temporary credentials, as STS or a container endpoint hands them out, for
// tests of a client that must refresh them: issued with a short lifetime,
// checked statelessly (the secret and the token are derived from the
// endpoint's own secret), and refused once expired with S3's ExpiredToken.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "sigv4_check.h"

namespace s3r_synthetic {

class SessionCredentials {
 public:
  SessionCredentials(std::string master_secret, std::chrono::milliseconds lifetime)
      : master_secret_(std::move(master_secret)), lifetime_(lifetime) {}

  // Whether `access_key` is one this endpoint issued ("ASIASYN...").
  static bool issued_key(std::string_view access_key);

  // A fresh set, as the JSON of an ECS/EKS container credentials endpoint
  // ({"AccessKeyId","SecretAccessKey","Token","Expiration"}).
  std::string issue_json(std::chrono::system_clock::time_point now);

  // The secret of an issued key.
  std::string secret_for(std::string_view access_key) const;

  // nullopt when `token` belongs to `access_key` and has not expired at `now`.
  std::optional<AuthFailure> check_token(std::string_view access_key, const std::string* token,
                                         std::chrono::system_clock::time_point now) const;

 private:
  std::string token_for(std::string_view access_key, long long expires_ms) const;

  std::string master_secret_;
  std::chrono::milliseconds lifetime_;
  std::atomic<unsigned long long> issued_{0};
};

}  // namespace s3r_synthetic
