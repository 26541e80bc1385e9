// Requests through the Service, signed by the product's own signer, answers
// parsed by the product's own ListObjectsV2 parser.
#include <gtest/gtest.h>

#include <algorithm>

#include "s3/list_xml.h"
#include "s3/sigv4.h"
#include "service.h"

namespace s3r_synthetic {
namespace {

namespace s3 = s3reconcile::s3;

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() : service_(AuthConfig{"ak", "sk", "us-east-1"}, "bench", KeySpace("vb/", 10'000'000)) {}

  Response send(const std::string& method, const std::string& path, const s3::NameValues& query = {},
                const std::string& body = "", const std::string& secret = "sk") {
    Request r;
    r.method = method;
    r.raw_path = path;
    r.raw_query = s3::canonical_query(query);
    r.body = body;
    const auto now = s3reconcile::Clock::now();
    const std::string hash = s3::sha256_hex(body);
    s3::RequestToSign sign{method, path, query, {}, hash};
    sign.headers = {{"host", "127.0.0.1:1"}, {"x-amz-content-sha256", hash}, {"x-amz-date", s3::amz_date(now)}};
    const auto sig = s3::sign_v4(sign, s3::Credentials{"ak", secret, ""}, "us-east-1", "s3", now);
    r.headers = {{"Host", "127.0.0.1:1"},
                 {"X-Amz-Content-Sha256", hash},
                 {"X-Amz-Date", s3::amz_date(now)},
                 {"Authorization", sig.authorization}};
    return service_.handle(r);
  }

  Service service_;
};

TEST_F(ServiceTest, ListsGeneratedKeysWithStartAfter) {
  const Response r = send("GET", "/bench",
                          {{"list-type", "2"},
                           {"encoding-type", "url"},
                           {"max-keys", "3"},
                           {"prefix", "vb/"},
                           {"start-after", "vb/d00500/o000005000000"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = s3::parse_list_objects_v2(r.body);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].key, "vb/d00500/o000005000001");
  EXPECT_EQ(page->objects[0].size, 1000 + 5'000'001 % 9000);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->key_count, 3);
  const Response next = send("GET", "/bench",
                             {{"list-type", "2"},
                              {"max-keys", "1"},
                              {"prefix", "vb/"},
                              {"continuation-token", page->next_continuation_token}});
  auto page2 = s3::parse_list_objects_v2(next.body);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->objects.at(0).key, "vb/d00500/o000005000004");
}

TEST_F(ServiceTest, AwkwardKeysRoundTripThroughPutAndList) {
  ASSERT_EQ(send("PUT", "/awk").status, 200);
  const std::vector<std::string> keys = {
      "b/ctrl\x01\x1f",  "b/plus+sign", "b/tab\there", "b/with space", "b/\xc3\xa9t\xc3\xa9/\xe2\x82\xac",
      "b/\"q\" 'a' <&>", "b/cr\r"};
  for (const auto& k : keys) ASSERT_EQ(send("PUT", "/awk/" + s3::uri_encode(k, true), {}, "abc").status, 200) << k;
  for (bool url : {true, false}) {
    s3::NameValues query = {{"list-type", "2"}, {"prefix", "b/"}};
    if (url) query.emplace_back("encoding-type", "url");
    const Response r = send("GET", "/awk", query);
    auto page = s3::parse_list_objects_v2(r.body);
    ASSERT_TRUE(page.ok()) << page.status().to_string() << r.body;
    std::vector<std::string> got, want = keys;
    for (const auto& o : page->objects) got.push_back(o.key);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "encoding-type=url: " << url;
  }
  const Response head = send("HEAD", "/awk/" + s3::uri_encode("b/plus+sign", true));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_length, 3);
  EXPECT_EQ(send("HEAD", "/awk/nope").status, 404);
  EXPECT_EQ(send("DELETE", "/awk/" + s3::uri_encode("b/plus+sign", true)).status, 204);
  EXPECT_EQ(send("HEAD", "/awk/" + s3::uri_encode("b/plus+sign", true)).status, 404);
}

TEST_F(ServiceTest, ErrorsAreS3Errors) {
  const Response wrong = send("GET", "/bench", {{"list-type", "2"}}, "", "not-the-secret");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(s3::parse_s3_error(wrong.body)->code, "SignatureDoesNotMatch");
  const Response missing = send("GET", "/nope", {{"list-type", "2"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(s3::parse_s3_error(missing.body)->code, "NoSuchBucket");
  EXPECT_EQ(send("HEAD", "/bench/vb/d00000/o000000000007").status, 200);
  EXPECT_EQ(send("HEAD", "/bench/vb/d00000/o000000000007").content_length, 1007);
  EXPECT_EQ(send("GET", "/bench", {{"list-type", "2"}, {"continuation-token", "zz"}}).status, 400);
  Request unsigned_request;
  unsigned_request.method = "GET";
  unsigned_request.raw_path = "/bench";
  EXPECT_EQ(service_.handle(unsigned_request).status, 403);
}

}  // namespace
}  // namespace s3r_synthetic
