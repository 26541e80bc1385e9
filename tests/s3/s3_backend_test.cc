// The S3 backend against a fake S3 server: paging, encodings, retries,
// error reports, cancellation, keep-alive, probes, credentials, addressing.
#include "s3reconcile/s3_backend.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "s3/addressing.h"
#include "s3reconcile/s3_key_stream.h"
#include "support/fake_s3.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::FakeS3Bucket;

S3BackendOptions options_for(const FakeHttpServer& server, std::size_t page = 1000) {
  return testing::fake_s3_options(server, page);
}

class S3BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("S3R_TEST_FAKE_KEY", "AKIDTEST", 1);
    ::setenv("S3R_TEST_FAKE_SECRET", "very-secret-value", 1);
  }
  std::unique_ptr<S3Backend> open(const FakeHttpServer& server, std::size_t page = 1000) {
    auto b = S3Backend::open(options_for(server, page));
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? std::move(*b) : nullptr;
  }
  // A backend whose requests time out after 200 ms, two attempts each.
  std::unique_ptr<S3Backend> open_impatient(const FakeHttpServer& server) {
    auto o = options_for(server);
    o.request_timeout = std::chrono::milliseconds(200);
    o.max_attempts = 2;
    auto b = S3Backend::open(o);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? std::move(*b) : nullptr;
  }
  // Lists everything; returns the keys, or the error in `error`.
  std::vector<std::string> list_all(S3Backend& backend, Status* error = nullptr, ListRequest request = {}) {
    std::vector<std::string> keys;
    Status s = backend.list(request,
                            [&](std::vector<ListedObject>& page, bool) {
                              for (const auto& o : page) keys.push_back(o.key);
                              return true;
                            },
                            {});
    if (error)
      *error = s;
    else
      EXPECT_TRUE(s.ok()) << s.to_string();
    return keys;
  }
};

TEST_F(S3BackendTest, ListsEveryKeyOnceInOrderAcrossPages) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 2500; ++i) bucket.objects[fmt::format("k/{:05}", i)] = i;
  FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
  for (std::size_t page : {1000, 7}) {
    auto backend = open(server, page);
    auto keys = list_all(*backend);
    ASSERT_EQ(keys.size(), 2500u) << "page " << page;
    for (std::size_t i = 1; i < keys.size(); ++i) ASSERT_LT(compare_keys(keys[i - 1], keys[i]), 0);
  }
}

TEST_F(S3BackendTest, AwkwardKeysRoundTripExactly) {
  const std::vector<std::string> keys = {"b/with space",
                                         "b/plus+sign",
                                         "b/per%cent",
                                         "b/amp&ersand",
                                         "b/less<than",
                                         "b/\"quoted'",
                                         "b/ctrl\x01\x02\t\r\n",
                                         "b/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80",
                                         "b/a/../b",
                                         "b//double",
                                         "b/" + std::string(1022, 'k')};
  for (bool encode_slash : {true, false}) {
    FakeS3Bucket bucket;
    bucket.encode_slash = encode_slash;
    for (const auto& k : keys) bucket.objects[k] = 1;
    FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
    auto backend = open(server, 3);
    std::vector<std::string> want(keys.begin(), keys.end());
    std::sort(want.begin(), want.end(), [](auto& a, auto& b) { return compare_keys(a, b) < 0; });
    EXPECT_EQ(list_all(*backend, nullptr, ListRequest{"b/", ""}), want);
    for (const auto& k : keys) {
      auto p = backend->probe(k, {});
      if (k == "b/a/../b" || k == "b//double") {  // listed as they are, never sent in a HEAD path
        EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << k;
        continue;
      }
      ASSERT_TRUE(p.ok()) << p.status().to_string();
      EXPECT_TRUE(p->has_value()) << k;
    }
  }
}

TEST_F(S3BackendTest, StartAfterAndPrefixAreSent) {
  FakeS3Bucket bucket;
  for (const char* k : {"a/1", "b/1", "b/2", "b/3", "c/1"}) bucket.objects[k] = 1;
  FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
  auto backend = open(server, 1);
  EXPECT_EQ(list_all(*backend, nullptr, ListRequest{"b/", "b/1"}), (std::vector<std::string>{"b/2", "b/3"}));
}

// With read_ahead, two kept-alive connections take turns, whatever the
// number of pages: the next page is fetched on one while the other's page is
// parsed. Without, one connection.
TEST_F(S3BackendTest, TwoConnectionsForAllPagesAndNoRequestWasted) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 300; ++i) bucket.objects[fmt::format("k{:03}", i)] = 1;
  for (const bool read_ahead : {true, false}) {
    SCOPED_TRACE(read_ahead ? "read_ahead" : "one page at a time");
    FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
    auto backend = open(server, 10);
    ListRequest request;
    request.read_ahead = read_ahead;
    EXPECT_EQ(list_all(*backend, nullptr, request).size(), 300u);
    EXPECT_EQ(server.requests(), 30) << "each page asked for once, none past the last";
    EXPECT_EQ(server.connections(), read_ahead ? 2 : 1);
    EXPECT_EQ(backend->connections_opened(), read_ahead ? 2 : 1);
  }
}

// The page ahead is fetched on one thread kept for the walk: a walk of any
// number of pages uses two threads (the caller's and that one), not a new
// thread per page.
TEST_F(S3BackendTest, OneReadAheadThreadServesEveryPageOfAWalk) {
  class Threads final : public S3RequestObserver {
   public:
    void on_request(const S3RequestEvent& event) override {
      if (event.operation != "ListObjectsV2") return;
      std::lock_guard lock(mu);
      tids.insert(static_cast<long>(::syscall(SYS_gettid)));  // kernel ids: not reused as pthread ids are
      ++requests;
    }
    std::mutex mu;
    std::set<long> tids;
    int requests = 0;
  };
  FakeS3Bucket bucket;
  for (int i = 0; i < 400; ++i) bucket.objects[fmt::format("k{:03}", i)] = 1;
  FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
  auto threads = std::make_shared<Threads>();
  S3BackendOptions options = options_for(server, 10);
  options.observer = threads;
  auto backend = S3Backend::open(options);
  ASSERT_TRUE(backend.ok()) << backend.status().to_string();
  ListRequest request;
  request.read_ahead = true;
  EXPECT_EQ(list_all(**backend, nullptr, request).size(), 400u);
  EXPECT_EQ(threads->requests, 40);
  EXPECT_LE(threads->tids.size(), 2u) << "a thread per page is back";
}

// With read_ahead the next page is asked for before this one is handed
// over: a slow consumer overlaps the fetch of the next page. Without, a page
// is asked for only once the caller has taken the one before and wants more:
// a caller stopping after two pages sends two requests.
TEST_F(S3BackendTest, TheNextPageIsRequestedBeforeThisOneIsHandedOverOnlyWithReadAhead) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 30; ++i) bucket.objects[fmt::format("k{:02}", i)] = 1;
  FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
  auto backend = open(server, 10);
  std::vector<int> requests_seen_by_callback;
  Status stopped = backend->list(ListRequest{},
                                 [&](std::vector<ListedObject>&, bool) {
                                   std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                   requests_seen_by_callback.push_back(server.requests());
                                   return requests_seen_by_callback.size() < 2;
                                 },
                                 {});
  ASSERT_TRUE(stopped.ok()) << stopped.to_string();
  EXPECT_EQ(requests_seen_by_callback, (std::vector<int>{1, 2}));
  EXPECT_EQ(server.requests(), 2) << "a page was asked for that the caller never read";

  requests_seen_by_callback.clear();
  ListRequest ahead;
  ahead.read_ahead = true;
  Status s = backend->list(ahead,
                           [&](std::vector<ListedObject>&, bool) {
                             // Let a request in flight reach the server before looking.
                             std::this_thread::sleep_for(std::chrono::milliseconds(50));
                             requests_seen_by_callback.push_back(server.requests());
                             return true;
                           },
                           {});
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(requests_seen_by_callback, (std::vector<int>{2 + 2, 2 + 3, 2 + 3}));
}

// A pass's listing ends at its request budget or past its range's last
// path, and sends no request for a page it would not read: the budget is
// the requests sent, and a range costs one page past its end, not two.
TEST_F(S3BackendTest, AWalkCutByItsBudgetOrItsRangeSendsNoRequestBeyond) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 50; ++i) bucket.objects[fmt::format("b/k{:02}", i)] = 1;
  struct Cut {
    std::uint64_t max_pages;
    std::string through;
    int requests;  // pages of 10: the budget's 2, or up to the page holding b/k25
    std::size_t keys;
  };
  for (const Cut& cut : {Cut{2, "", 2, 20}, Cut{0, "b/k25", 3, 26}}) {
    SCOPED_TRACE(cut.through.empty() ? "budget" : "range");
    FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
    auto backend = open(server, 10);
    S3KeyStreamOptions options;
    options.prefix = "b/";
    options.max_pages = cut.max_pages;
    options.through = cut.through;
    S3KeyStream stream(*backend, options);
    std::size_t keys = 0;
    while (true) {
      auto batch = stream.next_batch();
      ASSERT_TRUE(batch.ok()) << batch.status().to_string();
      if (batch->empty()) break;
      keys += batch->size();
    }
    stream.stop();
    EXPECT_EQ(keys, cut.keys);
    EXPECT_EQ(server.requests(), cut.requests);
  }
}

TEST_F(S3BackendTest, ContinuationTokenIsSentBackVerbatim) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 5; ++i) bucket.objects[fmt::format("k{}", i)] = 1;
  std::mutex mu;
  std::vector<std::string> tokens;  // guarded by mu
  FakeHttpServer server([&](const FakeRequest& r) {
    std::lock_guard lock(mu);
    if (r.query.count("continuation-token")) tokens.push_back(r.query.at("continuation-token"));
    return bucket.handle(r);
  });
  auto backend = open(server, 2);
  EXPECT_EQ(list_all(*backend).size(), 5u);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_TRUE(tokens[0].starts_with("tok+/=")) << tokens[0];
}

TEST_F(S3BackendTest, SignsEveryRequestWithoutLeakingTheSecret) {
  FakeS3Bucket bucket;
  bucket.objects["k"] = 1;
  std::mutex mu;
  std::vector<std::map<std::string, std::string>> seen;  // guarded by mu
  FakeHttpServer server([&](const FakeRequest& r) {
    std::lock_guard lock(mu);
    seen.push_back(r.headers);
    return bucket.handle(r);
  });
  ::setenv("S3R_TEST_FAKE_TOKEN", "session-token-value", 1);
  auto o = options_for(server);
  o.credentials.session_token_env = "S3R_TEST_FAKE_TOKEN";
  auto backend = S3Backend::open(o);
  ASSERT_TRUE(backend.ok());
  list_all(**backend);
  ASSERT_TRUE((*backend)->probe("k", {}).ok());
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& h : seen) {
    ASSERT_TRUE(h.count("authorization"));
    EXPECT_TRUE(h.at("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
    EXPECT_NE(h.at("authorization").find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"),
              std::string::npos);
    EXPECT_EQ(h.at("x-amz-content-sha256"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(h.at("x-amz-security-token"), "session-token-value");
    for (const auto& [name, value] : h) EXPECT_EQ(value.find("very-secret-value"), std::string::npos) << name;
  }
}

TEST_F(S3BackendTest, SlowDownTwiceThenSuccessIsRetried) {
  FakeS3Bucket bucket;
  bucket.objects["k"] = 1;
  std::atomic<int> calls{0};  // the server answers on its own threads
  FakeHttpServer server([&](const FakeRequest& r) {
    if (++calls <= 2)
      return FakeResponse{
          503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", {}};
    return bucket.handle(r);
  });
  auto backend = open(server);
  EXPECT_EQ(list_all(*backend), (std::vector<std::string>{"k"}));
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(S3BackendTest, AlwaysUnavailableFailsAfterTheConfiguredAttempts) {
  FakeHttpServer server([&](const FakeRequest&) {
    return FakeResponse{503,
                        "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                        "rate.</Message><RequestId>req-42</RequestId></Error>",
                        {}};
  });
  auto backend = open(server);
  Status error;
  list_all(*backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(server.requests(), 3);
  for (const char* part : {"ListObjectsV2", "endpoint=http://127.0.0.1:", "bucket=phys", "page 1", "HTTP 503",
                           "SlowDown", "Please reduce your request rate.", "req-42", "3 attempts"}) {
    EXPECT_NE(error.message().find(part), std::string::npos) << part << " in " << error.message();
  }
}

TEST_F(S3BackendTest, ForbiddenIsNotRetriedAndIsReportedInFull) {
  FakeHttpServer server([&](const FakeRequest&) {
    return FakeResponse{403,
                        "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
                        "signature we calculated does not match</Message><RequestId>tx00-1</RequestId></Error>",
                        {}};
  });
  auto backend = open(server);
  Status error;
  list_all(*backend, &error);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(error.code(), StatusCode::kFailedPrecondition);
  for (const char* part : {"HTTP 403", "SignatureDoesNotMatch", "does not match", "tx00-1"}) {
    EXPECT_NE(error.message().find(part), std::string::npos) << part << " in " << error.message();
  }
  EXPECT_EQ(error.message().find("very-secret-value"), std::string::npos);
}

TEST_F(S3BackendTest, MissingBucketIsNotFound) {
  FakeHttpServer server([&](const FakeRequest&) {
    return FakeResponse{
        404, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>", {}};
  });
  auto backend = open(server);
  Status error;
  list_all(*backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kNotFound);
  EXPECT_NE(error.message().find("NoSuchBucket"), std::string::npos);
}

TEST_F(S3BackendTest, ConnectionResetIsRetried) {
  FakeS3Bucket bucket;
  bucket.objects["k"] = 1;
  std::atomic<int> calls{0};  // the server answers on its own threads
  FakeHttpServer server([&](const FakeRequest& r) {
    if (++calls == 1) return FakeResponse{200, "", {}, false, true};
    return bucket.handle(r);
  });
  auto backend = open(server);
  EXPECT_EQ(list_all(*backend), (std::vector<std::string>{"k"}));
}

TEST_F(S3BackendTest, TruncatedPageIsAnErrorNamingThePage) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 6; ++i) bucket.objects[fmt::format("k{}", i)] = 1;
  std::atomic<int> calls{0};  // the server answers on its own threads
  FakeHttpServer server([&](const FakeRequest& r) {
    FakeResponse response = bucket.handle(r);
    if (++calls == 2) response.body.resize(response.body.size() / 2);
    return response;
  });
  auto backend = open(server, 2);
  Status error;
  auto keys = list_all(*backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("page 2"), std::string::npos) << error.message();
  EXPECT_EQ(keys.size(), 2u);
}

TEST_F(S3BackendTest, TruncatedListingWithoutTokenIsAnError) {
  FakeHttpServer server([&](const FakeRequest&) {
    return FakeResponse{200,
                        "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size></"
                        "Contents></ListBucketResult>",
                        {}};
  });
  auto backend = open(server);
  Status error;
  list_all(*backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("<NextContinuationToken> is missing"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("page 1"), std::string::npos) << error.message();
}

TEST_F(S3BackendTest, OutOfOrderPageIsAnError) {
  FakeHttpServer server([&](const FakeRequest&) {
    return FakeResponse{
        200,
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>b</Key><Size>1</Size></Contents>"
        "<Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>",
        {}};
  });
  auto backend = open(server);
  Status error;
  list_all(*backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(error.message().find("\"a\" came after \"b\""), std::string::npos) << error.message();
}

// Empty truncated pages: a server cycling between tokens (or inventing a
// new one each time) must not keep a walk going for ever.
TEST_F(S3BackendTest, ATokenSentAgainOrEndlessEmptyPagesEndTheWalk) {
  auto empty_page = [](const std::string& next) {
    return FakeResponse{200,
                        "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>true</IsTruncated>"
                        "<NextContinuationToken>" +
                            next + "</NextContinuationToken></ListBucketResult>",
                        {}};
  };
  std::atomic<int> calls{0};
  FakeHttpServer cycling([&](const FakeRequest&) { return empty_page(++calls % 2 ? "A" : "B"); });
  Status error;
  list_all(*open(cycling), &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("continuation token \"A\" again"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("page 3"), std::string::npos) << error.message();

  std::atomic<int> fresh{0};
  FakeHttpServer inventing([&](const FakeRequest&) { return empty_page(fmt::format("t{}", ++fresh)); });
  auto options = options_for(inventing);
  options.max_empty_pages = 5;
  auto backend = S3Backend::open(options);
  ASSERT_TRUE(backend.ok());
  error = (*backend)->list({}, [](std::vector<ListedObject>&, bool) { return true; }, {});
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("6 truncated pages in a row held no key"), std::string::npos) << error.message();
  EXPECT_LE(fresh.load(), 8) << "the walk stopped right after the limit";

  // A token that comes back after a page with keys is caught by key order.
  FakeS3Bucket bucket;
  for (int i = 0; i < 4; ++i) bucket.objects[fmt::format("k{}", i)] = 1;
  std::atomic<int> pages{0};
  FakeHttpServer looping([&](const FakeRequest& r) {
    FakeRequest first = r;
    if (++pages > 3) first.query.erase("continuation-token");  // back to the first page
    return bucket.handle(first);
  });
  list_all(*open(looping, 1), &error);
  EXPECT_EQ(error.code(), StatusCode::kFailedPrecondition) << error.to_string();
  EXPECT_NE(error.message().find("not in ascending key order"), std::string::npos) << error.message();
}

TEST_F(S3BackendTest, APageWithMoreKeysThanAskedForFailsNamingThePage) {
  FakeS3Bucket bucket;
  for (int i = 0; i < 10; ++i) bucket.objects[fmt::format("k{}", i)] = 1;
  FakeHttpServer server([&](const FakeRequest& r) {
    FakeRequest all = r;
    all.query.erase("max-keys");  // the server ignores max-keys and sends all ten
    return bucket.handle(all);
  });
  Status error;
  auto keys = list_all(*open(server, 3), &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("10 keys, more than the 3 asked for"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("page 1"), std::string::npos) << error.message();
  EXPECT_TRUE(keys.empty());
}

TEST_F(S3BackendTest, AKeyWithDotSegmentsOrEmptySegmentsIsNeverSent) {
  FakeS3Bucket bucket;
  bucket.objects["other/x"] = 1;
  FakeHttpServer server([&](const FakeRequest& r) { return bucket.handle(r); });
  auto backend = open(server);
  for (const char* key : {"b/../other/x", "./other/x", "b/./x", "b//x", "/other/x", "b/x/", ".."}) {
    auto probe = backend->probe(key, {});
    EXPECT_EQ(probe.status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_NE(probe.status().message().find("is not sent"), std::string::npos) << probe.status().message();
  }
  EXPECT_EQ(server.requests(), 0);
  auto fine = backend->probe("other/x", {});
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE(fine->has_value());
}

TEST_F(S3BackendTest, AnAnswerLargerThanTheLimitFailsWithoutBeingRead) {
  const std::string huge(17u << 20, 'x');  // 17 MiB, over the 16 MiB a body may have
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++calls;
    return FakeResponse{200,
                        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>" + huge +
                            "</Key></Contents></ListBucketResult>",
                        {}};
  });
  Status error;
  list_all(*open(server), &error);
  EXPECT_EQ(error.code(), StatusCode::kDataLoss) << error.to_string();
  EXPECT_NE(error.message().find("larger than 16777216 bytes"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("page 1"), std::string::npos) << error.message();
  EXPECT_EQ(calls.load(), 1) << "not retried";
}

// A server's error text is escaped, cut to a bounded length, and has our
// secrets taken out before it reaches any output.
TEST_F(S3BackendTest, AServersErrorTextIsEscapedCutAndRedacted) {
  ::setenv("S3R_TEST_FAKE_TOKEN", "FwoGZXIvYXdzEJr-session-token-value", 1);
  FakeHttpServer server([&](const FakeRequest& r) {
    std::string echo;
    for (const auto& [name, value] : r.headers) echo += name + "=" + value + ";";
    return FakeResponse{403,
                        "<Error><Code>Access\x1b]0;pwned\x07"
                        "Denied</Code><Message>\x1b[2J\rpass done "
                        "backend=x\n" +
                            echo + std::string(2u << 20, 'M') + "</Message></Error>",
                        {}};
  });
  auto options = options_for(server);
  options.credentials.session_token_env = "S3R_TEST_FAKE_TOKEN";
  auto backend = S3Backend::open(options);
  ASSERT_TRUE(backend.ok());
  Status error = (*backend)->list({}, [](std::vector<ListedObject>&, bool) { return true; }, {});
  ASSERT_FALSE(error.ok());
  const std::string& m = error.message();
  for (char c : m) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << "a control byte in the message";
  EXPECT_NE(m.find("Access\\x1b]0;pwned\\x07Denied"), std::string::npos) << m.substr(0, 400);
  EXPECT_LT(m.size(), 2000u) << "megabytes of message are cut";
  EXPECT_NE(m.find("more bytes)"), std::string::npos);
  EXPECT_EQ(m.find("FwoGZXIvYXdzEJr-session-token-value"), std::string::npos) << "the session token was echoed back";
  EXPECT_EQ(m.find("very-secret-value"), std::string::npos);
}

TEST(S3Endpoint, CredentialsInTheUrlAreRefusedWithoutPrintingThem) {
  auto e = s3::parse_endpoint("http://AKIDEXAMPLE:wJalrXUtnFEMI-secret@127.0.0.1:9000/base");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message().find("wJalrXUtnFEMI-secret"), std::string::npos) << e.status().message();
  EXPECT_EQ(e.status().message().find("AKIDEXAMPLE"), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("must not carry user information"), std::string::npos);
}

TEST_F(S3BackendTest, StopCancelsAHungRequest) {
  FakeHttpServer server([&](const FakeRequest&) { return FakeResponse{200, "", {}, true}; });
  auto backend = open(server);
  std::stop_source stop;
  std::thread stopper([&] {
    while (server.requests() == 0) std::this_thread::yield();
    stop.request_stop();
  });
  Status s = backend->list(
      {}, [](std::vector<ListedObject>&, bool) { return true; }, stop.get_token());
  stopper.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
}

TEST_F(S3BackendTest, HungRequestTimesOutAndFails) {
  FakeHttpServer server([&](const FakeRequest&) { return FakeResponse{200, "", {}, true}; });
  auto backend = open_impatient(server);
  ASSERT_NE(backend, nullptr);
  Status error;
  list_all(*backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kUnavailable);
  EXPECT_NE(error.message().find("imeout"), std::string::npos) << error.message();
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(S3BackendTest, UnreachableEndpointFails) {
  int port;
  {
    FakeHttpServer gone([](const FakeRequest&) { return FakeResponse{}; });
    port = gone.port();
  }
  auto o = options_for(FakeHttpServer([](const FakeRequest&) { return FakeResponse{}; }));
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto backend = S3Backend::open(o);
  ASSERT_TRUE(backend.ok());
  Status error;
  list_all(**backend, &error);
  EXPECT_EQ(error.code(), StatusCode::kUnavailable);
  EXPECT_NE(error.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << error.message();
}

TEST_F(S3BackendTest, ProbePresentAbsentAndError) {
  FakeS3Bucket bucket;
  bucket.objects["here"] = 5;
  FakeHttpServer server([&](const FakeRequest& r) {
    if (r.path.ends_with("/forbidden")) return FakeResponse{403, "", {{"x-amz-request-id", "rid-9"}}};
    return bucket.handle(r);
  });
  auto backend = open(server);
  auto here = backend->probe("here", {});
  ASSERT_TRUE(here.ok());
  ASSERT_TRUE(here->has_value());
  EXPECT_EQ((*here)->size, 5);
  auto gone = backend->probe("gone", {});
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  auto forbidden = backend->probe("forbidden", {});
  ASSERT_FALSE(forbidden.ok()) << "a 403 is not an answer: the row must stay";
  EXPECT_NE(forbidden.status().message().find("HTTP 403"), std::string::npos);
  EXPECT_NE(forbidden.status().message().find("rid-9"), std::string::npos);
}

// probe_many: the HEADs in flight together from the calling thread, the
// answers as probe() gives them, in order; what was not a plain 200 or 404
// judged as a lone probe's first attempt (retried within max_attempts, or
// final); connections kept between calls.
TEST_F(S3BackendTest, ProbeManyAsksEveryKeyAtOnceFromTheCallersThread) {
  class Attempts final : public S3RequestObserver {
   public:
    void on_request(const S3RequestEvent& event) override {
      std::lock_guard lock(mu);
      tids.insert(static_cast<long>(::syscall(SYS_gettid)));
      retried += event.retried ? 1 : 0;
      ++seen;
    }
    std::mutex mu;
    std::set<long> tids;
    int seen = 0;
    int retried = 0;
  };
  FakeS3Bucket bucket;
  for (const char* key : {"b/1", "b/3", "b/5", "b/7"}) bucket.objects[key] = 11;
  std::atomic<int> unavailable_left{1};
  FakeHttpServer server([&](const FakeRequest& r) {
    // The first HEAD of b/5 gets a 503: asked again, it is there.
    if (r.path.ends_with("/b/5") && unavailable_left.fetch_sub(1) > 0) return FakeResponse{503, "", {}};
    if (r.path.ends_with("/forbidden")) return FakeResponse{403, "", {}};
    return bucket.handle(r);
  });
  auto attempts = std::make_shared<Attempts>();
  S3BackendOptions options = options_for(server);
  options.observer = attempts;
  auto opened = S3Backend::open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  S3Backend& backend = **opened;
  ASSERT_TRUE(backend.probes_many_at_once());
  const std::vector<std::string> keys = {"b/1", "b/2", "b/3", "b/4", "b/5", "b/6", "b/7", "forbidden", "b/../x"};
  const auto answers = backend.probe_many(keys, {});
  ASSERT_EQ(answers.size(), keys.size());
  for (std::size_t i = 0; i < 7; ++i) {
    ASSERT_TRUE(answers[i].ok()) << keys[i] << ": " << answers[i].status().to_string();
    EXPECT_EQ(answers[i]->has_value(), i % 2 == 0) << keys[i];
    if (answers[i]->has_value()) {
      EXPECT_EQ((*answers[i])->size, 11);
    }
  }
  ASSERT_FALSE(answers[7].ok()) << "a 403 is not an answer";
  EXPECT_NE(answers[7].status().message().find("HTTP 403"), std::string::npos) << answers[7].status().message();
  EXPECT_EQ(answers[8].status().code(), StatusCode::kInvalidArgument) << "never sent";
  EXPECT_EQ(server.requests(), 8 + 1) << "8 at once, then b/5 retried; a 403 is final, as for probe()";
  EXPECT_EQ(attempts->retried, 1);
  EXPECT_EQ(attempts->tids.size(), 1u) << "the batch's HEADs ran on one thread";
  // The batch keeps all its connections: asking as many again opens none.
  // (libcurl's default cache holds four per transfer still in the batch, so
  // as the last answer came in it closed one of the eight.)
  const int connections = server.connections();
  const std::vector<std::string> eight = {"b/1", "b/2", "b/3", "b/4", "b/5", "b/6", "b/7", "b/8"};
  for (int round = 0; round < 20; ++round) {
    const auto again = backend.probe_many(eight, {});
    for (const auto& answer : again) EXPECT_TRUE(answer.ok()) << answer.status().to_string();
  }
  EXPECT_EQ(server.connections(), connections);
}

// A stop ends a batch whose server never answers: every key is cancelled,
// none is taken for absent.
TEST_F(S3BackendTest, StopCancelsEveryHungProbeOfABatch) {
  FakeHttpServer server([&](const FakeRequest&) { return FakeResponse{200, "", {}, true}; });
  auto backend = open(server);
  std::stop_source stop;
  std::thread stopper([&] {
    while (server.requests() < 3) std::this_thread::yield();
    stop.request_stop();
  });
  const std::vector<std::string> keys = {"b/1", "b/2", "b/3"};
  const auto answers = backend->probe_many(keys, stop.get_token());
  stopper.join();
  ASSERT_EQ(answers.size(), keys.size());
  for (const auto& answer : answers) EXPECT_EQ(answer.status().code(), StatusCode::kCancelled);
}

// A batch's attempt counts against max_attempts: a server that never answers
// costs each key max_attempts requests, then fails naming the key.
TEST_F(S3BackendTest, ABatchsTimedOutProbesAreRetriedWithinMaxAttempts) {
  FakeHttpServer server([&](const FakeRequest&) { return FakeResponse{200, "", {}, true}; });
  auto backend = open_impatient(server);
  ASSERT_NE(backend, nullptr);
  const std::vector<std::string> keys = {"b/1", "b/2"};
  const auto answers = backend->probe_many(keys, {});
  ASSERT_EQ(answers.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_FALSE(answers[i].ok()) << keys[i];
    EXPECT_EQ(answers[i].status().code(), StatusCode::kUnavailable);
    EXPECT_NE(answers[i].status().message().find(keys[i]), std::string::npos) << answers[i].status().message();
    EXPECT_NE(answers[i].status().message().find("gave up after 2 attempts"), std::string::npos)
        << answers[i].status().message();
  }
  EXPECT_EQ(server.requests(), 4);
}

// A client's options are set once, when it is made: its connections are
// kept from batch to batch, and so must its timeout be. The second batch of
// the same backend, whose server stops answering, times out like the first.
TEST_F(S3BackendTest, ABatchAfterTheFirstStillTimesOut) {
  std::atomic<bool> hang{false};
  FakeHttpServer server([&](const FakeRequest&) { return FakeResponse{404, "", {}, hang.load()}; });
  auto backend = open_impatient(server);
  ASSERT_NE(backend, nullptr);
  const std::vector<std::string> keys = {"b/1", "b/2"};
  for (const auto& answer : backend->probe_many(keys, {})) {
    ASSERT_TRUE(answer.ok()) << answer.status().to_string();
    EXPECT_FALSE(answer->has_value());
  }
  hang = true;
  const auto answers = backend->probe_many(keys, {});
  ASSERT_EQ(answers.size(), keys.size());
  for (const auto& answer : answers) {
    ASSERT_FALSE(answer.ok());
    EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(answer.status().message().find("imeout"), std::string::npos) << answer.status().message();
  }
}

TEST(S3Addressing, PathAndVirtualTargets) {
  auto e = s3::parse_endpoint("https://s3.example.com:8443/base/");
  ASSERT_TRUE(e.ok());
  auto path = s3::request_target(*e, S3Addressing::kPath, "phys", "a b/c+d");
  EXPECT_EQ(path.url, "https://s3.example.com:8443/base/phys/a%20b/c%2Bd");
  EXPECT_EQ(path.host_header, "s3.example.com:8443");
  EXPECT_EQ(path.canonical_uri, "/base/phys/a%20b/c%2Bd");
  auto virt = s3::request_target(*e, S3Addressing::kVirtual, "phys", "");
  EXPECT_EQ(virt.url, "https://phys.s3.example.com:8443/base/");
  EXPECT_EQ(virt.host_header, "phys.s3.example.com:8443");
  for (const char* bad : {"s3.example.com", "ftp://x", "http://", "http://h:port", "http://u@h"}) {
    EXPECT_FALSE(s3::parse_endpoint(bad).ok()) << bad;
  }
  auto v6 = s3::parse_endpoint("http://[::1]:9000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, "9000");
}

}  // namespace
}  // namespace s3reconcile
