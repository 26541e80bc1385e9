#include "s3/addressing.h"

#include <fmt/format.h>

#include "s3/sigv4.h"
#include "s3reconcile/printable.h"

namespace s3reconcile::s3 {

StatusOr<Endpoint> parse_endpoint(std::string_view text) {
  // An endpoint with user information ("http://AKID:SECRET@host") is refused;
  // the refusal must not print what it refuses.
  std::string shown(text);
  if (const auto scheme_end = shown.find("://"); scheme_end != std::string::npos) {
    const auto authority_end = std::min(shown.find('/', scheme_end + 3), shown.size());
    const auto at = shown.rfind('@', authority_end);
    if (at != std::string::npos && at > scheme_end) shown.replace(scheme_end + 3, at - scheme_end - 3, "********");
  }
  auto bad = [&](std::string_view why) {
    return invalid_argument_error(fmt::format("endpoint \"{}\" {}", printable(shown), why));
  };
  Endpoint e;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("must start with http:// or https://");
  e.scheme = std::string(text.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") return bad("must start with http:// or https://");
  std::string_view rest = text.substr(sep + 3);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    e.base_path = std::string(path);
  }
  if (authority.empty()) return bad("has no host");
  if (authority.find('@') != std::string_view::npos) return bad("must not carry user information");
  std::size_t colon = std::string_view::npos;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed IPv6 address");
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("has junk after the IPv6 address");
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
  }
  e.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) {
    e.port = std::string(authority.substr(colon + 1));
    if (e.port.empty() || e.port.find_first_not_of("0123456789") != std::string::npos) return bad("has a bad port");
  }
  if (e.host.empty()) return bad("has no host");
  return e;
}

Target request_target(const Endpoint& e, S3Addressing addressing, std::string_view bucket, std::string_view key) {
  const std::string port = e.port.empty() ? "" : ":" + e.port;
  Target t;
  std::string host = e.host;
  std::string path = e.base_path;
  if (addressing == S3Addressing::kVirtual) {
    host = fmt::format("{}.{}", bucket, e.host);
    path += "/" + uri_encode(key, true);
  } else {
    path += "/" + uri_encode(bucket, false);
    if (!key.empty()) path += "/" + uri_encode(key, true);
  }
  t.host_header = host + port;
  t.canonical_uri = path;
  t.url = fmt::format("{}://{}{}", e.scheme, t.host_header, path);
  return t;
}

}  // namespace s3reconcile::s3
