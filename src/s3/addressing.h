// Where a request for a bucket and key goes, in path or virtual-hosted style.
#pragma once

#include <string>
#include <string_view>

#include "s3reconcile/s3_backend.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

struct Endpoint {
  std::string scheme;     // "http" | "https"
  std::string host;       // "s3.amazonaws.com", "127.0.0.1", "[::1]"
  std::string port;       // "" when not given
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

// Parses "scheme://host[:port][/path]".
StatusOr<Endpoint> parse_endpoint(std::string_view endpoint);

struct Target {
  std::string url;            // what libcurl fetches, without the query
  std::string host_header;    // the Host header (signed)
  std::string canonical_uri;  // the path as sent and signed, encoded once
};

// The target of a request on `bucket` for `key` ("" for the bucket itself).
Target request_target(const Endpoint& endpoint, S3Addressing addressing, std::string_view bucket, std::string_view key);

}  // namespace s3reconcile::s3
