// serve's readers share one kept connection to the index: opened once,
// reopened after a failure or a reload that changed the store, never more
// than one kept.
#include "cli/index_connection_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes.h"

namespace s3reconcile::cli {
namespace {

// Counts the connections closed; answers while `alive`.
class CountedStore final : public testing::ForwardingStore {
 public:
  CountedStore(IndexStore& inner, int& closed, const bool& alive)
      : ForwardingStore(inner), closed_(closed), alive_(alive) {}
  ~CountedStore() override { ++closed_; }
  Status check_connection() override { return alive_ ? ok_status() : unavailable_error("server closed it"); }

 private:
  int& closed_;
  const bool& alive_;
};

class IndexConnectionCacheTest : public ::testing::Test {
 protected:
  IndexConnectionCacheTest()
      : cache_([this](const config::StoreConfig& store) -> StatusOr<std::unique_ptr<IndexStore>> {
          opened_for_.push_back(store.sqlite_path);
          if (refuse_) return unavailable_error("the index is down");
          return std::unique_ptr<IndexStore>(std::make_unique<CountedStore>(inner_, closed_, alive_));
        }) {
    store_.sqlite_path = "index.db";
  }

  // Borrows, expecting a connection, and says which one (its address).
  const IndexStore* borrow_and_return() {
    auto lease = cache_.borrow(store_);
    EXPECT_TRUE(lease.ok()) << lease.status().to_string();
    return lease.ok() ? lease->operator->() : nullptr;
  }

  testing::FakeStore inner_;
  config::StoreConfig store_;
  std::vector<std::string> opened_for_;
  int closed_ = 0;
  bool refuse_ = false;
  bool alive_ = true;
  IndexConnectionCache cache_;
};

TEST_F(IndexConnectionCacheTest, ReadersOneAfterAnotherShareOneConnection) {
  const IndexStore* first = borrow_and_return();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(borrow_and_return(), first);
  EXPECT_EQ(opened_for_.size(), 1u);
  EXPECT_EQ(closed_, 0);
}

TEST_F(IndexConnectionCacheTest, ReadersAtOnceEachGetOneAndOnlyOneIsKept) {
  {
    auto a = cache_.borrow(store_);
    auto b = cache_.borrow(store_);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE((*a).operator->(), (*b).operator->());
    EXPECT_EQ(opened_for_.size(), 2u);
  }
  EXPECT_EQ(closed_, 1) << "the second one back is closed";
  borrow_and_return();
  EXPECT_EQ(opened_for_.size(), 2u) << "the kept one serves the next reader";
}

TEST_F(IndexConnectionCacheTest, AConnectionThatFailedIsClosedAndTheNextReaderOpensAnother) {
  {
    auto lease = cache_.borrow(store_);
    ASSERT_TRUE(lease.ok());
    lease->failed();
  }
  EXPECT_EQ(closed_, 1);
  borrow_and_return();
  EXPECT_EQ(opened_for_.size(), 2u);
}

TEST_F(IndexConnectionCacheTest, AKeptConnectionTheServerClosedIsReplacedBeforeAReaderGetsIt) {
  const IndexStore* first = borrow_and_return();
  alive_ = false;  // e.g. PostgreSQL restarted while it sat idle
  auto lease = cache_.borrow(store_);
  ASSERT_TRUE(lease.ok()) << lease.status().to_string();
  EXPECT_EQ(opened_for_.size(), 2u);
  EXPECT_EQ(closed_, 1) << "the dead one is closed";
  EXPECT_NE(lease->operator->(), first);
}

TEST_F(IndexConnectionCacheTest, AReloadThatChangesTheStoreOpensTheNewOneAndClosesTheOld) {
  borrow_and_return();
  store_.sqlite_path = "other.db";
  borrow_and_return();
  EXPECT_EQ(opened_for_, (std::vector<std::string>{"index.db", "other.db"}));
  EXPECT_EQ(closed_, 1);
  store_.pending_delete_query = "SELECT 1";
  borrow_and_return();
  EXPECT_EQ(opened_for_.size(), 3u) << "any field of the store counts";
}

TEST_F(IndexConnectionCacheTest, AnIndexThatCannotBeOpenedIsAnErrorAndIsTriedAgainNextTime) {
  refuse_ = true;
  auto refused = cache_.borrow(store_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  refuse_ = false;
  borrow_and_return();
  borrow_and_return();
  EXPECT_EQ(opened_for_.size(), 2u);
}

}  // namespace
}  // namespace s3reconcile::cli
