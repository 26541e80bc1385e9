// Checks the AWS Signature Version 4 of a request (Authorization header) by
// signing it again with the product's own signer (src/s3/sigv4.h): whatever
// the product sends, the endpoint accepts exactly when the secret matches.
#pragma once

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

// nullopt when the request is signed with the configured credentials.
std::optional<AuthFailure> check_sigv4(const Request& request, const AuthConfig& auth);

}  // namespace s3r_synthetic
