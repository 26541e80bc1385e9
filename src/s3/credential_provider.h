// One source of AWS credentials (the environment, a profile, STS, a
// container endpoint, the instance metadata service, a process). A provider
// fetches afresh on every call; RefreshingCredentials decides when.
#pragma once

#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "s3/sigv4.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

struct TimedCredentials {
  Credentials credentials;
  std::optional<Clock::time_point> expiration;  // std::nullopt: they do not expire
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;

  // Fetches credentials (reads the variables, sends the request, runs the
  // process). An error names the source and what went wrong, never a secret.
  virtual StatusOr<TimedCredentials> fetch(std::stop_token stop) = 0;

  // Which source this is, for messages and `check --explain-credentials`:
  // "environment (AWS_ACCESS_KEY_ID)", "web identity (role arn:..., token
  // file /var/run/...)". Never a secret.
  virtual std::string describe() const = 0;
};

// Credentials that are known up front (environment variables, static keys
// of a profile).
std::unique_ptr<CredentialProvider> fixed_credentials(Credentials credentials, std::string description);

// Reads the JSON document that container endpoints, the instance metadata
// service and credential_process all answer with: AccessKeyId,
// SecretAccessKey, Token or SessionToken, Expiration (ISO 8601). `source`
// prefixes every error.
StatusOr<TimedCredentials> parse_credentials_json(std::string_view body, std::string_view source);

// Reads a token file the platform keeps rotating (a web identity token, a
// container authorization token): a regular file of at most 64 KiB,
// trailing newlines and blanks dropped. Errors say "<what> <path>: not
// readable" (or "larger than 64 KiB"), never the content.
StatusOr<std::string> read_token_file(const std::string& path, std::string_view what);

// Parses "2026-12-01T10:00:00Z", with or without a fraction, "Z" or "+00:00".
StatusOr<Clock::time_point> parse_expiration(std::string_view text);

}  // namespace s3reconcile::s3
