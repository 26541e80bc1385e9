// The in-process fakes speak S3 through the synthetic endpoint's code
// (bench/synthetic_s3): one listing, one XML writer and one signature check
// for the tests, whether the transport is the s3r-synthetic-s3 process or
// FakeHttpServer with its faults.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "request.h"
#include "sigv4_check.h"
#include "support/fake_http_server.h"

namespace s3reconcile::testing {

inline s3r_synthetic::Request to_synthetic(const FakeRequest& r) {
  s3r_synthetic::Request out{r.method, r.path, r.raw_query, {}, r.body};
  for (const auto& [name, value] : r.headers) out.headers.emplace_back(name, value);
  return out;
}

// Whether `r` is signed, as AWS checks it, by one of `secrets` (access key
// id -> secret key) for `region` and `service`.
inline std::optional<s3r_synthetic::AuthFailure> check_signature(const FakeRequest& r,
                                                                 const std::map<std::string, std::string>& secrets,
                                                                 const std::string& region,
                                                                 const std::string& service) {
  s3r_synthetic::SignatureRules rules;
  rules.secret_for = [&](std::string_view key) -> std::optional<std::string> {
    const auto it = secrets.find(std::string(key));
    if (it == secrets.end()) return std::nullopt;
    return it->second;
  };
  rules.region = region;
  rules.service = service;
  rules.payload_hash_header = service == "s3";
  return s3r_synthetic::check_sigv4(to_synthetic(r), rules);
}

}  // namespace s3reconcile::testing
