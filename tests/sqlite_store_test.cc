// The SQLite index store: the conformance suite on a fresh file per test, and
// what only SQLite has (files, locks).
#include "s3reconcile/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fmt/format.h>

#include "fakes.h"
#include "store_conformance.h"
#include "support/sqlite_exec.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::StoreConformance;
using testing::StoreUnderTest;
using testing::TempDir;

const Clock::time_point kLongAgo = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);

using testing::exec_on;

class SqliteUnderTest final : public StoreUnderTest {
 public:
  StatusOr<std::unique_ptr<IndexStore>> open() override { return open_sqlite_store(SqliteStoreOptions{path()}); }
  StatusOr<std::unique_ptr<IndexStore>> open_with_pending_delete_query(const std::string& query) override {
    SqliteStoreOptions options{path()};
    options.pending_delete_query = query;
    return open_sqlite_store(options);
  }
  int build_schema_version() const override { return sqlite_schema_version(); }

  StatusOr<int> stored_schema_version() override {
    sqlite3* db = nullptr;
    sqlite3_open(path().c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
    const bool row = sqlite3_step(s) == SQLITE_ROW;
    const int v = row ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (!row) return internal_error("cannot read PRAGMA user_version");
    return v;
  }
  Status set_stored_schema_version(int version) override {
    return exec(fmt::format("PRAGMA user_version = {}", version));
  }
  Status exec(const std::string& sql) override { return exec_on(path(), sql); }
  Status reject_inserts_of(const std::string& key) override {
    return exec("CREATE TRIGGER reject_bad BEFORE INSERT ON object_locations WHEN NEW.object_key = '" + key +
                "' BEGIN SELECT RAISE(ABORT, 'reject_bad'); END;");
  }

 private:
  std::string path() const { return (dir_.path() / "index.db").string(); }
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(testing::StoreKind{"Sqlite",
                                                              []() -> StatusOr<std::unique_ptr<StoreUnderTest>> {
                                                                return std::unique_ptr<StoreUnderTest>(
                                                                    std::make_unique<SqliteUnderTest>());
                                                              }}),
                         testing::store_kind_name);

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

TEST(SqliteStore, ATableWhoseKeysAreNotInByteOrderIsRefusedAtOpen) {
  TempDir dir;
  const std::string path = (dir.path() / "index.db").string();
  ASSERT_TRUE(exec_on(path,
                      "CREATE TABLE object_locations (object_key TEXT COLLATE NOCASE NOT NULL, "
                      "backend_name TEXT NOT NULL, storage_key TEXT NOT NULL, size_bytes INTEGER NOT NULL, "
                      "created_at TEXT NOT NULL, PRIMARY KEY (object_key, backend_name))")
                  .ok());
  auto store = open_sqlite_store(SqliteStoreOptions{path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("column object_key of object_locations is declared COLLATE nocase"),
            std::string::npos)
      << store.status().message();
  // Declared BINARY, or not at all, is byte order.
  TempDir other;
  const std::string binary = (other.path() / "index.db").string();
  ASSERT_TRUE(exec_on(binary,
                      "CREATE TABLE object_locations (object_key TEXT COLLATE BINARY NOT NULL, "
                      "backend_name TEXT NOT NULL, storage_key TEXT NOT NULL, size_bytes INTEGER NOT NULL, "
                      "created_at TEXT NOT NULL, PRIMARY KEY (object_key, backend_name))")
                  .ok());
  EXPECT_TRUE(open_sqlite_store(SqliteStoreOptions{binary}).ok());
}

}  // namespace
}  // namespace s3reconcile
