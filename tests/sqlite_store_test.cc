// The SQLite index store: schema, byte-order paging, import and removal rules.
#include "s3reconcile/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>

#include "fakes.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::KeySet;
using testing::TempDir;

std::unique_ptr<IndexStore> open(const TempDir& dir) {
  auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "index.db").string()});
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(*store) : nullptr;
}

const Clock::time_point kLongAgo = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);

std::vector<IndexRow> page_all(IndexStore& store, const std::string& backend, std::size_t page,
                               const KeyRange& range = {}) {
  std::vector<IndexRow> out;
  std::string after;
  while (true) {
    auto rows = store.list_by_backend_key_asc(backend, after, page, range);
    EXPECT_TRUE(rows.ok()) << rows.status().to_string();
    if (!rows.ok()) return out;
    EXPECT_LE(rows->size(), page);
    for (auto& r : *rows) out.push_back(r);
    if (rows->size() < page) return out;
    after = rows->back().object_key;
  }
}

TEST(SqliteStore, PagingReturnsEveryRowOnceInByteOrder) {
  TempDir dir;
  auto store = open(dir);
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {"a", "B", "-", "/", "~", "_", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\x7f", " "};
  std::uniform_int_distribution<int> len(1, 6), piece(0, static_cast<int>(pieces.size()) - 1);
  KeySet expected;
  for (int i = 0; i < 300; ++i) {
    std::string key;
    for (int n = len(rng); n > 0; --n) key += pieces[piece(rng)];
    if (!expected.insert(key).second) continue;
    ASSERT_TRUE(*store->insert_if_absent("disk", testing::entry(key, i), kLongAgo));
    ASSERT_TRUE(*store->insert_if_absent("other", testing::entry(key + "!", i), kLongAgo));
  }
  for (std::size_t page : {1, 2, 3, 1000}) {
    auto rows = page_all(*store, "disk", page);
    std::vector<std::string> got;
    for (const auto& r : rows) got.push_back(r.object_key);
    ASSERT_EQ(got, std::vector<std::string>(expected.begin(), expected.end())) << "page " << page;
  }
}

TEST(SqliteStore, RangeBoundsTheRows) {
  TempDir dir;
  auto store = open(dir);
  for (const char* k : {"a/1", "b", "b/1", "b/\xc3\xa9", "b0", "c/1"}) {
    ASSERT_TRUE(store->insert_if_absent("disk", testing::entry(k), kLongAgo).ok());
  }
  auto rows = page_all(*store, "disk", 2, KeyRange{"b/", "b0"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].object_key, "b/1");
  EXPECT_EQ(rows[1].object_key, "b/\xc3\xa9");
}

TEST(SqliteStore, ImportReportsInsertedOrPresentAndNeverOverwrites) {
  TempDir dir;
  auto store = open(dir);
  Entry first{"b/k", "k", 10, std::nullopt};
  auto inserted = store->insert_if_absent("disk", first, kLongAgo);
  ASSERT_TRUE(inserted.ok());
  EXPECT_TRUE(*inserted);
  Entry changed{"b/k", "b/k", 99, std::nullopt};
  inserted = store->insert_if_absent("disk", changed, Clock::now());
  ASSERT_TRUE(inserted.ok());
  EXPECT_FALSE(*inserted);
  auto rows = page_all(*store, "disk", 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].storage_key, "k");
  EXPECT_EQ(rows[0].size_bytes, 10);
  // The same key on another backend is another row.
  EXPECT_TRUE(*store->insert_if_absent("disk-2", changed, kLongAgo));
}

TEST(SqliteStore, RemovalHonoursTheCreatedBeforeCutoff) {
  TempDir dir;
  auto store = open(dir);
  const auto cutoff = Clock::now();
  ASSERT_TRUE(store->insert_if_absent("disk", testing::entry("b/old"), cutoff - std::chrono::seconds(1)).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", testing::entry("b/new"), cutoff + std::chrono::milliseconds(1)).ok());
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/old", cutoff), RemoveOutcome::kRemoved);
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/new", cutoff), RemoveOutcome::kTooNew);
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/old", cutoff), RemoveOutcome::kAlreadyGone);
  EXPECT_EQ(*store->remove_if_created_before("other", "b/new", cutoff), RemoveOutcome::kAlreadyGone);
  EXPECT_EQ(page_all(*store, "disk", 10).size(), 1u);
}

TEST(SqliteStore, BatchWithOneBadRowLandsTheOthers) {
  TempDir dir;
  const std::string path = (dir.path() / "index.db").string();
  auto store = open(dir);
  ASSERT_TRUE(store->insert_if_absent("disk", testing::entry("b/old"), kLongAgo).ok());
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER reject_bad BEFORE INSERT ON object_locations "
                           "WHEN NEW.object_key = 'b/bad' BEGIN SELECT RAISE(ABORT, 'bad row'); END;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::vector<IndexChange> changes = {
      {IndexChange::Kind::kImport, testing::entry("b/1"), kLongAgo},
      {IndexChange::Kind::kImport, testing::entry("b/bad"), kLongAgo},
      {IndexChange::Kind::kRemove, testing::entry("b/old"), {}},
      {IndexChange::Kind::kImport, testing::entry("b/2"), kLongAgo},
  };
  auto results = store->apply_changes("disk", changes, Clock::now());
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_TRUE((*results)[0].status.ok());
  EXPECT_TRUE((*results)[0].inserted);
  EXPECT_FALSE((*results)[1].status.ok());
  EXPECT_NE((*results)[1].status.message().find("bad row"), std::string::npos);
  EXPECT_EQ((*results)[2].removal, RemoveOutcome::kRemoved);
  EXPECT_TRUE((*results)[3].inserted);
  std::vector<std::string> keys;
  for (const auto& r : page_all(*store, "disk", 10)) keys.push_back(r.object_key);
  EXPECT_EQ(keys, (std::vector<std::string>{"b/1", "b/2"}));
}

TEST(SqliteStore, BatchReportsAlreadyPresentAndTooNew) {
  TempDir dir;
  auto store = open(dir);
  const auto cutoff = Clock::now();
  ASSERT_TRUE(store->insert_if_absent("disk", testing::entry("b/there"), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", testing::entry("b/fresh"), cutoff + std::chrono::seconds(1)).ok());
  std::vector<IndexChange> changes = {
      {IndexChange::Kind::kImport, Entry{"b/there", "other", 99, std::nullopt}, kLongAgo},
      {IndexChange::Kind::kRemove, testing::entry("b/fresh"), {}},
      {IndexChange::Kind::kRemove, testing::entry("b/never"), {}},
  };
  auto results = store->apply_changes("disk", changes, cutoff);
  ASSERT_TRUE(results.ok());
  EXPECT_FALSE((*results)[0].inserted);
  EXPECT_EQ((*results)[1].removal, RemoveOutcome::kTooNew);
  EXPECT_EQ((*results)[2].removal, RemoveOutcome::kAlreadyGone);
  auto rows = page_all(*store, "disk", 10);
  EXPECT_EQ(rows[1].storage_key, "b/there") << "an import never changes an existing row";
}

int user_version(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  sqlite3_step(s);
  const int v = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

void exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteStore, CreatesSchemaWithVersionAndReopens) {
  TempDir dir;
  const std::string path = (dir.path() / "index.db").string();
  { ASSERT_NE(open(dir), nullptr); }
  EXPECT_EQ(user_version(path), sqlite_schema_version());
  auto again = open(dir);  // second open migrates nothing and works
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->insert_if_absent("d", testing::entry("b/x"), kLongAgo).ok());
}

TEST(SqliteStore, RefusesANewerSchema) {
  TempDir dir;
  const std::string path = (dir.path() / "index.db").string();
  { ASSERT_NE(open(dir), nullptr); }
  exec(path, "PRAGMA user_version = 99");
  auto store = open_sqlite_store(SqliteStoreOptions{path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos);
}

TEST(SqliteStore, RefusesATableMissingAColumn) {
  TempDir dir;
  const std::string path = (dir.path() / "index.db").string();
  exec(path, "CREATE TABLE object_locations (object_key TEXT, backend_name TEXT, size_bytes INTEGER)");
  auto store = open_sqlite_store(SqliteStoreOptions{path});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("storage_key"), std::string::npos) << store.status().message();
}

TEST(SqliteStore, UnopenableFileIsAClearError) {
  TempDir dir;
  auto store = open_sqlite_store(SqliteStoreOptions{(dir.path() / "no/such/dir/index.db").string()});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("no/such/dir/index.db"), std::string::npos);
}

TEST(SqliteStore, LockedDatabaseIsUnavailable) {
  TempDir dir;
  const std::string path = (dir.path() / "index.db").string();
  auto store = open_sqlite_store(SqliteStoreOptions{path, std::chrono::milliseconds(10)});
  ASSERT_TRUE(store.ok());
  sqlite3* other = nullptr;
  sqlite3_open(path.c_str(), &other);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto inserted = (*store)->insert_if_absent("disk", testing::entry("b/x"), kLongAgo);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_FALSE(inserted.ok());
  EXPECT_EQ(inserted.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(inserted.status().message().find("b/x"), std::string::npos);
}

}  // namespace
}  // namespace s3reconcile
