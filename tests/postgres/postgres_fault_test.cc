// Fault injection on PostgreSQL: the store's connection dropped
// (pg_terminate_backend) at a random moment of a pass, many times. Each time
// the pass fails with a clear error or completes, no row of an existing
// object is lost, and the next pass converges.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <random>

#include "fakes.h"
#include "postgres/pg_test_support.h"
#include "s3reconcile/local_backend.h"
#include "s3reconcile/postgres_store.h"
#include "s3reconcile/reconcile.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::KeySet;
using testing::TempDir;
using testing::TestDatabase;

KeySet index_keys(IndexStore& store) {
  KeySet out;
  auto rows = list_rows_by_storage_key(store, "disk", RowPosition{}, 1000000, KeyRange{});
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  if (rows.ok()) {
    for (const auto& r : *rows) out.insert(r.object_key);
  }
  return out;
}

// Drops every session of the test database just before its `drop_at`-th call.
class DroppingStore final : public testing::ForwardingStore {
 public:
  DroppingStore(IndexStore& inner, TestDatabase& db, int drop_at)
      : ForwardingStore(inner), db_(db), drop_at_(drop_at) {}
  Status list_by_storage_key(std::string_view b, const RowPosition& a, std::size_t l, const KeyRange& r,
                             std::vector<IndexRow>& rows) override {
    tick();
    return inner_.list_by_storage_key(b, a, l, r, rows);
  }
  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view b, std::span<const IndexChange> c,
                                                    Clock::time_point t) override {
    tick();
    return inner_.apply_changes(b, c, t);
  }
  bool dropped() const { return dropped_; }

 private:
  void tick() {
    if (++calls_ != drop_at_) return;
    auto killed = db_.terminate_sessions();
    EXPECT_TRUE(killed.ok()) << killed.status().to_string();
    dropped_ = true;
  }
  TestDatabase& db_;
  const int drop_at_;
  int calls_ = 0;
  bool dropped_ = false;
};

TEST(PostgresFaults, ConnectionDroppedAtARandomMomentLosesNoRow) {
  std::mt19937 rng(2026);
  int trials = 0, failed_passes = 0;
  for (int trial = 0; trial < 15; ++trial) {
    auto db = TestDatabase::create();
    if (!db.ok() && db.status().code() == StatusCode::kUnavailable) GTEST_SKIP() << db.status().message();
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    TempDir dir;
    auto store = open_postgres_store(PostgresStoreOptions{(*db)->dsn()});
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    KeySet existing, must_keep;
    for (int i = 0; i < 300; ++i) {
      const std::string key = fmt::format("bkt/{:03}", i);
      if (i % 3 != 0) {
        dir.write("objs/" + key);
        existing.insert(key);
      }
      if (i % 3 != 1) {
        ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry(key), Clock::now() - std::chrono::hours(1)).ok());
      }
      if (i % 3 == 2) must_keep.insert(key);
    }
    // About 20 index pages and 25 batches: drop somewhere among them.
    const int drop_at = std::uniform_int_distribution<int>(1, 45)(rng);
    Result r;
    bool dropped = false;
    {
      DroppingStore dropping(**store, **db, drop_at);
      LocalBackend local({(dir.path() / "objs").string(), 16});
      BackendRef ref{"disk", &local, &local, {"bkt"}, true};
      PassOptions options;
      options.page_size = 16;
      options.batch_size = 8;
      options.logger = std::make_shared<spdlog::logger>("quiet");
      r = reconcile_backend(ref, {"bkt"}, dropping, options, PassScope{"bkt"});
      dropped = dropping.dropped();
    }
    if (!r.status.ok()) {
      ++failed_passes;
      EXPECT_TRUE(dropped) << r.status.to_string();
      EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.to_string();
      EXPECT_NE(r.status.message().find("PostgreSQL connection lost"), std::string::npos) << r.status.message();
    }
    auto fresh = open_postgres_store(PostgresStoreOptions{(*db)->dsn()});
    ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
    const KeySet after = index_keys(**fresh);
    for (const auto& key : must_keep) {
      ASSERT_TRUE(after.count(key)) << "drop at call " << drop_at << ": row of existing object " << key << " lost";
    }
    LocalBackend local({(dir.path() / "objs").string(), 16});
    BackendRef ref{"disk", &local, &local, {"bkt"}, true};
    PassOptions options;
    options.logger = std::make_shared<spdlog::logger>("quiet");
    Result again = reconcile_backend(ref, {"bkt"}, **fresh, options, PassScope{"bkt"});
    ASSERT_TRUE(again.status.ok()) << again.status.to_string();
    ASSERT_EQ(index_keys(**fresh), existing);
    ++trials;
  }
  std::cout << "PostgreSQL connection-drop trials: " << trials << " (" << failed_passes
            << " passes failed on the lost connection)\n";
  EXPECT_GT(failed_passes, 0) << "no drop ever hit a pass: the test tests nothing";
}

}  // namespace
}  // namespace s3reconcile
