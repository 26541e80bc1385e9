// A fake S3 bucket behind FakeHttpServer: ListObjectsV2 and HeadObject over
// an in-memory key set, path-style, with switches for server quirks.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <fmt/format.h>

#include "fakes.h"
#include "s3/list_xml.h"
#include "s3reconcile/s3_backend.h"
#include "support/fake_http_server.h"
#include "support/xml_escape.h"

namespace s3reconcile::testing {

// Encodes a key as S3's encoding-type=url does: unreserved bytes kept, space
// as '+', everything else %XY; '/' kept or not as the server chooses.
inline std::string s3_url_encode(const std::string& key, bool encode_slash) {
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

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

  FakeResponse list(const FakeRequest& r) const {
    const auto get = [&](const char* name) {
      auto it = r.query.find(name);
      return it == r.query.end() ? std::string() : it->second;
    };
    const std::string prefix = get("prefix");
    const std::size_t max_keys = get("max-keys").empty() ? 1000 : std::stoul(get("max-keys"));
    const bool url = get("encoding-type") == "url";
    auto it = objects.begin();
    if (!get("continuation-token").empty()) {
      it = objects.upper_bound(unhex(get("continuation-token").substr(kTokenTag.size())));
    } else if (!get("start-after").empty()) {
      it = objects.upper_bound(get("start-after"));
    }
    std::string contents;
    std::size_t count = 0;
    std::string last;
    for (; it != objects.end() && count < max_keys; ++it) {
      if (!it->first.starts_with(prefix)) continue;
      const std::string key = url ? s3_url_encode(it->first, encode_slash) : xml_escape(it->first);
      contents += fmt::format(
          "<Contents><Key>{}</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
          "<Size>{}</Size></Contents>",
          key, it->second);
      last = it->first;
      ++count;
    }
    bool more = false;
    for (; it != objects.end(); ++it) more = more || it->first.starts_with(prefix);
    std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    body += fmt::format("<Name>{}</Name><KeyCount>{}</KeyCount><MaxKeys>{}</MaxKeys><IsTruncated>{}</IsTruncated>",
                        bucket, count, max_keys, more ? "true" : "false");
    if (url) body += "<EncodingType>url</EncodingType>";
    // The token carries '+', '/' and '=' like Swift's base64 tokens do.
    if (more) body += "<NextContinuationToken>" + xml_escape(kTokenTag + hex(last)) + "</NextContinuationToken>";
    body += contents + "</ListBucketResult>";
    return FakeResponse{200, body, {{"x-amz-request-id", "fake-request"}}};
  }

  static std::string hex(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += fmt::format("{:02x}", c);
    return out;
  }
  static std::string unhex(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) out += static_cast<char>(std::stoi(s.substr(i, 2), nullptr, 16));
    return out;
  }

  static inline const std::string kTokenTag = "tok+/=";
};

}  // namespace s3reconcile::testing
