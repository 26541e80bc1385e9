// The S3 backend and `s3reconcile run` against a real S3 server (radosgw or
// Swift's s3api) that scripts/s3-server started; see scripts/test.
// Without S3R_TEST_ENDPOINT these tests skip, unless S3R_REQUIRE_S3_SERVER=1
// (as scripts/test sets it), where a missing server is a failure.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

#include "fakes.h"
#include "s3/s3_test_client.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/sqlite_store.h"
#include "support/fake_http_server.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::S3TestClient;
using testing::S3TestServer;
using testing::TempDir;

class S3ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = S3TestServer::from_env();
    S3R_SKIP_WITHOUT_S3_SERVER(server_);
    client_ = std::make_unique<S3TestClient>(server_);
    bucket_ = testing::fresh_bucket_name(server_, "");
    ASSERT_EQ(client_->create_bucket(bucket_), 200) << client_->last_body();
  }

  S3BackendOptions options(std::size_t page = 1000) const {
    ::setenv("S3R_IT_KEY", server_.access_key.c_str(), 1);
    ::setenv("S3R_IT_SECRET", server_.secret_key.c_str(), 1);
    S3BackendOptions o;
    o.endpoint = server_.endpoint;
    o.region = server_.region;
    o.bucket = bucket_;
    o.addressing = S3Addressing::kPath;
    o.credentials.access_key_env = "S3R_IT_KEY";
    o.credentials.secret_key_env = "S3R_IT_SECRET";
    o.page_size = page;
    o.max_attempts = 2;
    o.retry_base_delay = std::chrono::milliseconds(10);
    return o;
  }

  std::unique_ptr<S3Backend> open(std::size_t page = 1000) {
    auto b = S3Backend::open(options(page));
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return std::move(*b);
  }

  static Status list(S3Backend& backend, std::vector<ListedObject>& out, std::string prefix = "") {
    return backend.list(ListRequest{std::move(prefix), ""},
                        [&](std::vector<ListedObject>& page, bool) {
                          for (auto& o : page) out.push_back(std::move(o));
                          return true;
                        },
                        {});
  }

  void put_all(const std::vector<std::string>& keys) {
    for (const auto& k : keys)
      ASSERT_EQ(client_->put(bucket_, k, "abc"), 200) << testing::quote_for_test(k) << client_->last_body();
  }

  S3TestServer server_;
  std::unique_ptr<S3TestClient> client_;
  std::string bucket_;
};

TEST_F(S3ServerTest, ListsManyKeysOnceInByteOrderWithAnyPageSize) {
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i)
    keys.push_back(fmt::format("{}/{:04}", i % 3 == 0 ? "a-b" : i % 3 == 1 ? "a/b" : "a0", i));
  put_all(keys);
  std::sort(keys.begin(), keys.end(), [](auto& a, auto& b) { return compare_keys(a, b) < 0; });
  for (std::size_t page : {1000, 7}) {
    auto backend = open(page);
    std::vector<ListedObject> listed;
    Status s = list(*backend, listed);
    ASSERT_TRUE(s.ok()) << s.to_string();
    std::vector<std::string> got;
    for (const auto& o : listed) got.push_back(o.key);
    EXPECT_EQ(got, keys) << "page size " << page;
    EXPECT_EQ(listed.front().size, 3);
    EXPECT_TRUE(listed.front().last_modified.has_value());
    EXPECT_LE(backend->connections_opened(), 2) << "pages share two keep-alive connections";
  }
}

TEST_F(S3ServerTest, AwkwardKeysRoundTripExactly) {
  std::vector<std::string> keys = {"b/with space",  "b/plus+sign",
                                   "b/per%cent",    "b/amp&ersand",
                                   "b/less<than>",  "b/\"double\" 'single'",
                                   "b/tab\there",   "b/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80",
                                   "b/q?uery#frag", "b/" + std::string(1022, 'k')};
  ASSERT_EQ(keys.back().size(), 1024u);
  // Control characters: radosgw takes them; other servers may refuse to store them.
  const std::string control = "b/ctrl\x01\x1f";
  const bool with_control = client_->put(bucket_, control, "abc") == 200;
  put_all(keys);
  if (with_control) keys.push_back(control);
  std::sort(keys.begin(), keys.end(), [](auto& a, auto& b) { return compare_keys(a, b) < 0; });
  auto backend = open(3);
  std::vector<ListedObject> listed;
  Status s = list(*backend, listed, "b/");
  ASSERT_TRUE(s.ok()) << s.to_string();
  std::vector<std::string> got;
  for (const auto& o : listed) got.push_back(o.key);
  EXPECT_EQ(got, keys);
  for (const auto& k : keys) {
    auto p = backend->probe(k, {});
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    EXPECT_TRUE(p->has_value()) << testing::quote_for_test(k);
  }
  // The same HEADs in flight together, as a pass confirms stale rows.
  const auto together = backend->probe_many(keys, {});
  ASSERT_EQ(together.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(together[i].ok()) << together[i].status().to_string();
    EXPECT_TRUE(together[i]->has_value()) << testing::quote_for_test(keys[i]);
  }
  std::cout << "control-character keys stored by " << server_.name << ": " << (with_control ? "yes" : "no") << "\n";
}

// What a parallel pass splits an empty index's bucket at.
TEST_F(S3ServerTest, TopLevelNamesAreTheCommonPrefixesAndKeysInByteOrder) {
  put_all({"b/2024/x", "b/2024/y", "b/2023/z", "b/A/q", "b/top", "b/\xc3\xa9/e", "c/other"});
  auto backend = open();
  auto names = backend->list_top_level("b/", '/', {});
  ASSERT_TRUE(names.ok()) << names.status().to_string();
  EXPECT_EQ(*names, (std::vector<std::string>{"b/2023/", "b/2024/", "b/A/", "b/top", "b/\xc3\xa9/"}));
  auto root = backend->list_top_level("", '/', {});
  ASSERT_TRUE(root.ok()) << root.status().to_string();
  EXPECT_EQ(*root, (std::vector<std::string>{"b/", "c/"}));
}

TEST_F(S3ServerTest, HeadPresentAndAbsent) {
  put_all({"here"});
  auto backend = open();
  auto here = backend->probe("here", {});
  ASSERT_TRUE(here.ok()) << here.status().to_string();
  ASSERT_TRUE(here->has_value());
  EXPECT_EQ((*here)->size, 3);
  auto gone = backend->probe("not-here", {});
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_FALSE(gone->has_value());
  const auto both = backend->probe_many(std::vector<std::string>{"not-here", "here"}, {});
  ASSERT_EQ(both.size(), 2u);
  ASSERT_TRUE(both[0].ok() && both[1].ok());
  EXPECT_FALSE(both[0]->has_value());
  ASSERT_TRUE(both[1]->has_value());
  EXPECT_EQ((*both[1])->size, 3);
}

TEST_F(S3ServerTest, WrongSecretIsAClearError) {
  auto o = options();
  ::setenv("S3R_IT_WRONG", "not-the-secret", 1);
  o.credentials.secret_key_env = "S3R_IT_WRONG";
  auto backend = S3Backend::open(o);
  ASSERT_TRUE(backend.ok());
  std::vector<ListedObject> listed;
  Status s = list(**backend, listed);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("HTTP 403"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("not-the-secret"), std::string::npos);
}

TEST_F(S3ServerTest, MissingBucketIsAClearError) {
  auto o = options();
  o.bucket = bucket_ + "-missing";
  auto backend = S3Backend::open(o);
  std::vector<ListedObject> listed;
  Status s = list(**backend, listed);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.to_string();
  EXPECT_NE(s.message().find("NoSuchBucket"), std::string::npos) << s.message();
}

// The whole tool: drift on both sides, fixed exactly; and failures that
// remove nothing.
class S3RunTest : public S3ServerTest {
 protected:
  void write_config(const std::string& endpoint, const std::string& secret_env) {
    std::ofstream(dir_.path() / "config.yaml")
        << "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
        << "  - name: s3-it\n    type: s3\n    endpoint: " << endpoint << "\n    region: " << server_.region
        << "\n    bucket: " << bucket_ << "\n    addressing: path\n    max_attempts: 2\n    retry_base_delay: 10ms\n"
        << "    connect_timeout: 2s\n    credentials:\n      access_key_env: S3R_IT_KEY\n      secret_key_env: "
        << secret_env << "\n";
  }
  testing::KeySet rows() {
    auto store = open_sqlite_store(SqliteStoreOptions{(dir_.path() / "index.db").string()});
    EXPECT_TRUE(store.ok());
    auto page = list_rows_by_storage_key(**store, "s3-it", RowPosition{}, 100000, KeyRange{});
    testing::KeySet out;
    for (const auto& r : *page) out.insert(r.object_key);
    return out;
  }
  void seed_index(const std::vector<std::string>& keys) {
    auto store = open_sqlite_store(SqliteStoreOptions{(dir_.path() / "index.db").string()});
    ASSERT_TRUE(store.ok());
    for (const auto& k : keys) {
      ASSERT_TRUE((*store)->insert_if_absent("s3-it", testing::entry(k), Clock::now() - std::chrono::hours(1)).ok());
    }
  }
  std::string run(const std::string& extra = "") {
    return "run --config " + (dir_.path() / "config.yaml").string() + " --output json " + extra;
  }
  TempDir dir_;
};

TEST_F(S3RunTest, RunImportsAndRemovesExactlyTheDrift) {
  options();  // exports S3R_IT_KEY / S3R_IT_SECRET for the child process
  put_all({"photos/keep", "photos/new 1", "photos/sub/new+2", "docs/keep", "docs/new", "loose"});
  seed_index({"photos/keep", "photos/stale", "docs/keep", "docs/stale"});
  write_config(server_.endpoint, "S3R_IT_SECRET");
  auto o = testing::run_tool(dir_, run());
  ASSERT_EQ(o.exit_code, 0) << o.out << testing::read_stderr(dir_);
  auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(rows(), (testing::KeySet{"docs/keep", "docs/new", "photos/keep", "photos/loose", "photos/new 1",
                                     "photos/sub/new+2"}));
  int imported = 0, removed = 0;
  for (const auto& p : doc["passes"]) {
    imported += p["imported"].get<int>();
    removed += p["removed"].get<int>();
    EXPECT_GE(p["api_pages"].get<int>(), 1);
  }
  EXPECT_EQ(imported, 4);
  EXPECT_EQ(removed, 2);
  // One walk of the bucket for both virtual buckets and the loose key: six
  // keys are one ListObjectsV2 page, counted per bucket from the walk.
  ASSERT_EQ(doc["passes"].size(), 1u);
  EXPECT_EQ(doc["passes"][0]["api_pages"], 1);
  EXPECT_EQ(doc["passes"][0]["listed"], 6);
  for (const auto& b : doc["passes"][0]["buckets"]) {
    if (b["bucket"] == "photos") {
      EXPECT_EQ(b["imported"], 3);  // new 1, sub/new+2, and loose adopted
      EXPECT_EQ(b["removed"], 1);
    } else {
      EXPECT_EQ(b["bucket"], "docs");
      EXPECT_EQ(b["imported"], 1);
      EXPECT_EQ(b["removed"], 1);
    }
  }
  auto again = testing::run_tool(dir_, run());
  ASSERT_EQ(again.exit_code, 0);
  const auto again_doc = nlohmann::json::parse(again.out);
  for (const auto& p : again_doc["passes"]) {
    EXPECT_EQ(p["imported"], 0);
    EXPECT_EQ(p["removed"], 0);
  }
}

TEST_F(S3RunTest, FailuresRemoveNoRow) {
  options();
  put_all({"photos/keep"});
  seed_index({"photos/keep", "photos/a", "photos/b", "docs/c"});
  const auto before = rows();
  ::setenv("S3R_IT_WRONG", "not-the-secret", 1);
  write_config(server_.endpoint, "S3R_IT_WRONG");
  auto wrong_secret = testing::run_tool(dir_, run());
  EXPECT_EQ(wrong_secret.exit_code, 1);
  EXPECT_NE(wrong_secret.out.find("SignatureDoesNotMatch"), std::string::npos) << wrong_secret.out;
  EXPECT_EQ(rows(), before);

  int port;
  {
    testing::FakeHttpServer gone([](const testing::FakeRequest&) { return testing::FakeResponse{}; });
    port = gone.port();
  }
  write_config("http://127.0.0.1:" + std::to_string(port), "S3R_IT_SECRET");
  auto unreachable = testing::run_tool(dir_, run());
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_EQ(rows(), before);

  const std::string real_bucket = bucket_;
  bucket_ += "-missing";
  write_config(server_.endpoint, "S3R_IT_SECRET");
  bucket_ = real_bucket;
  auto missing = testing::run_tool(dir_, run());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("NoSuchBucket"), std::string::npos) << missing.out;
  EXPECT_EQ(rows(), before);
}

}  // namespace
}  // namespace s3reconcile
