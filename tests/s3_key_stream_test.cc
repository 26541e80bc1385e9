// S3KeyStream: classification, adoption, paging, bounded queue, errors, stop.
#include "s3reconcile/s3_key_stream.h"

#include <gtest/gtest.h>

#include <thread>

#include "fakes.h"

namespace s3reconcile {
namespace {

using testing::FakeLister;
using Objects = std::map<std::string, std::int64_t, testing::KeyLess>;

// A stream over a backend storing bucket `bucket` among the known b, c and
// photos. With `adopt`, the whole backend (unprefixed keys adopted into
// `bucket`); without, only the paths under "bucket/".
S3KeyStreamOptions options_for(std::string bucket, bool adopt, std::size_t queue = 1000) {
  S3KeyStreamOptions o;
  o.classifier = std::make_shared<PathClassifier>(std::vector<std::string>{bucket},
                                                  std::vector<std::string>{"b", "c", "photos"}, adopt);
  o.prefix = adopt ? "" : bucket + "/";
  o.queue_size = queue;
  return o;
}

// Drains the stream; fails the test on error.
std::vector<Entry> drain(S3KeyStream& s) {
  std::vector<Entry> out;
  while (true) {
    auto n = s.next();
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    if (!n.ok() || !*n) return out;
    out.push_back(**n);
  }
}

std::vector<std::string> keys_of(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.key);
  return out;
}

TEST(S3KeyStream, YieldsOwnBucketAndDropsSiblings) {
  FakeLister lister(Objects{{"b/1", 1}, {"b/2", 2}, {"c/1", 3}, {"photos/x", 4}, {"raw", 5}});
  S3KeyStream s(lister, options_for("b", false));
  auto entries = drain(s);
  EXPECT_EQ(keys_of(entries), (std::vector<std::string>{"b/1", "b/2"}));
  EXPECT_EQ(entries[1].size, 2);
  EXPECT_EQ(entries[1].storage_key, "b/2");
  EXPECT_EQ(entries[1].bucket, "b");
  EXPECT_FALSE(entries[1].adopted);
}

TEST(S3KeyStream, WholeBackendClassifiesWithoutReordering) {
  // One walk in the listing's order: "c/q" belongs to a bucket stored
  // elsewhere and is left out; "m" is adopted as "b/m" but stays at its path.
  FakeLister lister(Objects{{"b/a", 1}, {"b/z", 1}, {"c/q", 1}, {"m", 7}});
  S3KeyStream s(lister, options_for("b", true));
  auto entries = drain(s);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].storage_key, "b/a");
  EXPECT_EQ(entries[1].storage_key, "b/z");
  EXPECT_EQ(entries[2].storage_key, "m");  // the bytes stay where they are
  EXPECT_EQ(entries[2].key, "b/m");        // the key it would be known by
  EXPECT_TRUE(entries[2].adopted);
  EXPECT_EQ(entries[2].bucket, "b");
  EXPECT_EQ(entries[2].size, 7);
  EXPECT_EQ(lister.walks(), 1);
  EXPECT_EQ(s.listed_paths(), 4u);  // the left-out path was listed all the same
  auto by_bucket = s.listed_by_bucket();
  EXPECT_EQ(by_bucket.at("b"), 3u);
}

TEST(S3KeyStream, ARawKeyAndItsPrefixedTwinAreBothYielded) {
  // Whether "x" collides with "b/x" is decided at import time (the backend
  // is asked), not by the stream: it yields both paths, in path order.
  FakeLister lister(Objects{{"b/x", 1}, {"x", 2}});
  S3KeyStream s(lister, options_for("b", true));
  auto entries = drain(s);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].storage_key, "b/x");
  EXPECT_EQ(entries[1].storage_key, "x");
  EXPECT_EQ(entries[1].key, "b/x");
}

TEST(S3KeyStream, NoAdoptionWhenNotAsked) {
  FakeLister lister(Objects{{"b/x", 1}, {"loose", 2}});
  S3KeyStream s(lister, options_for("b", false));
  EXPECT_EQ(keys_of(drain(s)), (std::vector<std::string>{"b/x"}));
  EXPECT_EQ(lister.walks(), 1);
}

TEST(S3KeyStream, PageCounterCountsPages) {
  Objects objects;
  for (int i = 0; i < 10; ++i) objects["b/" + std::to_string(i)] = 1;
  FakeLister lister(objects, 3);
  std::atomic<std::uint64_t> pages{0};
  auto o = options_for("b", false);
  o.api_pages = &pages;
  S3KeyStream s(lister, o);
  EXPECT_EQ(drain(s).size(), 10u);
  EXPECT_EQ(pages.load(), 4u);  // 3 + 3 + 3 + 1
}

TEST(S3KeyStream, EmptyListingIsOnePageAndACleanEnd) {
  FakeLister lister(Objects{});
  std::atomic<std::uint64_t> pages{0};
  auto o = options_for("b", false);
  o.api_pages = &pages;
  S3KeyStream s(lister, o);
  auto n = s.next();
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->has_value());
  EXPECT_EQ(pages.load(), 1u);
  // End is sticky.
  n = s.next();
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->has_value());
}

// A lister of a million keys made up page by page, never held in memory.
class GeneratedLister final : public ObjectLister {
 public:
  Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) override {
    // Native walks get "b/NNNNNNN"; the raw walk (prefix "") gets "rNNNNNNN".
    const std::string prefix = request.prefix.empty() ? "r" : request.prefix;
    std::vector<ListedObject> page;
    for (int p = 0; p < 1000; ++p) {
      if (stop.stop_requested()) break;
      page.clear();
      for (int i = 0; i < 1000; ++i) {
        char digits[16];
        std::snprintf(digits, sizeof digits, "%07d", p * 1000 + i);
        page.push_back(ListedObject{prefix + digits, 1, std::nullopt});
      }
      handed_over += page.size();
      if (!on_page(page, /*last=*/p == 999)) break;
    }
    ++returned;
    return ok_status();
  }
  std::atomic<std::size_t> handed_over{0};
  std::atomic<int> returned{0};
};

TEST(S3KeyStream, ProducerIsBoundedAndStopsPromptly) {
  GeneratedLister lister;
  auto o = options_for("b", false, /*queue=*/64);
  auto stream = std::make_unique<S3KeyStream>(lister, o);
  for (int i = 0; i < 10; ++i) {
    auto n = stream->next();
    ASSERT_TRUE(n.ok() && n->has_value());
  }
  stream->stop();
  // stop() joined the producer: the walk has returned (a hang here is caught
  // by the test's timeout).
  EXPECT_EQ(lister.returned.load(), 1);
  // Pages go over whole: a page of 1000 passes a queue of 64 alone.
  EXPECT_LE(stream->queue_high_watermark(), 1000u);
  // The page being read, one queued and one waiting to be: never the million keys.
  EXPECT_LE(lister.handed_over.load(), 3u * 1000u);
  // After stop, next() is an error, never an end of stream.
  auto n = stream->next();
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kCancelled);
  stream->stop();  // twice: harmless
  stream.reset();  // and destruction after stop
}

TEST(S3KeyStream, DestroyingAStreamWithABlockedProducerStopsIt) {
  GeneratedLister lister;
  {
    S3KeyStream s(lister, options_for("b", true, 1));
    auto n = s.next();
    ASSERT_TRUE(n.ok());
  }  // the producer is blocked on a full queue here
  EXPECT_EQ(lister.returned.load(), 1);
  EXPECT_LT(lister.handed_over.load(), 10000u);
}

TEST(S3KeyStream, ProducerErrorIsLatched) {
  Objects objects;
  for (int i = 0; i < 10; ++i) objects["b/" + std::to_string(i)] = 1;
  FakeLister lister(objects, 2);
  lister.fail_at_page(2, unavailable_error("503 SlowDown after 5 attempts on page 3"));
  S3KeyStream s(lister, options_for("b", false));
  Status first;
  int yielded = 0;
  while (true) {
    auto n = s.next();
    if (!n.ok()) {
      first = n.status();
      break;
    }
    ASSERT_TRUE(n->has_value()) << "a failed walk must never end cleanly";
    ++yielded;
  }
  EXPECT_EQ(first.code(), StatusCode::kUnavailable);
  EXPECT_LE(yielded, 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.next().status(), first);
}

TEST(S3KeyStream, KeyOutsideRequestedPrefixIsAnError) {
  class Stray final : public ObjectLister {
    Status list(const ListRequest&, const PageCallback& on_page, std::stop_token) override {
      std::vector<ListedObject> page{{"b/1", 1, std::nullopt}, {"zzz", 1, std::nullopt}};
      on_page(page, /*last=*/true);
      return ok_status();
    }
  } lister;
  S3KeyStream s(lister, options_for("b", false));
  Status error;
  for (int i = 0; i < 3 && error.ok(); ++i) error = s.next().status();
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_NE(error.message().find("\"zzz\""), std::string::npos);
}

TEST(S3KeyStream, PassStopCancelsAHungListing) {
  Objects objects{{"b/1", 1}, {"b/2", 1}, {"b/3", 1}};
  FakeLister lister(objects, 1);
  lister.hang_at_page(1);
  std::stop_source pass;
  S3KeyStream s(lister, options_for("b", false), pass.get_token());
  auto first = s.next();
  ASSERT_TRUE(first.ok() && first->has_value());
  std::thread canceller([&] { pass.request_stop(); });
  auto n = s.next();  // blocks on the hung page until the stop arrives
  canceller.join();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(s.next().status().code(), StatusCode::kCancelled);
}

TEST(S3KeyStream, CancellationIsNeverACleanEnd) {
  // Even when the walk had finished, a stop before reading makes next() fail.
  FakeLister lister(Objects{{"b/1", 1}});
  std::stop_source pass;
  S3KeyStream s(lister, options_for("b", false), pass.get_token());
  pass.request_stop();
  auto n = s.next();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kCancelled);
}

TEST(S3KeyStream, StartAfterAndThroughArePaths) {
  FakeLister lister(Objects{{"a", 1}, {"b/a", 1}, {"b/m", 1}, {"b/z", 1}, {"c", 1}, {"q", 1}, {"r", 1}});
  auto o = options_for("b", true);
  o.start_after = "b/m";
  o.through = "q";
  S3KeyStream s(lister, o);
  EXPECT_EQ(keys_of(drain(s)), (std::vector<std::string>{"b/z", "b/c", "b/q"}));
}

}  // namespace
}  // namespace s3reconcile
