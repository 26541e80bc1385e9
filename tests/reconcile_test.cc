// reconcile_backend: wiring, confirmation before removal, grace, dry run,
// failure accounting.
#include "s3reconcile/reconcile.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include <fmt/format.h>

#include "fakes.h"

namespace s3reconcile {
namespace {

using testing::FakeLister;
using testing::FakeProber;
using testing::FakeStore;
using testing::KeySet;
using Objects = std::map<std::string, std::int64_t, testing::KeyLess>;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(1);

struct Harness {
  Objects objects;
  FakeStore store;
  FakeProber prober;
  std::ostringstream log_text;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));

  // A pass over the whole backend, or over `bucket`'s paths only.
  Result run(PassOptions options = {}, std::string bucket = "", bool adopt = true) {
    FakeLister lister(objects, 2);
    // By default the prober sees exactly what the lister sees.
    if (prober.present.empty())
      for (const auto& kv : objects) prober.present.insert(kv.first);
    BackendRef backend{"disk", &lister, &prober, {"b", "c"}, adopt};
    options.logger = log;
    options.page_size = 2;
    return reconcile_backend(backend, {"b", "c"}, store, options, PassScope{bucket});
  }
};

TEST(Reconcile, ImportsOrphansAndRemovesStaleRows) {
  Harness h;
  h.objects = {{"b/keep", 1}, {"b/orphan", 5}, {"raw", 3}, {"c/sibling", 1}};
  h.store.put("disk", "b/keep", 1, "", kOld);
  h.store.put("disk", "b/stale", 1, "", kOld);
  h.store.put("disk", "c/sibling-row", 1, "", kOld);
  Result r = h.run();
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  // One walk of the backend reconciles both buckets and the unprefixed key.
  EXPECT_EQ(r.imported, 3u);  // b/orphan, c/sibling and the adopted b/raw
  EXPECT_EQ(r.removed, 2u);   // b/stale and c/sibling-row
  EXPECT_EQ(r.listed, 4u);
  EXPECT_EQ(r.rows, 3u);
  EXPECT_EQ(r.api_pages, 2u);  // four keys in pages of two: the backend is listed once
  EXPECT_EQ(r.buckets.at("b").imported, 2u);
  EXPECT_EQ(r.buckets.at("b").removed, 1u);
  EXPECT_EQ(r.buckets.at("c").imported, 1u);
  EXPECT_EQ(r.buckets.at("c").removed, 1u);
  EXPECT_EQ(r.buckets.at("b").listed, 3u);
  EXPECT_EQ(r.buckets.at("c").rows, 1u);
  EXPECT_EQ(h.store.keys("disk"), (KeySet{"b/keep", "b/orphan", "b/raw", "c/sibling"}));
  EXPECT_EQ(h.store.row("disk", "b/raw").storage_key, "raw");
  EXPECT_EQ(h.store.row("disk", "b/orphan").size, 5);
  // Each line of the pass names it, its backend and bucket; a removal its key's bucket.
  EXPECT_NE(h.log_text.str().find(
                fmt::format("removed pass_id={} backend=disk paths=\"\" bucket=b key=\"b/stale\"", r.pass_id)),
            std::string::npos)
      << h.log_text.str();
  // A second pass changes nothing.
  Result again = h.run();
  EXPECT_EQ(again.imported + again.removed, 0u);
}

TEST(Reconcile, NonDefaultBucketAdoptsNothing) {
  Harness h;
  h.objects = {{"c/1", 1}, {"raw", 1}};
  Result r = h.run({}, "c");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(h.store.keys("disk"), (KeySet{"c/1"}));
}

TEST(Reconcile, IgnoreSettingAdoptsNothing) {
  Harness h;
  h.objects = {{"b/1", 1}, {"raw", 1}};
  Result r = h.run({}, "", /*adopt=*/false);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(h.store.keys("disk"), (KeySet{"b/1"}));
}

TEST(Reconcile, RowWhoseObjectIsPresentAgainIsKept) {
  Harness h;
  h.objects = {{"b/1", 1}};
  h.store.put("disk", "b/late", 1, "", kOld);
  h.prober.present = {"b/1", "b/late"};  // written after the listing passed it
  Result r = h.run();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(r.raced, 1u);
  EXPECT_TRUE(h.store.has("disk", "b/late"));
}

TEST(Reconcile, ProbeFailureKeepsTheRowAndCountsAFailure) {
  Harness h;
  h.objects = {{"b/1", 1}};
  h.store.put("disk", "b/a", 1, "", kOld);
  h.store.put("disk", "b/z", 1, "", kOld);
  h.prober.error = internal_error("HEAD answered 500");
  Result r = h.run();
  ASSERT_TRUE(r.status.ok()) << "one failed removal does not stop the pass";
  EXPECT_EQ(r.delete_failed, 2u);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_TRUE(h.store.has("disk", "b/a"));
  EXPECT_TRUE(h.store.has("disk", "b/z"));
}

TEST(Reconcile, AdoptedRowIsConfirmedAtItsStorageKey) {
  Harness h;
  h.objects = {{"b/1", 1}};
  h.store.put("disk", "b/m", 1, "m", kOld);  // an adopted row whose bytes are at "m"
  h.prober.present = {"b/1", "m"};           // "m" is there, though no longer listed
  Result r = h.run();
  EXPECT_EQ(r.raced, 1u);
  EXPECT_TRUE(h.store.has("disk", "b/m"));
}

TEST(Reconcile, RowsCreatedDuringThePassAreNeverRemoved) {
  Harness h;
  h.objects = {{"b/1", 1}};
  PassOptions options;
  options.started_at = Clock::now();
  h.store.put("disk", "b/fresh", 1, "", options.started_at + std::chrono::seconds(1));
  Result r = h.run(options);
  EXPECT_EQ(r.too_new, 1u);
  EXPECT_TRUE(h.store.has("disk", "b/fresh"));
}

TEST(Reconcile, DryRunChangesNothingAndCountsTheSame) {
  Harness dry, real;
  for (Harness* h : {&dry, &real}) {
    h->objects = {{"b/1", 1}, {"b/2", 1}, {"loose", 1}};
    h->store.put("disk", "b/1", 1, "", kOld);
    h->store.put("disk", "b/gone", 1, "", kOld);
    h->store.put("disk", "b/gone2", 1, "", kOld);
  }
  PassOptions options;
  options.dry_run = true;
  Result d = dry.run(options);
  Result r = real.run();
  EXPECT_EQ(dry.store.keys("disk"), (KeySet{"b/1", "b/gone", "b/gone2"}));
  EXPECT_EQ(d.imported, r.imported);
  EXPECT_EQ(d.removed, r.removed);
  EXPECT_EQ(d.imported, 2u);
  EXPECT_EQ(d.removed, 2u);
}

TEST(Reconcile, ListingFailureEndsThePassAndRemovesNothingAfterIt) {
  Harness h;
  for (int i = 0; i < 10; ++i) {
    h.objects["b/" + std::to_string(i)] = 1;
    h.store.put("disk", "b/" + std::to_string(i), 1, "", kOld);
  }
  FakeLister lister(h.objects, 2);
  lister.fail_at_page(1, unavailable_error("connection reset by peer"));
  BackendRef backend{"disk", &lister, &h.prober, {"b"}, true};
  PassOptions options;
  options.logger = h.log;
  Result r = reconcile_backend(backend, {"b"}, h.store, options, PassScope{"b"});
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("connection reset by peer"), std::string::npos);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(h.store.keys("disk").size(), 10u);
}

TEST(Reconcile, ImportFailureIsCountedAndThePassGoesOn) {
  // Row-by-row, so that one bad row fails alone: b/bad is refused, b/down
  // finds the store gone.
  class PickyStore final : public testing::ForwardingStore {
   public:
    using ForwardingStore::ForwardingStore;
    StatusOr<bool> insert_if_absent(std::string_view b, const Entry& e, Clock::time_point t) override {
      if (e.key == "b/bad") return invalid_argument_error("value too long");
      if (e.key == "b/down") return unavailable_error("connection lost");
      return inner_.insert_if_absent(b, e, t);
    }
    StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view b, std::span<const IndexChange> c,
                                                      Clock::time_point t) override {
      return apply_changes_one_by_one(*this, b, c, t);
    }
  };
  FakeStore fake;
  PickyStore store(fake);
  Objects objects{{"b/a", 1}, {"b/bad", 1}, {"b/c", 1}};
  FakeLister lister(objects);
  FakeProber prober;
  BackendRef backend{"disk", &lister, &prober, {"b"}, true};
  Result r = reconcile_backend(backend, {"b"}, store, {}, PassScope{"b"});
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.import_failed, 1u);
  EXPECT_EQ(r.imported, 2u);

  // An unreachable store ends the pass with its error.
  Objects more{{"b/down", 1}, {"b/z", 1}};
  FakeLister lister2(more);
  BackendRef backend2{"disk", &lister2, &prober, {"b"}, true};
  Result r2 = reconcile_backend(backend2, {"b"}, store, {}, PassScope{"b"});
  EXPECT_EQ(r2.status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(fake.has("disk", "b/z"));
}

TEST(Reconcile, BatchedAndRowByRowPassesAgree) {
  for (std::size_t batch : {1, 2, 3, 500}) {
    Harness h;
    for (int i = 0; i < 20; ++i) {
      if (i % 3 != 0) h.objects[fmt::format("b/{:02}", i)] = i;
      if (i % 2 == 0) h.store.put("disk", fmt::format("b/{:02}", i), i, "", kOld);
    }
    PassOptions options;
    options.batch_size = batch;
    Result r = h.run(options);
    ASSERT_TRUE(r.status.ok());
    EXPECT_EQ(r.imported, 7u) << "batch " << batch;  // odd i not divisible by 3: listed, not indexed
    EXPECT_EQ(r.removed, 4u) << "batch " << batch;   // i in {0, 6, 12, 18}
    KeySet want;
    for (const auto& kv : h.objects) want.insert(kv.first);
    EXPECT_EQ(h.store.keys("disk"), want);
    // Eleven changes, written batch by batch (a batch of one each when batch is 1).
    EXPECT_EQ(h.store.batches(), static_cast<int>((11 + batch - 1) / batch)) << "batch " << batch;
  }
}

TEST(Reconcile, FailedPassDropsRemovalsNotYetWritten) {
  Harness h;
  for (int i = 0; i < 10; ++i) h.store.put("disk", fmt::format("b/{:02}", i), 1, "", kOld);
  h.objects = {{"b/0", 1}, {"b/99", 1}};
  // The index fails on its second page: by then b/0 is queued for import
  // and b/00 for removal (the cursor reads one row ahead of the merge).
  h.store.fail_list_call(1, unavailable_error("server closed the connection"));
  FakeLister lister(h.objects);
  h.prober.present = {"b/0", "b/99"};
  BackendRef backend{"disk", &lister, &h.prober, {"b"}, true};
  PassOptions options;
  options.logger = h.log;
  options.page_size = 2;
  options.batch_size = 100;
  Result r = reconcile_backend(backend, {"b"}, h.store, options, PassScope{"b"});
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_TRUE(h.store.has("disk", "b/00")) << "a queued removal is not written after a failure";
  EXPECT_TRUE(h.store.has("disk", "b/0")) << "a queued import is";
  EXPECT_EQ(r.imported, 1u);
}

TEST(RemovalGuards, EmptyListingRemovesNothingAndSaysWhy) {
  for (bool dry_run : {false, true}) {
    for (std::size_t batch : {1, 500}) {
      Harness h;
      h.objects = {{"c/other-bucket", 1}};  // the backend has objects, none under b/
      for (int i = 0; i < 5; ++i) h.store.put("disk", fmt::format("b/{}", i), 1, "", kOld);
      PassOptions options;
      options.dry_run = dry_run;
      options.batch_size = batch;
      Result r = h.run(options, "b");  // a pass narrowed to bucket b: its prefix lists nothing
      EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.to_string();
      EXPECT_NE(r.status.message().find("listed nothing under \"b/\""), std::string::npos) << r.status.message();
      EXPECT_NE(r.status.message().find("--allow-empty-listing"), std::string::npos);
      EXPECT_EQ(r.removed, 0u);
      EXPECT_EQ(r.delete_failed, 0u);
      EXPECT_EQ(h.store.keys("disk").size(), 5u);
    }
  }
  {
    // The whole backend lists nothing (an unmounted disk): the guard judges
    // the whole listing.
    Harness h;
    for (int i = 0; i < 5; ++i) h.store.put("disk", fmt::format("b/{}", i), 1, "", kOld);
    h.prober.present = {"nothing"};
    Result r = h.run();
    EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.to_string();
    EXPECT_NE(r.status.message().find("listed nothing at all"), std::string::npos) << r.status.message();
    EXPECT_EQ(h.store.keys("disk").size(), 5u);
  }
  Harness h;
  for (int i = 0; i < 5; ++i) h.store.put("disk", fmt::format("b/{}", i), 1, "", kOld);
  h.prober.present = {"nothing"};
  PassOptions options;
  options.limits.allow_empty_listing = true;
  Result r = h.run(options);
  EXPECT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.removed, 5u);
}

TEST(RemovalGuards, CountLimitStopsRemovalsAtTheLimit) {
  for (std::size_t batch : {1, 3, 500}) {
    for (bool dry_run : {false, true}) {
      Harness h;
      h.objects = {{"b/live", 1}};
      for (int i = 0; i < 10; ++i) h.store.put("disk", fmt::format("b/{}", i), 1, "", kOld);
      PassOptions options;
      options.batch_size = batch;
      options.dry_run = dry_run;
      options.limits.max_removals = 4;
      Result r = h.run(options);
      EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.to_string();
      EXPECT_NE(r.status.message().find("max_removals=4"), std::string::npos) << r.status.message();
      EXPECT_EQ(r.removed, 4u) << "batch " << batch << " dry_run " << dry_run;
      EXPECT_EQ(h.store.keys("disk").size(), dry_run ? 10u : 6u);
    }
  }
}

TEST(RemovalGuards, RatioLimitStopsRemovalsOnceEnoughRowsWereSeen) {
  Harness h;
  for (int i = 0; i < 100; ++i) {
    const std::string key = fmt::format("b/{:03}", i);
    h.store.put("disk", key, 1, "", kOld);
    if (i % 2 == 0) h.objects[key] = 1;  // half the rows are stale
  }
  PassOptions options;
  options.limits.max_removal_ratio = 0.25;
  options.limits.ratio_min_rows = 20;
  Result r = h.run(options);
  EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.to_string();
  EXPECT_NE(r.status.message().find("max_removal_ratio=0.25"), std::string::npos) << r.status.message();
  // Unchecked until 20 rows were scanned (about 10 stale among them), then
  // stopped at once: far fewer than the 50 stale rows.
  EXPECT_GT(r.removed, 0u);
  EXPECT_LE(r.removed, 12u);
  EXPECT_EQ(h.store.keys("disk").size(), 100u - r.removed);

  Harness below;
  for (int i = 0; i < 100; ++i) {
    const std::string key = fmt::format("b/{:03}", i);
    below.store.put("disk", key, 1, "", kOld);
    if (i % 10 != 0) below.objects[key] = 1;  // 10% stale: under the limit
  }
  Result ok = below.run(options);
  EXPECT_TRUE(ok.status.ok()) << ok.status.to_string();
  EXPECT_EQ(ok.removed, 10u);
}

TEST(Reconcile, BucketNotOnTheBackendIsAnError) {
  Harness h;
  Result r = h.run({}, "zzz");
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace s3reconcile
