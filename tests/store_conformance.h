// The contract every index store keeps (SQLite, PostgreSQL): one suite of
// value-parameterized tests (store_conformance_test.cc), instantiated once per
// store by that store's test file.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "s3reconcile/index_store.h"

namespace s3reconcile::testing {

// One store kind under test, on a fresh and empty index of its own (a new
// file, a new database), with a side door into that index's database for
// what IndexStore does not do.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;

  // Opens the index, creating and migrating its schema. Callable from several
  // threads at once, each getting a store (connection) of its own.
  virtual StatusOr<std::unique_ptr<IndexStore>> open() = 0;
  // The same, with store.pending_delete_query set to `query`.
  virtual StatusOr<std::unique_ptr<IndexStore>> open_with_pending_delete_query(const std::string& query) = 0;

  // The schema version this build's store creates.
  virtual int build_schema_version() const = 0;
  // The version recorded in the database, and forcing it.
  virtual StatusOr<int> stored_schema_version() = 0;
  virtual Status set_stored_schema_version(int version) = 0;

  // Runs SQL that both dialects understand, on a connection of its own.
  virtual Status exec(const std::string& sql) = 0;

  // From now on an insert of `key` fails with a constraint error whose
  // message names "reject_bad".
  virtual Status reject_inserts_of(const std::string& key) = 0;
};

struct StoreKind {
  std::string name;
  // A fresh index. UNAVAILABLE when this kind cannot run here (the test
  // skips); any other error fails the test.
  std::function<StatusOr<std::unique_ptr<StoreUnderTest>>()> make;
};

// Test names and messages show the kind's name, not its bytes.
inline void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

inline std::string store_kind_name(const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; }

class StoreConformance : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    auto made = GetParam().make();
    if (!made.ok() && made.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << made.status().message();
    }
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    under_test_ = std::move(*made);
  }

  // Opens the test's index; fails the test when it does not open.
  std::unique_ptr<IndexStore> open() {
    auto store = under_test_->open();
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(*store) : nullptr;
  }

  StoreUnderTest& under_test() { return *under_test_; }

 private:
  std::unique_ptr<StoreUnderTest> under_test_;
};

}  // namespace s3reconcile::testing
