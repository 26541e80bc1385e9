#include "session_credentials.h"

#include <charconv>

#include <fmt/format.h>

#include "s3/sigv4.h"
#include "s3reconcile/time_format.h"

namespace s3r_synthetic {
namespace {

constexpr std::string_view kKeyPrefix = "ASIASYN";

long long millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

bool SessionCredentials::issued_key(std::string_view access_key) { return access_key.starts_with(kKeyPrefix); }

std::string SessionCredentials::secret_for(std::string_view access_key) const {
  return s3reconcile::s3::sha256_hex(master_secret_ + "/secret/" + std::string(access_key)).substr(0, 40);
}

// "<expiry in ms>.<check>": the expiry travels in the token, the check makes
// it unforgeable without the endpoint's secret.
std::string SessionCredentials::token_for(std::string_view access_key, long long expires_ms) const {
  return fmt::format(
      "{}.{}", expires_ms,
      s3reconcile::s3::sha256_hex(fmt::format("{}/token/{}/{}", master_secret_, access_key, expires_ms)));
}

std::string SessionCredentials::issue_json(std::chrono::system_clock::time_point now) {
  const std::string key = fmt::format("{}{:013}", kKeyPrefix, ++issued_);
  const auto expires = now + lifetime_;
  return fmt::format(R"({{"AccessKeyId":"{}","SecretAccessKey":"{}","Token":"{}","Expiration":"{}"}})", key,
                     secret_for(key), token_for(key, millis(expires)), s3reconcile::iso8601_utc_micros(expires));
}

std::optional<AuthFailure> SessionCredentials::check_token(std::string_view access_key, const std::string* token,
                                                           std::chrono::system_clock::time_point now) const {
  const AuthFailure invalid{403, "InvalidToken", "The provided token is malformed or otherwise invalid."};
  if (token == nullptr) return invalid;
  long long expires_ms = 0;
  const auto dot = token->find('.');
  const auto [end, ec] = std::from_chars(token->data(), token->data() + std::min(dot, token->size()), expires_ms);
  if (dot == std::string::npos || ec != std::errc() || *token != token_for(access_key, expires_ms)) return invalid;
  if (millis(now) >= expires_ms) return AuthFailure{400, "ExpiredToken", "The provided token has expired."};
  return std::nullopt;
}

}  // namespace s3r_synthetic
