// A fake S3 bucket behind FakeHttpServer: ListObjectsV2 (the synthetic
// endpoint's, bench/synthetic_s3) and HeadObject over an in-memory key set,
// path-style, with switches for server quirks.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "fakes.h"
#include "listing.h"
#include "s3/list_xml.h"
#include "s3_xml.h"
#include "s3reconcile/s3_backend.h"
#include "support/fake_http_server.h"

namespace s3reconcile::testing {

// Options reaching a FakeS3Bucket behind `server`: path style, keys from
// S3R_TEST_FAKE_KEY and S3R_TEST_FAKE_SECRET (set to test values unless the
// test set them), retries short enough for tests.
inline S3BackendOptions fake_s3_options(const FakeHttpServer& server, std::size_t page = 1000) {
  ::setenv("S3R_TEST_FAKE_KEY", "AKIDTEST", 0);
  ::setenv("S3R_TEST_FAKE_SECRET", "very-secret-value", 0);
  S3BackendOptions o;
  o.endpoint = server.endpoint();
  o.bucket = "phys";
  o.addressing = S3Addressing::kPath;
  o.credentials.access_key_env = "S3R_TEST_FAKE_KEY";
  o.credentials.secret_key_env = "S3R_TEST_FAKE_SECRET";
  o.page_size = page;
  o.max_attempts = 3;
  o.retry_base_delay = std::chrono::milliseconds(1);
  o.retry_max_delay = std::chrono::milliseconds(5);
  o.request_timeout = std::chrono::milliseconds(10000);
  return o;
}

class FakeS3Bucket {
 public:
  std::string bucket = "phys";
  std::map<std::string, std::int64_t, KeyLess> objects;
  bool encode_slash = true;  // radosgw does; Swift's s3api does not

  FakeResponse handle(const FakeRequest& r) const {
    const std::string root = "/" + bucket;
    if (r.method == "HEAD") {
      if (!r.path.starts_with(root + "/")) return FakeResponse{404, "", {}};
      auto key = s3::url_decode(r.path.substr(root.size() + 1), false);
      auto it = objects.find(*key);
      if (it == objects.end()) return FakeResponse{404, "", {}};
      return FakeResponse{200, std::string(static_cast<std::size_t>(it->second), 'x'), {}};
    }
    if (r.path != root && r.path != root + "/") {
      return FakeResponse{404, "<Error><Code>NoSuchBucket</Code><Message>no bucket</Message></Error>", {}};
    }
    return list(r);
  }

  // ListObjectsV2 as the synthetic endpoint answers it, with this bucket's
  // quirks: '/' as `encode_slash` says, tokens wrapped in kTokenTag.
  FakeResponse list(const FakeRequest& r) const {
    const auto get = [&](const char* name) -> const std::string* {
      auto it = r.query.find(name);
      return it == r.query.end() ? nullptr : &it->second;
    };
    s3r_synthetic::ListEcho echo;
    echo.bucket = bucket;
    if (auto v = get("prefix")) echo.query.prefix = *v;
    if (auto v = get("start-after")) echo.query.start_after = *v;
    if (auto v = get("max-keys")) echo.query.max_keys = std::stoi(*v);
    if (auto v = get("continuation-token")) {
      if (!v->starts_with(kTokenTag)) return FakeResponse{400, "<Error><Code>InvalidArgument</Code></Error>", {}};
      echo.query.position = s3r_synthetic::decode_token(v->substr(kTokenTag.size()));
      echo.continuation_token = *v;
      echo.has_continuation_token = true;
    }
    echo.url_encoding = get("encoding-type") != nullptr;
    echo.slash = encode_slash ? s3r_synthetic::SlashInUrl::kEncoded : s3r_synthetic::SlashInUrl::kKept;
    s3r_synthetic::ListResult page = s3r_synthetic::list_objects(echo.query, [&](std::string_view at) {
      std::optional<s3r_synthetic::ObjectInfo> found;
      const auto it = objects.lower_bound(std::string(at));
      if (it != objects.end()) found = s3r_synthetic::ObjectInfo{it->first, it->second, "\"e\"", kLastModified};
      return found;
    });
    // The token carries '+', '/' and '=' like Swift's base64 tokens do.
    if (page.truncated) page.next_continuation_token = kTokenTag + page.next_continuation_token;
    return FakeResponse{200, s3r_synthetic::list_objects_v2_xml(echo, page), {{"x-amz-request-id", "fake-request"}}};
  }

  static inline const std::string kLastModified = "2026-01-02T03:04:05.000Z";
  static inline const std::string kTokenTag = "tok+/=";
};

}  // namespace s3reconcile::testing
