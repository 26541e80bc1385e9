// DBCursorStream: lazy first query, paging, end, filtering, errors.
#include "s3reconcile/db_cursor_stream.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace s3reconcile {
namespace {

using testing::FakeStore;

std::vector<std::string> drain(DBCursorStream& c) {
  std::vector<std::string> out;
  while (true) {
    auto n = c.next();
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    if (!n.ok() || !*n) return out;
    out.push_back((*n)->key);
  }
}

DBCursorOptions opts(std::size_t page) { return DBCursorOptions{"disk", "b", {"a", "b", "c"}, page, "", "", false}; }

TEST(DBCursorStream, NoQueryBeforeFirstNext) {
  FakeStore store;
  store.put("disk", "b/1");
  DBCursorStream c(store, opts(10));
  EXPECT_EQ(store.list_calls(), 0u);
  auto n = c.next();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(store.list_calls(), 1u);
}

TEST(DBCursorStream, PagesOfConfiguredSizeAndNoQueryAfterEnd) {
  FakeStore store;
  for (int i = 0; i < 10; ++i) store.put("disk", "b/" + std::to_string(i));
  DBCursorStream c(store, opts(3));
  EXPECT_EQ(drain(c).size(), 10u);
  EXPECT_EQ(store.list_calls(), 4u);  // 3 + 3 + 3 + 1: the short page is the last
  for (auto limit : store.limits()) EXPECT_EQ(limit, 3u);
  for (int i = 0; i < 3; ++i) {
    auto n = c.next();
    ASSERT_TRUE(n.ok());
    EXPECT_FALSE(n->has_value());
  }
  EXPECT_EQ(store.list_calls(), 4u);
  EXPECT_EQ(c.rows_scanned(), 10u);
}

TEST(DBCursorStream, ExactMultipleOfPageSizeEndsOnAnEmptyPage) {
  FakeStore store;
  for (int i = 0; i < 6; ++i) store.put("disk", "b/" + std::to_string(i));
  DBCursorStream c(store, opts(3));
  EXPECT_EQ(drain(c).size(), 6u);
  EXPECT_EQ(store.list_calls(), 3u);
  EXPECT_TRUE(c.next().ok());
  EXPECT_EQ(store.list_calls(), 3u);
}

TEST(DBCursorStream, FiltersBucketAndSiblingsEvenIfTheStoreIgnoresTheRange) {
  FakeStore store;
  for (const char* k : {"a/1", "b", "b-", "b/1", "b/2", "b0", "c/1", "zz"}) store.put("disk", k);
  store.put("other-backend", "b/3");
  store.ignore_range(true);
  DBCursorStream c(store, opts(2));
  EXPECT_EQ(drain(c), (std::vector<std::string>{"b/1", "b/2"}));
}

TEST(DBCursorStream, BoundsTheQueryToTheBucket) {
  FakeStore store;
  for (const char* k : {"a/1", "b/1", "c/1"}) store.put("disk", k);
  DBCursorStream c(store, opts(1000));
  EXPECT_EQ(drain(c), (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(c.rows_scanned(), 1u);  // a/1 and c/1 never left the store
}

TEST(DBCursorStream, StoreErrorIsReturnedWithContextAndLatched) {
  FakeStore store;
  for (int i = 0; i < 5; ++i) store.put("disk", "b/" + std::to_string(i));
  store.fail_list_call(1, unavailable_error("server closed the connection unexpectedly"));
  DBCursorStream c(store, opts(2));
  Status error;
  int yielded = 0;
  while (error.ok()) {
    auto n = c.next();
    if (!n.ok()) {
      error = n.status();
    } else {
      ASSERT_TRUE(n->has_value()) << "a store error must not look like the end";
      ++yielded;
    }
  }
  EXPECT_EQ(yielded, 2);
  EXPECT_EQ(error.code(), StatusCode::kUnavailable);
  EXPECT_NE(error.message().find("backend \"disk\""), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("after key \"b/1\""), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("server closed the connection"), std::string::npos);
  const auto calls = store.list_calls();
  EXPECT_EQ(c.next().status(), error);
  EXPECT_EQ(store.list_calls(), calls);
}

TEST(DBCursorStream, RowsOutOfOrderAreAnError) {
  class Backwards final : public DBKeyLister {
    StatusOr<std::vector<IndexRow>> list_by_backend_key_asc(std::string_view, std::string_view,
                                                            std::size_t, const KeyRange&) override {
      return std::vector<IndexRow>{{"b/2", "b/2", 0}, {"b/1", "b/1", 0}};
    }
  } store;
  DBCursorStream c(store, opts(10));
  auto n = c.next();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(n.status().message().find("\"b/1\" after \"b/2\""), std::string::npos);
}

}  // namespace
}  // namespace s3reconcile
