// Checks an AWS Signature V4 Authorization header the way a server does:
// known key, the region and service expected, and the signature recomputed
// from the request as received. For fakes that must refuse what AWS refuses.
#pragma once

#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "s3/list_xml.h"
#include "s3/sigv4.h"
#include "support/fake_http_server.h"

namespace s3reconcile::testing {

struct SigV4Refusal {
  std::string code;  // an S3 error code: InvalidAccessKeyId, AuthorizationHeaderMalformed, SignatureDoesNotMatch
  std::string message;
};

// `secrets`: access key id -> secret key. `payload_hash` is what the body
// hashes to (the fake knows its body; S3 requests send the header).
inline std::optional<SigV4Refusal> verify_sigv4(const FakeRequest& r, const std::map<std::string, std::string>& secrets,
                                                const std::string& region, const std::string& service,
                                                const std::string& payload_hash) {
  const auto auth = r.headers.find("authorization");
  if (auth == r.headers.end()) return SigV4Refusal{"AccessDenied", "no Authorization header"};
  const std::string& h = auth->second;
  auto field = [&](const std::string& name) {
    const auto at = h.find(name + "=");
    if (at == std::string::npos) return std::string();
    const auto from = at + name.size() + 1;
    return h.substr(from, h.find(',', from) - from);
  };
  const std::string credential = field("Credential"), signed_headers = field("SignedHeaders"),
                    signature = field("Signature");
  std::istringstream parts(credential);
  std::string key, date, cred_region, cred_service;
  std::getline(parts, key, '/');
  std::getline(parts, date, '/');
  std::getline(parts, cred_region, '/');
  std::getline(parts, cred_service, '/');
  const auto secret = secrets.find(key);
  if (secret == secrets.end()) return SigV4Refusal{"InvalidAccessKeyId", "unknown key " + key};
  if (cred_region != region || cred_service != service) {
    return SigV4Refusal{"AuthorizationHeaderMalformed",
                        "the region '" + cred_region + "' is wrong; expecting '" + region + "'"};
  }
  const auto amz = r.headers.find("x-amz-date");
  if (amz == r.headers.end() || amz->second.size() != 16) return SigV4Refusal{"AccessDenied", "no x-amz-date"};
  const std::string& d = amz->second;
  const auto when = s3::parse_iso8601(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2) + "T" +
                                      d.substr(9, 2) + ":" + d.substr(11, 2) + ":" + d.substr(13, 2) + "Z");
  if (!when.ok()) return SigV4Refusal{"AccessDenied", "bad x-amz-date"};
  s3::RequestToSign request;
  request.method = r.method;
  request.canonical_uri = r.path;
  for (const auto& [name, value] : r.query) request.query.emplace_back(name, value);
  std::istringstream names(signed_headers);
  for (std::string name; std::getline(names, name, ';');) {
    const auto v = r.headers.find(name);
    request.headers.emplace_back(name, v == r.headers.end() ? "" : v->second);
  }
  request.payload_hash = payload_hash;
  const auto expected = s3::sign_v4(request, s3::Credentials{key, secret->second, ""}, region, service, *when);
  if (expected.signature != signature) return SigV4Refusal{"SignatureDoesNotMatch", "signature mismatch"};
  return std::nullopt;
}

}  // namespace s3reconcile::testing
