// Size drift and the request budget, on every store: the guarded resize,
// the resume points, and whole passes (a fake backend, the real index)
// that fix sizes and walk a bucket in budget-sized slices.
#include <fmt/format.h>

#include "fakes.h"
#include "s3reconcile/reconcile.h"
#include "store_conformance.h"

namespace s3reconcile::testing {
namespace {

using Objects = std::map<std::string, std::int64_t, KeyLess>;

const Clock::time_point kLongAgo = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);

// The rows of `backend`: object key -> size.
std::map<std::string, std::int64_t> sizes_of(IndexStore& store, const std::string& backend) {
  std::map<std::string, std::int64_t> out;
  auto rows = list_rows_by_storage_key(store, backend, RowPosition{}, 100000, KeyRange{});
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  if (rows.ok()) {
    for (const auto& r : *rows) out[r.object_key] = r.size_bytes;
  }
  return out;
}

// A row as a pass judged it: its size `was`, the backend's `now`.
Entry drift(const std::string& key, std::int64_t was, std::int64_t now) {
  Entry e = entry(key, now);
  e.index_size = was;
  return e;
}

TEST_P(StoreConformance, ResizeChangesOnlyTheRowAsJudged) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto cutoff = Clock::now();
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/grew", 3), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/rewritten", 4), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry_at("b/moved", "b/elsewhere", 3), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/fresh", 3), cutoff + std::chrono::seconds(1)).ok());
  EXPECT_EQ(*store->resize_if_unchanged("disk", drift("b/grew", 3, 9), cutoff), ResizeOutcome::kResized);
  // Someone wrote the row after the pass read it: left alone.
  EXPECT_EQ(*store->resize_if_unchanged("disk", drift("b/rewritten", 3, 9), cutoff), ResizeOutcome::kChanged);
  EXPECT_EQ(*store->resize_if_unchanged("disk", drift("b/moved", 3, 9), cutoff), ResizeOutcome::kChanged);
  EXPECT_EQ(*store->resize_if_unchanged("disk", drift("b/fresh", 3, 9), cutoff), ResizeOutcome::kTooNew);
  EXPECT_EQ(*store->resize_if_unchanged("disk", drift("b/never", 3, 9), cutoff), ResizeOutcome::kChanged);
  EXPECT_EQ(*store->resize_if_unchanged("other", drift("b/grew", 9, 1), cutoff), ResizeOutcome::kChanged);
  EXPECT_EQ(sizes_of(*store, "disk"),
            (std::map<std::string, std::int64_t>{{"b/fresh", 3}, {"b/grew", 9}, {"b/moved", 3}, {"b/rewritten", 4}}));
}

TEST_P(StoreConformance, BatchWithResizesReportsEachOutcome) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto cutoff = Clock::now();
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/grew", 3), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/stale", 3), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/fresh", 3), cutoff + std::chrono::seconds(1)).ok());
  std::vector<IndexChange> changes = {
      {IndexChange::Kind::kImport, entry("b/new", 5), kLongAgo},
      {IndexChange::Kind::kResize, drift("b/grew", 3, 7), {}},
      {IndexChange::Kind::kRemove, entry("b/stale"), {}},
      {IndexChange::Kind::kResize, drift("b/fresh", 3, 7), {}},
      {IndexChange::Kind::kResize, drift("b/never", 3, 7), {}},
  };
  auto results = store->apply_changes("disk", changes, cutoff);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), changes.size());
  for (const auto& r : *results) EXPECT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_TRUE((*results)[0].inserted);
  EXPECT_EQ((*results)[1].resize, ResizeOutcome::kResized);
  EXPECT_EQ((*results)[2].removal, RemoveOutcome::kRemoved);
  EXPECT_EQ((*results)[3].resize, ResizeOutcome::kTooNew);
  EXPECT_EQ((*results)[4].resize, ResizeOutcome::kChanged) << "no such row";
  EXPECT_EQ(sizes_of(*store, "disk"),
            (std::map<std::string, std::int64_t>{{"b/fresh", 3}, {"b/grew", 7}, {"b/new", 5}}));
}

TEST_P(StoreConformance, ResumePointsArePerBackendAndPaths) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->resume_point("disk", ""), "") << "none yet: from the start";
  ASSERT_TRUE(store->set_resume_point("disk", "", "b/k\xff").ok());
  ASSERT_TRUE(store->set_resume_point("disk", "b/", "b/x").ok());
  EXPECT_EQ(*store->resume_point("disk", ""), "b/k\xff") << "byte-exact";
  EXPECT_EQ(*store->resume_point("disk", "b/"), "b/x");
  EXPECT_EQ(*store->resume_point("disk", "c/"), "");
  EXPECT_EQ(*store->resume_point("disk-2", ""), "");
  ASSERT_TRUE(store->set_resume_point("disk", "", "").ok());
  EXPECT_EQ(*store->resume_point("disk", ""), "") << "cleared: the next pass wraps around";
  auto again = open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again->resume_point("disk", "b/"), "b/x") << "kept in the database";
}

// A pass of a fake backend over the store under test.
struct SizedPass {
  Objects objects;
  FakeProber prober;
  std::vector<std::string> told;  // the observer's lines

  Result run(IndexStore& store, PassOptions options) {
    FakeLister lister(objects, 2);
    if (prober.present.empty()) {
      for (const auto& [key, size] : objects) {
        prober.present.insert(key);
        prober.sizes.emplace(key, size);
      }
    }
    BackendRef backend{"disk", &lister, &prober, {"b"}, true};
    options.page_size = 2;
    options.on_change = [this](ChangeAction action, const Entry& e) {
      const char* name = action == ChangeAction::kResize         ? "resize"
                         : action == ChangeAction::kSizeMismatch ? "left"
                                                                 : "other";
      told.push_back(fmt::format("{} {} {}->{}", name, e.key, e.index_size.value_or(-1), e.size));
      return ok_status();
    };
    return reconcile_backend(backend, {"b"}, store, options);
  }
};

TEST_P(StoreConformance, PassReportsSizeDriftAndChangesNothingWithoutFixSizes) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  SizedPass p;
  p.objects = {{"b/same", 3}, {"b/grew", 9}, {"b/shrank", 1}};
  for (const auto& [key, size] : std::map<std::string, std::int64_t>{{"b/same", 3}, {"b/grew", 3}, {"b/shrank", 4}}) {
    ASSERT_TRUE(store->insert_if_absent("disk", entry(key, size), kLongAgo).ok());
  }
  Result r = p.run(*store, PassOptions{});
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.size_mismatch, 2u);
  EXPECT_EQ(r.buckets.at("b").size_mismatch, 2u);
  EXPECT_EQ(r.resized, 0u);
  EXPECT_EQ(p.prober.calls.load(), 0) << "nothing to confirm when nothing is fixed";
  EXPECT_EQ(p.told, (std::vector<std::string>{"left b/grew 3->9", "left b/shrank 4->1"}));
  EXPECT_EQ(sizes_of(*store, "disk"),
            (std::map<std::string, std::int64_t>{{"b/grew", 3}, {"b/same", 3}, {"b/shrank", 4}}));
}

TEST_P(StoreConformance, FixSizesWritesOnlyWhatTheBackendConfirms) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto started = Clock::now();
  SizedPass p;
  p.objects = {{"b/grew", 9}, {"b/regrew", 9}, {"b/vanished", 9}, {"b/fresh", 9}, {"b/same", 2}};
  // Asked again: b/regrew changed size once more, b/vanished is gone.
  p.prober.present = {"b/grew", "b/regrew", "b/fresh", "b/same"};
  p.prober.sizes = {{"b/grew", 9}, {"b/regrew", 12}, {"b/fresh", 9}, {"b/same", 2}};
  for (const char* key : {"b/grew", "b/regrew", "b/vanished"}) {
    ASSERT_TRUE(store->insert_if_absent("disk", entry(key, 3), kLongAgo).ok());
  }
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/same", 2), kLongAgo).ok());
  // Written after the pass began: not the pass's to fix.
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/fresh", 3), started + std::chrono::seconds(5)).ok());
  PassOptions options;
  options.fix_sizes = true;
  options.started_at = started;
  options.dry_run = true;
  Result dry = p.run(*store, options);
  ASSERT_TRUE(dry.status.ok()) << dry.status.to_string();
  EXPECT_EQ(dry.size_mismatch, 4u);
  EXPECT_EQ(dry.resized, 1u);
  EXPECT_EQ(dry.resize_skipped, 3u);
  EXPECT_EQ(sizes_of(*store, "disk").at("b/grew"), 3) << "a dry run writes nothing";

  p.told.clear();
  options.dry_run = false;
  Result r = p.run(*store, options);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.size_mismatch, 4u);
  EXPECT_EQ(r.resized, 1u);
  EXPECT_EQ(r.resize_skipped, 3u);
  EXPECT_EQ(sizes_of(*store, "disk"),
            (std::map<std::string, std::int64_t>{
                {"b/fresh", 3}, {"b/grew", 9}, {"b/regrew", 3}, {"b/same", 2}, {"b/vanished", 3}}));
  std::sort(p.told.begin(), p.told.end());
  EXPECT_EQ(p.told, (std::vector<std::string>{"left b/fresh 3->9", "left b/regrew 3->9", "left b/vanished 3->9",
                                              "resize b/grew 3->9"}));
  // The next pass sees the fixed row as agreeing.
  Result again = p.run(*store, options);
  EXPECT_EQ(again.size_mismatch, 3u);
  EXPECT_EQ(again.resized, 0u);
}

TEST_P(StoreConformance, FixSizesWithParallelRangesFixesEveryRowOnce) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  SizedPass p;
  for (int i = 0; i < 40; ++i) {
    const std::string key = fmt::format("b/k{:03}", i);
    p.objects[key] = i % 3 == 0 ? 100 + i : i;
    ASSERT_TRUE(store->insert_if_absent("disk", entry(key, i), kLongAgo).ok());
  }
  PassOptions options;
  options.fix_sizes = true;
  options.parallelism = 4;
  options.open_store = [this]() { return under_test().open(); };
  Result r = p.run(*store, options);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_GT(r.ranges, 1u);
  EXPECT_EQ(r.size_mismatch, 14u);
  EXPECT_EQ(r.resized, 14u);
  auto sizes = sizes_of(*store, "disk");
  for (const auto& [key, size] : p.objects) EXPECT_EQ(sizes.at(key), size) << key;
}

// Runs budgeted passes over `objects` until one reaches the end, as the
// CLI does: each starts where the last stopped. Returns the passes run.
std::vector<Result> walk_in_slices(IndexStore& store, const Objects& objects, std::uint64_t budget,
                                   std::size_t max_passes = 100) {
  std::vector<Result> passes;
  FakeProber prober;
  for (const auto& kv : objects) prober.present.insert(kv.first);
  while (passes.size() < max_passes) {
    FakeLister lister(objects, 2);
    BackendRef backend{"disk", &lister, &prober, {"b"}, true};
    PassOptions options;
    options.page_size = 2;
    options.max_list_requests = budget;
    options.resume_after = *store.resume_point("disk", "");
    passes.push_back(reconcile_backend(backend, {"b"}, store, options));
    const Result& r = passes.back();
    EXPECT_TRUE(r.status.ok()) << r.status.to_string();
    if (!r.status.ok()) break;
    EXPECT_TRUE(store.set_resume_point("disk", "", r.resume_after).ok());
    if (!r.stopped_at_budget) break;
  }
  return passes;
}

TEST_P(StoreConformance, BudgetSlicesEndWithTheIndexOfOneFullPass) {
  Objects objects;
  for (int i = 0; i < 23; ++i) objects[fmt::format("b/k{:02}", i * 2)] = i;
  auto seed = [](IndexStore& store) {
    // Stale rows among, before and after the objects; a missing row per few.
    for (int i = 0; i < 23; ++i) {
      if (i % 4 != 0) {
        ASSERT_TRUE(store.insert_if_absent("disk", entry(fmt::format("b/k{:02}", i * 2), i), kLongAgo).ok());
      }
      ASSERT_TRUE(store.insert_if_absent("disk", entry(fmt::format("b/k{:02}", i * 2 + 1)), kLongAgo).ok());
    }
    ASSERT_TRUE(store.insert_if_absent("disk", entry("b/a-first-stale"), kLongAgo).ok());
    ASSERT_TRUE(store.insert_if_absent("disk", entry("b/zz-last-stale"), kLongAgo).ok());
  };
  auto full = open();
  ASSERT_NE(full, nullptr);
  seed(*full);
  FakeLister lister(objects, 2);
  FakeProber prober;
  for (const auto& kv : objects) prober.present.insert(kv.first);
  PassOptions options;
  options.page_size = 2;
  BackendRef backend{"disk", &lister, &prober, {"b"}, true};
  ASSERT_TRUE(reconcile_backend(backend, {"b"}, *full, options).status.ok());
  const auto expected = sizes_of(*full, "disk");
  ASSERT_EQ(expected.size(), objects.size());
  ASSERT_TRUE(full->set_resume_point("disk", "", "").ok());

  // The same index, walked three pages (six keys) at a time, on a fresh
  // backend name so that the two do not share rows.
  auto sliced = under_test().open();
  ASSERT_TRUE(sliced.ok());
  ASSERT_TRUE(under_test().exec("DELETE FROM object_locations").ok());
  seed(**sliced);
  const auto passes = walk_in_slices(**sliced, objects, 3);
  ASSERT_GE(passes.size(), 4u);
  std::uint64_t imported = 0, removed = 0;
  for (std::size_t i = 0; i < passes.size(); ++i) {
    const bool last = i + 1 == passes.size();
    EXPECT_EQ(passes[i].stopped_at_budget, !last) << i;
    EXPECT_LE(passes[i].api_pages, 3u) << "pass " << i << " spends at most its budget";
    if (i > 0) {
      EXPECT_EQ(passes[i].started_after, passes[i - 1].resume_after);
    }
    imported += passes[i].imported;
    removed += passes[i].removed;
  }
  EXPECT_EQ(passes.back().resume_after, "") << "the end reached: the next pass wraps around to the start";
  EXPECT_EQ(sizes_of(**sliced, "disk"), expected);
  EXPECT_EQ(imported, 6u);
  EXPECT_EQ(removed, 25u);
  // Wrapped around: the next pass starts from the first key again and,
  // the index now agreeing, changes nothing.
  auto again = walk_in_slices(**sliced, objects, 3, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].started_after, "");
  EXPECT_TRUE(again[0].stopped_at_budget);
  EXPECT_EQ(again[0].imported + again[0].removed, 0u);
}

// A budget whose last page is also the listing's last: the pass covered the
// whole bucket. It did not stop at its budget, the next one starts from the
// first key, and the stale row past the last key goes in this pass. (Taken
// for a cut, it was left to a next pass that listed nothing after the end.)
TEST_P(StoreConformance, ABudgetThatEndsWithTheListingIsAWholePass) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Objects objects = {{"b/a", 1}, {"b/b", 1}, {"b/c", 1}, {"b/d", 1}};  // two pages of two
  for (const char* key : {"b/a", "b/b", "b/c", "b/d", "b/zz-stale"}) {
    ASSERT_TRUE(store->insert_if_absent("disk", entry(key, 1), kLongAgo).ok());
  }
  const auto passes = walk_in_slices(*store, objects, 2, 1);
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_FALSE(passes[0].stopped_at_budget);
  EXPECT_EQ(passes[0].resume_after, "");
  EXPECT_EQ(passes[0].api_pages, 2u);
  EXPECT_EQ(passes[0].removed, 1u) << "b/zz-stale, past the last key of a listing that ended";
  EXPECT_FALSE(sizes_of(*store, "disk").count("b/zz-stale"));
}

TEST_P(StoreConformance, NoRemovalIsDecidedPastTheLastListedKey) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Objects objects = {{"b/a", 1}, {"b/b", 1}, {"b/c", 1}, {"b/d", 1}, {"b/e", 1}, {"b/f", 1}};
  for (const char* key :
       {"b/a", "b/b", "b/bb-stale", "b/c", "b/cc-stale", "b/d", "b/e", "b/ee-stale", "b/f", "b/zz-stale"}) {
    ASSERT_TRUE(store->insert_if_absent("disk", entry(key, 1), kLongAgo).ok());
  }
  const auto first = walk_in_slices(*store, objects, 1, 1);  // one page: b/a, b/b
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0].stopped_at_budget);
  EXPECT_EQ(first[0].resume_after, "b/b");
  EXPECT_EQ(first[0].removed, 0u) << "b/bb-stale lies past b/b, the last key listed";
  auto rows = sizes_of(*store, "disk");
  for (const char* stale : {"b/bb-stale", "b/cc-stale", "b/ee-stale", "b/zz-stale"}) EXPECT_TRUE(rows.count(stale));
  const auto second = walk_in_slices(*store, objects, 1, 1);  // b/c, b/d
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].started_after, "b/b");
  EXPECT_EQ(second[0].resume_after, "b/d");
  EXPECT_EQ(second[0].removed, 2u) << "b/bb-stale and b/cc-stale, now between listed keys";
  rows = sizes_of(*store, "disk");
  EXPECT_FALSE(rows.count("b/bb-stale"));
  EXPECT_TRUE(rows.count("b/ee-stale"));
  EXPECT_TRUE(rows.count("b/zz-stale"));
}

}  // namespace
}  // namespace s3reconcile::testing
