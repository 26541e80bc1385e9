// Checks the AWS Signature Version 4 of a request (Authorization header) by
// signing it again with the product's own signer (src/s3/sigv4.h): whatever
// the product sends, the endpoint accepts exactly when the secret matches.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "request.h"

namespace s3r_synthetic {

struct AuthConfig {
  std::string access_key;
  std::string secret_key;
  std::string region;
};

struct AuthFailure {
  int status = 403;
  std::string code;  // "SignatureDoesNotMatch", "InvalidAccessKeyId", ...
  std::string message;
};

// What a server expects of a signature: whose keys, which region, which
// service. The in-process test fakes (STS, S3 with session keys) use this
// form; the endpoint itself has one key pair (AuthConfig).
struct SignatureRules {
  // The secret of an access key id; nullopt when the key is unknown.
  std::function<std::optional<std::string>(std::string_view access_key)> secret_for;
  std::string region;
  std::string service = "s3";
  // S3 requires the x-amz-content-sha256 header; STS signs the body's hash
  // without sending it.
  bool payload_hash_header = true;
};

// nullopt when the request is signed as `rules` require.
std::optional<AuthFailure> check_sigv4(const Request& request, const SignatureRules& rules);
// nullopt when the request is signed with the configured credentials.
std::optional<AuthFailure> check_sigv4(const Request& request, const AuthConfig& auth);

}  // namespace s3r_synthetic
