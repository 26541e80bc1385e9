// Test set-up against a real S3 server: create buckets, put and delete
// objects. Signs with the product's own signer; only tests use PUT/DELETE.
#pragma once

#include <cstdlib>
#include <random>
#include <string>

#include <fmt/format.h>

#include "s3/addressing.h"
#include "s3/http_client.h"
#include "s3/sigv4.h"

namespace s3reconcile::testing {

// The server scripts/s3-server started, from S3R_TEST_* variables.
struct S3TestServer {
  std::string endpoint, access_key, secret_key, region, name;

  // Empty endpoint when the variables are not set.
  static S3TestServer from_env() {
    auto env = [](const char* n) {
      const char* v = std::getenv(n);
      return std::string(v ? v : "");
    };
    return S3TestServer{env("S3R_TEST_ENDPOINT"), env("S3R_TEST_ACCESS_KEY"), env("S3R_TEST_SECRET_KEY"),
                        env("S3R_TEST_REGION").empty() ? "us-east-1" : env("S3R_TEST_REGION"), env("S3R_TEST_SERVER")};
  }
};

// A bucket name no earlier run used: "s3r-<label>-<server>-<random>".
inline std::string fresh_bucket_name(const S3TestServer& server, const std::string& label) {
  std::random_device rd;
  return fmt::format("s3r-{}{}-{:08x}", label.empty() ? "" : label + "-", server.name.empty() ? "test" : server.name,
                     rd());
}

// In a fixture's SetUp: without a server the tests skip, unless
// S3R_REQUIRE_S3_SERVER=1 (as scripts/test sets it) makes that a failure.
#define S3R_SKIP_WITHOUT_S3_SERVER(server)                                                  \
  if ((server).endpoint.empty()) {                                                          \
    const char* required = std::getenv("S3R_REQUIRE_S3_SERVER");                            \
    if (required && std::string(required) == "1") FAIL() << "S3R_TEST_ENDPOINT is not set"; \
    GTEST_SKIP() << "no S3 server (set S3R_TEST_ENDPOINT, or run scripts/test)";            \
  }

class S3TestClient {
 public:
  explicit S3TestClient(S3TestServer server)
      : server_(std::move(server)), endpoint_(*s3::parse_endpoint(server_.endpoint)), http_(s3::HttpOptions{}) {}

  // Returns the HTTP status (0 on transport failure). `query` names a
  // sub-resource (?versioning, ?uploads, ?uploadId=...).
  long request(const std::string& method, const std::string& bucket, const std::string& key,
               const std::string& body = "", const s3::NameValues& query = {}) {
    const auto target = s3::request_target(endpoint_, S3Addressing::kPath, bucket, key);
    const auto now = Clock::now();
    const std::string hash = s3::sha256_hex(body);
    s3::RequestToSign r{method, target.canonical_uri, query, {}, hash};
    r.headers = {{"host", target.host_header}, {"x-amz-content-sha256", hash}, {"x-amz-date", s3::amz_date(now)}};
    const auto sig =
        s3::sign_v4(r, s3::Credentials{server_.access_key, server_.secret_key, ""}, server_.region, "s3", now);
    std::vector<std::string> wire;
    for (const auto& [n, v] : r.headers) wire.push_back(n + ": " + v);
    wire.push_back("Authorization: " + sig.authorization);
    const std::string query_string = s3::canonical_query(query);
    auto response =
        http_.perform(method, target.url + (query_string.empty() ? "" : "?" + query_string), wire, {}, body);
    last_body_ = response.ok() ? response->body : response.status().to_string();
    return response.ok() ? response->status : 0;
  }

  long create_bucket(const std::string& bucket) { return request("PUT", bucket, ""); }
  long put(const std::string& bucket, const std::string& key, const std::string& body = "x") {
    return request("PUT", bucket, key, body);
  }
  long remove(const std::string& bucket, const std::string& key) { return request("DELETE", bucket, key); }
  const std::string& last_body() const { return last_body_; }

 private:
  S3TestServer server_;
  s3::Endpoint endpoint_;
  s3::HttpClient http_;
  std::string last_body_;
};

}  // namespace s3reconcile::testing
