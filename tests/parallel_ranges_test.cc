// Parallel key ranges and the pipelined pass, on real parts (a folder, a
// SQLite index): the result is the one a single sequential range gives, key
// for key; range planning; and the safety rules still hold with ranges.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "fakes.h"
#include "s3reconcile/local_backend.h"
#include "s3reconcile/range_plan.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/sqlite_store.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::TempDir;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(24);
const std::vector<std::string> kBuckets = {"b", "c"};

// Pieces whose byte order differs from most locales' order.
const std::vector<std::string> kPieces = {"a", "A", "-", "_", "0", "~", " ", "\xc3\xa9", "a-b", "Z"};

// One generated world: files in a folder, and index rows (some matching,
// some stale, some missing) for the same keys.
struct World {
  std::vector<std::string> files;                               // relative paths
  std::vector<std::tuple<std::string, std::string, int>> rows;  // object key, storage key, size
};

World make_world(std::mt19937& rng, int files, bool with_index) {
  World w;
  std::uniform_int_distribution<int> piece(0, static_cast<int>(kPieces.size()) - 1), depth(0, 2), pct(0, 99);
  std::set<std::string> seen;
  for (int i = 0; i < files; ++i) {
    const int where = pct(rng);
    // Folders end in "d" and files in "f<n>", so no path is both.
    std::string path = where < 70 ? "b/" : where < 85 ? "c/" : "";  // the rest are unprefixed: adopted into b
    for (int d = depth(rng); d > 0; --d) path += kPieces[piece(rng)] + "d/";
    path += kPieces[piece(rng)] + "f" + std::to_string(i % 37);
    if (!seen.insert(path).second) continue;
    w.files.push_back(path);
  }
  // A raw key whose prefixed twin also exists: a collision, never imported.
  w.files.push_back("af0");
  w.files.push_back("b/af0");
  if (!with_index) return w;
  for (const auto& f : w.files) {
    const bool raw = !f.starts_with("b/") && !f.starts_with("c/");
    const std::string key = raw ? "b/" + f : f;
    if (pct(rng) < 65) w.rows.emplace_back(key, f, 1);
  }
  for (int i = 0; i < files / 5; ++i) {  // stale: no such file
    const std::string key = (pct(rng) < 80 ? "b/" : "c/") + kPieces[piece(rng)] + "gone" + std::to_string(i);
    w.rows.emplace_back(key, key, 1);
  }
  return w;
}

std::unique_ptr<IndexStore> open_index(const std::string& path) {
  auto store = open_sqlite_store(SqliteStoreOptions{path});
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(*store) : nullptr;
}

void seed(IndexStore& store, const World& w) {
  std::vector<IndexChange> changes;
  for (const auto& [key, storage, size] : w.rows) {
    changes.push_back({IndexChange::Kind::kImport, Entry{key, storage, size, std::nullopt}, kOld});
  }
  auto applied = store.apply_changes("disk", changes, Clock::now());
  ASSERT_TRUE(applied.ok()) << applied.status().to_string();
}

using Rows = std::vector<std::tuple<std::string, std::string, std::int64_t>>;

Rows all_rows(IndexStore& store) {
  Rows out;
  auto rows = list_rows_by_storage_key(store, "disk", RowPosition{}, 1000000, KeyRange{});
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  if (rows.ok()) {
    for (const auto& r : *rows) out.emplace_back(r.object_key, r.storage_key, r.size_bytes);
  }
  return out;
}

// What a pass did, in a form two passes can be compared by.
struct Outcome {
  std::set<std::pair<int, std::string>> changes;  // (action, key)
  std::vector<Result> results;
  Rows rows;
};

std::shared_ptr<spdlog::logger> quiet() { return std::make_shared<spdlog::logger>("quiet"); }

// Runs one pass over the whole backend; `parallelism` 0 means the plain
// sequential pass (no open_store: one range, one connection, one step after
// another).
Outcome run_world(const std::string& root, const std::string& db, std::size_t parallelism, std::size_t page = 3) {
  LocalBackend backend(LocalBackendOptions{root, page});
  BackendRef ref{"disk", &backend, &backend, kBuckets, true};
  auto store = open_index(db);
  Outcome out;
  std::mutex mu;
  PassOptions options;
  options.page_size = page;
  options.queue_size = 2;
  options.batch_size = 4;
  options.logger = quiet();
  options.on_change = [&](ChangeAction a, const Entry& e) {
    std::lock_guard lock(mu);
    EXPECT_TRUE(out.changes.emplace(static_cast<int>(a), e.key).second) << "changed twice: " << e.key;
    return ok_status();
  };
  if (parallelism > 0) {
    options.parallelism = parallelism;
    options.open_store = [db]() { return open_sqlite_store(SqliteStoreOptions{db}); };
  }
  out.results.push_back(reconcile_backend(ref, kBuckets, *store, options));
  EXPECT_TRUE(out.results.back().status.ok()) << out.results.back().status.to_string();
  out.rows = all_rows(*store);
  return out;
}

void expect_same_counts(const PassCounts& a, const PassCounts& b, const std::string& what) {
  EXPECT_EQ(a.listed, b.listed) << what;
  EXPECT_EQ(a.rows, b.rows) << what;
  EXPECT_EQ(a.imported, b.imported) << what;
  EXPECT_EQ(a.removed, b.removed) << what;
  EXPECT_EQ(a.already_present, b.already_present) << what;
  EXPECT_EQ(a.raced, b.raced) << what;
  EXPECT_EQ(a.collisions, b.collisions) << what;
  EXPECT_EQ(a.import_failed + a.delete_failed, b.import_failed + b.delete_failed) << what;
}

TEST(ParallelRanges, SameResultAsOneSequentialRangeKeyForKey) {
  std::mt19937 rng(7);
  int trials = 0, split_passes = 0;
  for (int trial = 0; trial < 8; ++trial) {
    const bool with_index = trial % 4 != 3;  // every fourth: an empty index, split by the listing
    World world = make_world(rng, 150 + 40 * trial, with_index);
    TempDir dir;
    for (const auto& f : world.files) dir.write(f);
    TempDir dbs;
    const std::string reference_db = (dbs.path() / "reference.db").string();
    seed(*open_index(reference_db), world);
    const Outcome reference = run_world(dir.str(), reference_db, 0);
    ASSERT_FALSE(reference.changes.empty());
    for (std::size_t k : {1u, 2u, 3u, 8u, 16u}) {
      const std::string db = (dbs.path() / fmt::format("k{}.db", k)).string();
      seed(*open_index(db), world);
      const Outcome parallel = run_world(dir.str(), db, k);
      const std::string what = fmt::format("trial {} K={}", trial, k);
      EXPECT_EQ(parallel.rows, reference.rows) << what;
      EXPECT_EQ(parallel.changes, reference.changes) << what;
      ASSERT_EQ(parallel.results.size(), reference.results.size());
      for (std::size_t i = 0; i < parallel.results.size(); ++i) {
        expect_same_counts(parallel.results[i], reference.results[i], what);
        for (const auto& [bucket, counts] : reference.results[i].buckets) {
          ASSERT_TRUE(parallel.results[i].buckets.count(bucket)) << what << " bucket " << bucket;
          expect_same_counts(parallel.results[i].buckets.at(bucket), counts, what + " bucket " + bucket);
        }
        EXPECT_LE(parallel.results[i].ranges, k) << what;
        if (k > 1 && parallel.results[i].ranges > 1) ++split_passes;
      }
      if (k > 1) {
        EXPECT_GT(parallel.results[0].ranges, 1u) << what << ": bucket b was not split";
      }
    }
    ++trials;
  }
  std::cout << "parallel range trials: " << trials << ", split passes: " << split_passes << "\n";
}

TEST(ParallelRanges, EmptyListingRunsAsOneRangeAndTheGuardStillHolds) {
  TempDir dir;
  dir.write("objects/c/only-a-sibling");
  TempDir dbs;
  const std::string db = (dbs.path() / "index.db").string();
  auto store = open_index(db);
  World w;
  for (int i = 0; i < 50; ++i) w.rows.emplace_back(fmt::format("b/k{:02}", i), fmt::format("b/k{:02}", i), 1);
  seed(*store, w);
  LocalBackend backend(LocalBackendOptions{(dir.path() / "objects").string(), 5});
  BackendRef ref{"disk", &backend, &backend, kBuckets, false};
  PassOptions options;
  options.logger = quiet();
  options.parallelism = 8;
  options.open_store = [db]() { return open_sqlite_store(SqliteStoreOptions{db}); };
  Result r = reconcile_backend(ref, kBuckets, *store, options, PassScope{"b"});
  EXPECT_EQ(r.status.code(), StatusCode::kAborted) << r.status.to_string();
  EXPECT_EQ(r.ranges, 1u);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(all_rows(*store).size(), 50u);
}

// Fails the n-th listing page (counted over every walk) of a folder.
class FailingLister final : public ObjectLister {
 public:
  FailingLister(ObjectLister& inner, std::size_t fail_page) : inner_(inner), fail_page_(fail_page) {}
  Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) override {
    Status failure;
    Status walked = inner_.list(
        request,
        [&](std::vector<ListedObject>& page, bool last) {
          if (pages_.fetch_add(1) == fail_page_) {
            failure = unavailable_error(fmt::format("injected failure of page {}", fail_page_));
            return false;
          }
          return on_page(page, last);
        },
        stop);
    return failure.ok() ? walked : failure;
  }
  StatusOr<std::vector<std::string>> list_top_level(const std::string& prefix, char delimiter,
                                                    std::stop_token stop) override {
    return inner_.list_top_level(prefix, delimiter, stop);
  }

 private:
  ObjectLister& inner_;
  const std::size_t fail_page_;
  std::atomic<std::size_t> pages_{0};
};

TEST(ParallelRanges, AFailingRangeFailsThePassAndNoRowOfAnExistingObjectIsLost) {
  std::mt19937 rng(11);
  int trials = 0;
  for (int trial = 0; trial < 12; ++trial) {
    World world = make_world(rng, 200, true);
    TempDir dir;
    for (const auto& f : world.files) dir.write(f);
    TempDir dbs;
    const std::string db = (dbs.path() / "index.db").string();
    auto store = open_index(db);
    seed(*store, world);
    std::set<std::string> existing;  // rows whose object is there
    for (const auto& [key, storage, size] : world.rows) {
      if (std::find(world.files.begin(), world.files.end(), storage) != world.files.end()) existing.insert(key);
    }
    LocalBackend local(LocalBackendOptions{dir.str(), 3});
    FailingLister lister(local, std::uniform_int_distribution<std::size_t>(1, 40)(rng));
    BackendRef ref{"disk", &lister, &local, kBuckets, true};
    PassOptions options;
    options.logger = quiet();
    options.page_size = 3;
    options.batch_size = 2;
    options.parallelism = 1 + trial % 8;
    options.open_store = [db]() { return open_sqlite_store(SqliteStoreOptions{db}); };
    Result r = reconcile_backend(ref, kBuckets, *store, options, PassScope{"b"});
    ASSERT_FALSE(r.status.ok()) << "trial " << trial << ": the injected failure went unnoticed";
    EXPECT_NE(r.status.message().find("injected failure"), std::string::npos) << r.status.to_string();
    std::set<std::string> left;
    for (const auto& row : all_rows(*store)) left.insert(std::get<0>(row));
    for (const auto& key : existing) ASSERT_TRUE(left.count(key)) << "trial " << trial << ": lost " << key;
    ++trials;
  }
  std::cout << "failing range trials: " << trials << "\n";
}

// Probes that take a while, counting how many run at once.
class SlowProber final : public ObjectProber {
 public:
  explicit SlowProber(ObjectProber& inner) : inner_(inner) {}
  StatusOr<std::optional<ObjectInfo>> probe(std::string_view key, std::stop_token stop) override {
    const int now = ++in_flight_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto answer = inner_.probe(key, stop);
    --in_flight_;
    return answer;
  }
  int most() const { return most_.load(); }

 private:
  ObjectProber& inner_;
  std::atomic<int> in_flight_{0}, most_{0};
};

// `n` index rows "b/k000".. whose even-numbered objects are in `dir`: the
// odd ones are stale rows.
World half_stale(TempDir& dir, int n) {
  World w;
  for (int i = 0; i < n; ++i) {
    const std::string key = fmt::format("b/k{:03}", i);
    if (i % 2 == 0) dir.write(key);
    w.rows.emplace_back(key, key, 1);
  }
  return w;
}

// A prober that takes several keys at once (as S3's does, on a curl multi
// handle), recording the batches and the threads that asked.
class BatchingProber final : public ObjectProber {
 public:
  explicit BatchingProber(ObjectProber& inner) : inner_(inner) {}
  StatusOr<std::optional<ObjectInfo>> probe(std::string_view key, std::stop_token stop) override {
    return inner_.probe(key, stop);
  }
  std::vector<StatusOr<std::optional<ObjectInfo>>> probe_many(std::span<const std::string> keys,
                                                              std::stop_token stop) override {
    {
      std::lock_guard lock(mu_);
      batches_.push_back(keys.size());
      threads_.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // candidates queue up meanwhile
    return ObjectProber::probe_many(keys, stop);
  }
  bool probes_many_at_once() const override { return true; }
  std::vector<std::size_t> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::set<std::thread::id> threads() const {
    std::lock_guard lock(mu_);
    return threads_;
  }

 private:
  ObjectProber& inner_;
  mutable std::mutex mu_;
  std::vector<std::size_t> batches_;
  std::set<std::thread::id> threads_;
};

TEST(PipelinedPass, AProberThatAsksManyAtOnceIsGivenUpToProbeConcurrencyCandidatesFromOneThread) {
  TempDir dir;
  TempDir dbs;
  const std::string db = (dbs.path() / "index.db").string();
  auto reader = open_index(db);
  World w = half_stale(dir, 80);
  seed(*reader, w);
  LocalBackend local(LocalBackendOptions{dir.str(), 4});
  BatchingProber prober(local);
  BackendRef ref{"disk", &local, &prober, kBuckets, false};
  PassOptions options;
  options.logger = quiet();
  options.page_size = 4;
  options.probe_concurrency = 6;
  options.open_store = [&]() -> StatusOr<std::unique_ptr<IndexStore>> { return open_index(db); };
  Result r = reconcile_backend(ref, kBuckets, *reader, options, PassScope{"b"});
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.removed, 40u);
  EXPECT_EQ(all_rows(*reader).size(), 40u);
  std::size_t asked = 0, largest = 0;
  for (std::size_t n : prober.batches()) {
    asked += n;
    largest = std::max(largest, n);
  }
  EXPECT_EQ(asked, 40u) << "every stale row asked about once";
  EXPECT_GT(largest, 1u) << "the candidates were asked about one at a time";
  EXPECT_LE(largest, 6u) << "more at once than probe_concurrency";
  // The worker waits for a whole batch: only the last, at the end, is short.
  EXPECT_EQ(prober.batches(), (std::vector<std::size_t>{6, 6, 6, 6, 6, 6, 4}));
  EXPECT_EQ(prober.threads().size(), 1u) << "one worker asks, not one per candidate";
}

// Records which threads list the index and which write it.
class ThreadRecordingStore final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status list_by_storage_key(std::string_view b, const RowPosition& a, std::size_t l, const KeyRange& r,
                             std::vector<IndexRow>& rows) override {
    note(list_threads_);
    return ForwardingStore::list_by_storage_key(b, a, l, r, rows);
  }
  void list_by_storage_key_next(std::string_view b, const RowPosition& a, std::size_t l, const KeyRange& r) override {
    note(announce_threads_);
    ++announced_;
    ForwardingStore::list_by_storage_key_next(b, a, l, r);
  }
  // Queries announced ahead, and by which threads.
  int announced() const { return announced_; }
  std::set<std::thread::id> announce_threads() const {
    std::lock_guard lock(mu_);
    return announce_threads_;
  }
  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view b, std::span<const IndexChange> c,
                                                    Clock::time_point t) override {
    note(write_threads_);
    return ForwardingStore::apply_changes(b, c, t);
  }
  std::set<std::thread::id> list_threads() const {
    std::lock_guard lock(mu_);
    return list_threads_;
  }
  std::set<std::thread::id> write_threads() const {
    std::lock_guard lock(mu_);
    return write_threads_;
  }

 private:
  void note(std::set<std::thread::id>& into) {
    std::lock_guard lock(mu_);
    into.insert(std::this_thread::get_id());
  }
  mutable std::mutex mu_;
  std::set<std::thread::id> list_threads_, write_threads_, announce_threads_;
  std::atomic<int> announced_ = 0;
};

// The index is read on the merge's thread, each page announced to the store
// as soon as the one before it is read, unless index_read_ahead asks for a
// thread of its own; either way removals are confirmed concurrently and
// batches written off the merge's thread.
TEST(PipelinedPass, ConfirmsRemovalsConcurrentlyWritesOffTheMergeThreadAndReadsAheadWhenAsked) {
  for (const bool read_ahead : {false, true}) {
    SCOPED_TRACE(read_ahead ? "index_read_ahead" : "no index_read_ahead");
    TempDir dir;
    TempDir dbs;
    const std::string db = (dbs.path() / "index.db").string();
    auto reader = open_index(db);
    World w = half_stale(dir, 60);
    for (int i = 0; i < 30; ++i) dir.write(fmt::format("b/new{:03}", i));  // orphans
    seed(*reader, w);
    ThreadRecordingStore cursor_store(*reader);
    auto writer = open_index(db);
    auto recording_writer = std::make_shared<ThreadRecordingStore>(*writer);
    LocalBackend local(LocalBackendOptions{dir.str(), 4});
    SlowProber prober(local);
    BackendRef ref{"disk", &local, &prober, kBuckets, false};
    PassOptions options;
    options.logger = quiet();
    options.page_size = 4;
    options.batch_size = 5;
    options.probe_concurrency = 6;
    options.index_read_ahead = read_ahead;
    bool opened = false;
    options.open_store = [&]() -> StatusOr<std::unique_ptr<IndexStore>> {
      EXPECT_FALSE(opened) << "one range: only the writer needs a connection of its own";
      opened = true;
      return std::unique_ptr<IndexStore>(
          std::make_unique<testing::ForwardingStore>(static_cast<IndexStore&>(*recording_writer)));
    };
    const auto merge_thread = std::this_thread::get_id();
    Result r = reconcile_backend(ref, kBuckets, cursor_store, options, PassScope{"b"});
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    EXPECT_EQ(r.removed, 30u);
    EXPECT_EQ(r.imported, 30u);
    EXPECT_GT(prober.most(), 1) << "removal confirmations ran one at a time";
    EXPECT_LE(prober.most(), 2 * 6) << "more confirmations in flight than probe_concurrency allows for";
    if (read_ahead) {
      // Pages after the first are read ahead, on another thread than the merge's.
      EXPECT_GT(cursor_store.list_threads().size(), 1u);
      EXPECT_EQ(cursor_store.announced(), 0);
    } else {
      EXPECT_EQ(cursor_store.list_threads(), std::set<std::thread::id>{merge_thread});
      // 60 rows in pages of 4: every query after the first announced.
      EXPECT_EQ(cursor_store.announced(), 15);
      EXPECT_EQ(cursor_store.announce_threads(), std::set<std::thread::id>{merge_thread});
    }
    EXPECT_TRUE(cursor_store.write_threads().empty()) << "the cursor's connection was written to";
    ASSERT_FALSE(recording_writer->write_threads().empty());
    EXPECT_FALSE(recording_writer->write_threads().count(merge_thread)) << "batches were written by the merge thread";
    EXPECT_EQ(all_rows(*reader).size(), 60u);
  }
}

// With batch_size 1 the cursor's connection also takes the writes, which
// would stand between an announced query and its answer: nothing is
// announced, and the pass still does its work.
TEST(PipelinedPass, AWalkOnOneConnectionAnnouncesNothing) {
  TempDir dir;
  TempDir dbs;
  auto index = open_index((dbs.path() / "index.db").string());
  World w = half_stale(dir, 20);
  seed(*index, w);
  ThreadRecordingStore store(*index);
  LocalBackend local(LocalBackendOptions{dir.str(), 4});
  BackendRef ref{"disk", &local, &local, kBuckets, false};
  PassOptions options;
  options.logger = quiet();
  options.page_size = 4;
  options.batch_size = 1;
  Result r = reconcile_backend(ref, kBuckets, store, options, PassScope{"b"});
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(r.removed, 10u);
  EXPECT_FALSE(store.list_threads().empty()) << "the pass did not read through this store";
  EXPECT_EQ(store.announced(), 0);
}

TEST(RangePlan, IntervalsBetweenBoundariesHoldEveryKeyOnce) {
  EXPECT_EQ(intervals_between({}).size(), 1u);
  const auto ranges = intervals_between({"b/g", "b/p"});
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].after, "");
  EXPECT_EQ(ranges[0].through, "b/g");
  EXPECT_EQ(ranges[1].after, "b/g");
  EXPECT_EQ(ranges[1].through, "b/p");
  EXPECT_EQ(ranges[2].after, "b/p");
  EXPECT_EQ(ranges[2].through, "");
}

TEST(RangePlan, SplitsAtTheIndexQuantilesFirst) {
  TempDir dbs;
  auto store = open_index((dbs.path() / "index.db").string());
  World w;
  for (int i = 0; i < 100; ++i) w.rows.emplace_back(fmt::format("b/k{:03}", i), fmt::format("b/k{:03}", i), 1);
  seed(*store, w);
  TempDir dir;
  LocalBackend local(LocalBackendOptions{dir.str(), 10});
  auto plan = plan_ranges(*store, local, "disk", "b/", 4, {});
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->source, RangePlan::Source::kIndex);
  ASSERT_EQ(plan->ranges.size(), 4u);
  EXPECT_EQ(plan->ranges[0].through, "b/k024");
  EXPECT_EQ(plan->ranges[3].after, "b/k074");
}

TEST(RangePlan, AnEmptyIndexSplitsAtTheListingsNamesDescendingThroughALoneFolder) {
  TempDir dbs;
  auto store = open_index((dbs.path() / "index.db").string());
  TempDir dir;
  for (const char* d : {"2021", "2022", "2023", "2024"}) {
    for (int i = 0; i < 3; ++i) dir.write(fmt::format("b/data/{}/f{}", d, i));
  }
  LocalBackend local(LocalBackendOptions{dir.str(), 10});
  auto plan = plan_ranges(*store, local, "disk", "b/", 2, {});
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->source, RangePlan::Source::kListing);
  ASSERT_EQ(plan->ranges.size(), 2u);
  // Cut where the third folder starts: 2021 and 2022 before it, 2023 and 2024 after.
  EXPECT_EQ(plan->ranges[0].through, "b/data/2023/");
  // Asking for more parts than there are names: one per name at most.
  auto many = plan_ranges(*store, local, "disk", "b/", 16, {});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->ranges.size(), 4u);
  // One part: no question asked.
  auto one = plan_ranges(*store, local, "disk", "b/", 1, {});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->source, RangePlan::Source::kWhole);
}

TEST(RangePlan, APlannerThatCanDoNeitherPlansOneRange) {
  testing::FakeStore store;                              // split_keys: UNIMPLEMENTED
  testing::FakeLister lister({{"b/x", 1}, {"b/y", 1}});  // list_top_level: UNIMPLEMENTED
  auto plan = plan_ranges(store, lister, "disk", "b/", 8, {});
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->source, RangePlan::Source::kWhole);
  EXPECT_EQ(plan->ranges.size(), 1u);
}

}  // namespace
}  // namespace s3reconcile
