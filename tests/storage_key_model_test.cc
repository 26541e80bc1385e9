// The storage-key walk against a reference model: plain set operations on
// paths, on random trees that mix every layout an index may describe
// (native keys of three buckets, unprefixed keys, per-write paths "k!w<n>",
// content-addressed rows under cas/, rows sharing a path, adopted keys
// colliding with native ones, paths the service is deleting), with orphans
// imported or reported, in one range and in four. Real parts: a folder and a
// SQLite index.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "fakes.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/local_backend.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/sqlite_store.h"
#include "support/fake_s3.h"
#include "support/sqlite_exec.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::KeySet;
using testing::TempDir;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(24);
const std::vector<std::string> kOnBackend = {"photos", "docs", "music"};       // photos is the default
const std::vector<std::string> kKnown = {"photos", "docs", "music", "other"};  // other: stored elsewhere
constexpr const char* kPendingQuery = "SELECT 1 FROM cleanup_queue WHERE storage_key = $1 AND backend_name = $2";

struct Row {
  std::string key, path;
  bool operator<(const Row& o) const { return std::tie(path, key) < std::tie(o.path, o.key); }
  bool operator==(const Row& o) const = default;
};

// One generated world: the folder's files, the index's rows, the paths
// queued for deletion by the service.
struct World {
  KeySet files;
  std::set<Row> rows;
  KeySet queued;
};

World make_world(std::mt19937& rng, int size) {
  World w;
  std::uniform_int_distribution<int> pct(0, 99), bucket(0, 2), id(0, 9);
  auto name = [&](const char* kind, int i) { return fmt::format("{}{}{}", kind, i, pct(rng) < 10 ? "\xc3\xa9" : ""); };
  auto some_bucket = [&] { return kOnBackend[static_cast<std::size_t>(bucket(rng))]; };
  for (int i = 0; i < size; ++i) {
    const int what = pct(rng);
    const std::string b = some_bucket();
    if (what < 30) {  // a native key: indexed, orphan, or stale
      const std::string path = b + "/n/" + name("n", i);
      const int fate = pct(rng);
      if (fate < 80) w.files.insert(path);
      if (fate < 50 || fate >= 80) w.rows.insert({path, path});
    } else if (what < 45) {  // a per-write path: the row names the object, the path its bytes
      const std::string key = b + "/v/" + name("v", i);
      const std::string path = fmt::format("{}!w{}", key, id(rng));
      const int fate = pct(rng);
      if (fate < 80) w.files.insert(path);
      if (fate < 60 || fate >= 80) w.rows.insert({key, path});
    } else if (what < 55) {  // content addressed: an unprefixed path under cas/
      const std::string path = fmt::format("cas/{:08x}", static_cast<unsigned>(rng()));
      const int fate = pct(rng);
      if (fate < 80) w.files.insert(path);
      if (fate < 60 || fate >= 80) w.rows.insert({b + "/i/" + name("i", i), path});
    } else if (what < 62) {  // two rows share one path (copies known under two names)
      const std::string path = b + "/s/" + name("s", i);
      if (pct(rng) < 70) w.files.insert(path);
      w.rows.insert({path, path});
      w.rows.insert({b + "/s-copy/" + name("s", i), path});
    } else if (what < 77) {  // an unprefixed key: adopted (or not), orphan or indexed
      const std::string path = "loose/" + name("u", i);
      const int fate = pct(rng);
      if (fate < 80) w.files.insert(path);
      if (fate < 40 || fate >= 80) w.rows.insert({"photos/" + path, path});
    } else if (what < 84) {  // an unprefixed key whose prefixed twin exists on the backend
      // Before "photos/" in byte order half the time: the prefixed object must
      // win whichever of the two the walk meets first.
      const std::string raw = (i % 2 ? "a-twin/" : "twin/") + name("t", i);
      w.files.insert(raw);
      w.files.insert("photos/" + raw);
      if (pct(rng) < 50) w.rows.insert({"photos/" + raw, "photos/" + raw});
    } else if (what < 88) {  // an unprefixed key whose adopted name is a row pointing elsewhere
      const std::string raw = "taken/" + name("k", i);
      w.files.insert(raw);
      w.files.insert("photos/" + raw + "!w1");
      w.rows.insert({"photos/" + raw, "photos/" + raw + "!w1"});
    } else if (what < 93) {  // a path the service is deleting: never imported
      const std::string path = pct(rng) < 50 ? b + "/q/" + name("q", i) : "queued/" + name("q", i);
      w.files.insert(path);
      w.queued.insert(path);
    } else {  // a bucket stored elsewhere: out of this pass on both sides
      const std::string path = "other/" + name("o", i);
      if (pct(rng) < 50) w.files.insert(path);
      if (pct(rng) < 50) w.rows.insert({path, path});
    }
  }
  return w;
}

// What a pass over the world must do, by set operations on paths.
struct Expected {
  std::set<Row> rows;                                           // the index afterwards
  std::set<std::tuple<int, std::string, std::string>> changes;  // (action, key, path)
  std::map<std::string, PassCounts> buckets;
  PassCounts totals;
};

Expected model(const World& w, bool adopt, bool import_orphans) {
  const PathClassifier classify(kOnBackend, kKnown, adopt);
  auto covered = [&](const std::string& path) { return classify.classify(path).kind != PathClassifier::Kind::kOut; };
  Expected e;
  e.rows = w.rows;
  auto count = [&](const std::string& bucket, std::uint64_t PassCounts::*field) {
    ++(e.totals.*field);
    ++(e.buckets[bucket].*field);
  };
  KeySet indexed_paths, indexed_keys;
  for (const auto& r : w.rows) {
    indexed_keys.insert(r.key);
    if (!covered(r.path)) continue;
    indexed_paths.insert(r.path);
    const std::string bucket(classify.bucket_of_key(r.key));
    count(bucket, &PassCounts::rows);
    if (!w.files.count(r.path)) {  // stale: confirmed absent, removed
      count(bucket, &PassCounts::removed);
      e.rows.erase(r);
      e.changes.emplace(static_cast<int>(ChangeAction::kRemove), r.key, r.path);
    }
  }
  for (const auto& path : w.files) {
    if (!covered(path)) continue;
    const auto c = classify.classify(path);
    const std::string bucket(c.bucket);
    count(bucket, &PassCounts::listed);
    if (indexed_paths.count(path)) continue;
    const bool adopted = c.kind == PathClassifier::Kind::kAdopted;
    const std::string key = adopted ? bucket + "/" + path : path;
    if (!import_orphans) {
      count(bucket, &PassCounts::orphans_reported);
      e.changes.emplace(static_cast<int>(ChangeAction::kOrphan), key, path);
    } else if (adopted && w.files.count(key)) {
      count(bucket, &PassCounts::collisions);  // the prefixed object wins
    } else if (w.queued.count(path)) {
      count(bucket, &PassCounts::pending_delete);
    } else if (indexed_keys.count(key)) {
      count(bucket, adopted ? &PassCounts::collisions : &PassCounts::already_present);
    } else {
      count(bucket, &PassCounts::imported);
      e.rows.insert({key, path});
      e.changes.emplace(static_cast<int>(ChangeAction::kImport), key, path);
    }
  }
  return e;
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

StatusOr<std::unique_ptr<IndexStore>> open_index(const std::string& db) {
  SqliteStoreOptions options{db};
  options.pending_delete_query = kPendingQuery;
  return open_sqlite_store(options);
}

// A fresh index holding the world's rows (and another backend's), and its
// deletion queue.
void seed(const std::string& db, const World& w) {
  ASSERT_TRUE(
      testing::exec_on(db, "CREATE TABLE cleanup_queue (storage_key TEXT NOT NULL, backend_name TEXT NOT NULL)").ok());
  for (const auto& path : w.queued) {
    ASSERT_TRUE(testing::exec_on(db, "INSERT INTO cleanup_queue VALUES (" + quoted(path) + ", 'disk')").ok());
  }
  auto store = open_index(db);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  std::vector<IndexChange> changes;
  // One byte, as every file of the world: sizes agree, size drift is not this model's subject.
  for (const auto& r : w.rows)
    changes.push_back({IndexChange::Kind::kImport, testing::entry_at(r.key, r.path, 1), kOld});
  changes.push_back({IndexChange::Kind::kImport, testing::entry("photos/n/n1"), kOld});
  auto applied = (*store)->apply_changes("disk", std::span(changes).first(changes.size() - 1), Clock::now());
  ASSERT_TRUE(applied.ok()) << applied.status().to_string();
  ASSERT_TRUE((*store)->apply_changes("elsewhere", std::span(changes).last(1), Clock::now()).ok());
}

std::set<Row> index_rows(IndexStore& store, const std::string& backend) {
  std::set<Row> out;
  auto rows = list_rows_by_storage_key(store, backend, RowPosition{}, 1000000, KeyRange{});
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  if (rows.ok()) {
    for (const auto& r : *rows) out.insert({r.object_key, r.storage_key});
  }
  return out;
}

void expect_counts(const PassCounts& got, const PassCounts& want, const std::string& what) {
  want.for_each([&](std::string_view name, std::uint64_t value) {
    std::uint64_t actual = 0;
    got.for_each([&](std::string_view n, std::uint64_t v) {
      if (n == name) actual = v;
    });
    EXPECT_EQ(actual, value) << what << ": " << name;
  });
}

TEST(StorageKeyModel, OneWalkPerBackendMatchesSetDifferencesOnPaths) {
  std::mt19937 rng(20261201);
  int trials = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const bool import_orphans = trial % 3 != 2;
    const bool adopt = trial % 4 != 3;
    const World world = make_world(rng, 120 + 30 * trial);
    TempDir dir;
    for (const auto& f : world.files) dir.write("objects/" + f);
    const Expected expected = model(world, adopt, import_orphans);
    for (std::size_t k : {0u, 1u, 4u}) {  // 0: sequential, no pipeline; 1 and 4: pipelined ranges
      const std::string what = fmt::format("trial {} adopt={} import={} K={}", trial, adopt, import_orphans, k);
      const std::string db = (dir.path() / fmt::format("k{}.db", k)).string();
      seed(db, world);
      auto store = open_index(db);
      ASSERT_TRUE(store.ok()) << store.status().to_string();
      LocalBackend local(LocalBackendOptions{(dir.path() / "objects").string(), 7});
      BackendRef backend{"disk", &local, &local, kOnBackend, adopt, import_orphans};
      PassOptions options;
      options.page_size = 5;
      options.queue_size = 3;
      options.batch_size = 4;
      options.logger = std::make_shared<spdlog::logger>("quiet");
      std::mutex mu;
      std::set<std::tuple<int, std::string, std::string>> changes;
      options.on_change = [&](ChangeAction a, const Entry& e) {
        std::lock_guard lock(mu);
        EXPECT_TRUE(changes.emplace(static_cast<int>(a), e.key, e.storage_key).second) << what << " twice: " << e.key;
        return ok_status();
      };
      if (k > 0) {
        options.parallelism = k;
        options.open_store = [db] { return open_index(db); };
      }
      const Result r = reconcile_backend(backend, kKnown, **store, options);
      ASSERT_TRUE(r.status.ok()) << what << ": " << r.status.to_string();
      EXPECT_EQ(index_rows(**store, "disk"), expected.rows) << what;
      EXPECT_EQ(index_rows(**store, "elsewhere").size(), 1u) << what << ": another backend's row";
      EXPECT_EQ(changes, expected.changes) << what;
      expect_counts(r.totals(), expected.totals, what);
      for (const auto& [bucket, counts] : expected.buckets) {
        ASSERT_TRUE(r.buckets.count(bucket)) << what << ": no counts for bucket " << bucket;
        expect_counts(r.buckets.at(bucket), counts, what + " bucket " + bucket);
      }
      EXPECT_EQ(r.buckets.size(), expected.buckets.size()) << what;
      if (k == 4) {
        EXPECT_GT(r.ranges, 1u) << what << ": the pass was not split";
      }
      // A second pass finds nothing left to do, whatever the layout.
      options.on_change = nullptr;
      const Result again = reconcile_backend(backend, kKnown, **store, options);
      ASSERT_TRUE(again.status.ok()) << what;
      EXPECT_EQ(again.imported + again.removed, 0u) << what;
    }
    ++trials;
  }
  std::cout << "storage-key model trials: " << trials << " x K in {sequential, 1, 4}\n";
}

// The walk lists the backend once whatever the number of virtual buckets
// on it: three buckets and unprefixed keys, each key handed over once.
TEST(StorageKeyModel, APassListsEachKeyOnce) {
  class CountingLister final : public ObjectLister {
   public:
    explicit CountingLister(ObjectLister& inner) : inner_(inner) {}
    Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) override {
      ++walks;
      return inner_.list(
          request,
          [&](std::vector<ListedObject>& page, bool last) {
            ++pages;
            keys += page.size();
            return on_page(page, last);
          },
          stop);
    }
    ObjectLister& inner_;
    int walks = 0;
    std::size_t pages = 0, keys = 0;
  };
  TempDir dir;
  for (int i = 0; i < 30; ++i) {
    dir.write(fmt::format("objects/{}/k{:02}", kOnBackend[static_cast<std::size_t>(i % 3)], i));
    dir.write(fmt::format("objects/loose{:02}", i));
  }
  auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
  ASSERT_TRUE(store.ok());
  LocalBackend local(LocalBackendOptions{(dir.path() / "objects").string(), 10});
  CountingLister counting(local);
  BackendRef backend{"disk", &counting, &local, kOnBackend, true};
  PassOptions options;
  options.logger = std::make_shared<spdlog::logger>("quiet");
  const Result r = reconcile_backend(backend, kKnown, **store, options);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(counting.walks, 1);
  EXPECT_EQ(counting.keys, 60u);
  EXPECT_EQ(counting.pages, 6u);  // ceil(60 / 10)
  EXPECT_EQ(r.api_pages, 6u);
  EXPECT_EQ(r.imported, 60u);
  for (const auto& b : kOnBackend) EXPECT_EQ(r.buckets.at(b).listed, b == "photos" ? 40u : 10u) << b;
}

// The same counted at an S3 server: one ListObjectsV2 request per page of
// the one walk, and HEADs only for the unprefixed orphans (each asked
// whether its prefixed twin exists before it is adopted).
TEST(StorageKeyModel, AnS3PassSendsOneListRequestPerPageOfOneWalk) {
  testing::FakeS3Bucket bucket;
  for (int i = 0; i < 30; ++i) {
    bucket.objects[fmt::format("{}/k{:02}", kOnBackend[static_cast<std::size_t>(i % 3)], i)] = 1;
    bucket.objects[fmt::format("loose{:02}", i)] = 1;
  }
  std::atomic<int> lists{0}, heads{0};
  testing::FakeHttpServer server([&](const testing::FakeRequest& r) {
    ++(r.method == "HEAD" ? heads : lists);
    return bucket.handle(r);
  });
  auto s3 = S3Backend::open(testing::fake_s3_options(server, 7));
  ASSERT_TRUE(s3.ok()) << s3.status().to_string();
  TempDir dir;
  auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
  ASSERT_TRUE(store.ok());
  BackendRef backend{"s3", s3->get(), s3->get(), kOnBackend, true};
  PassOptions options;
  options.logger = std::make_shared<spdlog::logger>("quiet");
  const Result r = reconcile_backend(backend, kKnown, **store, options);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_EQ(lists.load(), 9);  // ceil(60 / 7)
  EXPECT_EQ(r.api_pages, 9u);
  EXPECT_EQ(heads.load(), 30);  // one per unprefixed orphan
  EXPECT_EQ(r.imported, 60u);
  // The next pass finds every path indexed: the same pages, no HEAD at all.
  lists = 0;
  heads = 0;
  const Result again = reconcile_backend(backend, kKnown, **store, options);
  ASSERT_TRUE(again.status.ok());
  EXPECT_EQ(lists.load(), 9);
  EXPECT_EQ(heads.load(), 0);
}

}  // namespace
}  // namespace s3reconcile
