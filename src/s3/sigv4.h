// AWS Signature Version 4 for S3 requests (header signing).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3reconcile/entry.h"  // Clock

namespace s3reconcile::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when not using temporary credentials
};

using NameValues = std::vector<std::pair<std::string, std::string>>;

struct RequestToSign {
  std::string method;  // "GET", "HEAD"
  // The path exactly as it goes on the wire, already URI-encoded once
  // ("/bucket/my%20key"). S3 signs it as is: no normalization, no second
  // encoding.
  std::string canonical_uri;
  // Query parameters, NOT encoded (names and values as the caller means them).
  NameValues query;
  // Every header to sign, names in any case, values raw. The caller includes
  // host, x-amz-date, x-amz-content-sha256 and, with a session token,
  // x-amz-security-token. Repeated names are joined with ",".
  NameValues headers;
  // Lowercase hex SHA-256 of the body (for S3: the value of x-amz-content-sha256).
  std::string payload_hash;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value
};

// Signs `request` for `region` and `service` ("s3") at time `when`.
Signature sign_v4(const RequestToSign& request, const Credentials& credentials, std::string_view region,
                  std::string_view service, Clock::time_point when);

// "20150830T123600Z".
std::string amz_date(Clock::time_point when);

// Lowercase hex SHA-256.
std::string sha256_hex(std::string_view data);

// RFC 3986 percent-encoding as SigV4 wants it: every byte except A-Z a-z 0-9
// - _ . ~ becomes %XY (uppercase hex); '/' is kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

// The canonical query string: each name and value uri_encode()d, sorted by
// name then value, joined with '&'. Also what the client sends on the wire.
std::string canonical_query(const NameValues& query);

}  // namespace s3reconcile::s3
