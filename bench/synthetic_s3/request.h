// An HTTP request as the server received it, before any S3 meaning is given
// to it, and the answer to send back. Kept free of civetweb so that routing
// and signature checks can be tested without sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3r_synthetic {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;
  std::string raw_path;   // as on the wire, still percent-encoded: what the client signed
  std::string raw_query;  // after '?', still encoded
  Fields headers;         // names as sent
  std::string body;

  // The first header `name` (any case), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct Response {
  int status = 200;
  Fields headers;
  std::string body;
  // HEAD: Content-Length describes the object, yet no body is sent.
  long long content_length = -1;  // -1: body.size()
};

// The query string split into decoded name/value pairs ('+' is a space, as
// S3 reads it); a name without '=' has an empty value. nullopt on a bad
// %-escape.
std::optional<Fields> parse_query(std::string_view raw_query);

// Percent-decoding of the path ('+' stays '+'); nullopt on a bad escape.
std::optional<std::string> decode_path(std::string_view raw);

}  // namespace s3r_synthetic
