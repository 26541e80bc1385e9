// DBCursorStream: lazy first query, paging, end, filtering, errors.
#include "s3reconcile/db_cursor_stream.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>

#include "fakes.h"

namespace s3reconcile {
namespace {

using testing::FakeStore;

// The keys the stream yields, or with `paths` each as "path=key".
std::vector<std::string> drain(DBCursorStream& c, bool paths = false) {
  std::vector<std::string> out;
  while (true) {
    auto n = c.next();
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    if (!n.ok() || !*n) return out;
    out.push_back(paths ? (*n)->storage_key + "=" + (*n)->key : (*n)->key);
  }
}

// The rows under "b/" of backend "disk", which stores bucket b (a and c are
// stored elsewhere).
DBCursorOptions opts(std::size_t page, std::string prefix = "b/", bool adopt = false) {
  DBCursorOptions o;
  o.backend = "disk";
  o.classifier =
      std::make_shared<PathClassifier>(std::vector<std::string>{"b"}, std::vector<std::string>{"a", "b", "c"}, adopt);
  o.prefix = std::move(prefix);
  o.page_size = page;
  return o;
}

std::vector<std::string> paths_of(DBCursorStream& c) { return drain(c, true); }

// A lister passing every query on to another, noting the threads that ask
// and, in order, each query and announcement with its arguments.
class WatchedLister final : public DBKeyLister {
 public:
  explicit WatchedLister(DBKeyLister& inner) : inner_(inner) {}
  Status list_by_storage_key(std::string_view backend, const RowPosition& after, std::size_t limit,
                             const KeyRange& range, std::vector<IndexRow>& rows) override {
    tids.insert(static_cast<long>(::syscall(SYS_gettid)));  // kernel ids: not reused as pthread ids are
    calls.push_back("list " + describe(backend, after, limit, range));
    return inner_.list_by_storage_key(backend, after, limit, range, rows);
  }
  void list_by_storage_key_next(std::string_view backend, const RowPosition& after, std::size_t limit,
                                const KeyRange& range) override {
    calls.push_back("next " + describe(backend, after, limit, range));
  }
  // Written by one query at a time.
  std::set<long> tids;
  std::vector<std::string> calls;

 private:
  static std::string describe(std::string_view backend, const RowPosition& after, std::size_t limit,
                              const KeyRange& range) {
    return fmt::format("{} after {}/{} limit {} range [{}, {})", backend, after.storage_key,
                       after.object_key.value_or("-"), limit, range.begin, range.end);
  }
  DBKeyLister& inner_;
};

// With kThread, the page ahead is queried on one thread kept for the walk,
// not on a new thread per page; the rows are the same, in batches of a page.
TEST(DBCursorStream, ReadAheadUsesOneThreadForEveryPage) {
  FakeStore store;
  std::vector<std::string> want;
  for (int i = 0; i < 60; ++i) {
    want.push_back(fmt::format("b/{:02}", i));
    store.put("disk", want.back());
  }
  WatchedLister lister(store);
  DBCursorOptions options = opts(3);
  options.read_ahead = IndexReadAhead::kThread;
  DBCursorStream c(lister, options);
  std::vector<std::string> got;
  while (true) {
    auto batch = c.next_batch();
    ASSERT_TRUE(batch.ok()) << batch.status().to_string();
    if (batch->empty()) break;
    EXPECT_LE(batch->size(), 3u);
    for (const Entry& e : *batch) got.push_back(e.key);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(store.list_calls(), 21u);
  EXPECT_LE(lister.tids.size(), 2u) << "a thread per page is back";
}

// With kAnnounce, each query after the first is announced to the store as
// soon as the page before it is read, with exactly its arguments; nothing is
// announced after the last page. kNone announces nothing.
TEST(DBCursorStream, AnnouncesEveryQueryButTheFirstWithItsArguments) {
  FakeStore store;
  for (int i = 0; i < 5; ++i) store.put("disk", fmt::format("b/{}", i));
  for (const IndexReadAhead mode : {IndexReadAhead::kAnnounce, IndexReadAhead::kNone}) {
    WatchedLister lister(store);
    DBCursorOptions options = opts(2);
    options.read_ahead = mode;
    DBCursorStream c(lister, options);
    EXPECT_EQ(drain(c), (std::vector<std::string>{"b/0", "b/1", "b/2", "b/3", "b/4"}));
    std::vector<std::string> want = {"list disk after /- limit 2 range [b/, b0)",
                                     "list disk after b/1/b/1 limit 2 range [b/, b0)",
                                     "list disk after b/3/b/3 limit 2 range [b/, b0)"};
    if (mode == IndexReadAhead::kAnnounce) {
      want.insert(want.begin() + 2, "next disk after b/3/b/3 limit 2 range [b/, b0)");
      want.insert(want.begin() + 1, "next disk after b/1/b/1 limit 2 range [b/, b0)");
    }
    EXPECT_EQ(lister.calls, want);
  }
}

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
  EXPECT_NE(error.message().find("after path \"b/1\""), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("server closed the connection"), std::string::npos);
  const auto calls = store.list_calls();
  EXPECT_EQ(c.next().status(), error);
  EXPECT_EQ(store.list_calls(), calls);
}

TEST(DBCursorStream, RowsOutOfOrderAreAnError) {
  class Backwards final : public DBKeyLister {
    Status list_by_storage_key(std::string_view, const RowPosition&, std::size_t, const KeyRange&,
                               std::vector<IndexRow>& rows) override {
      rows = {{"b/2", "b/2", 0}, {"b/1", "b/1", 0}};
      return ok_status();
    }
  } store;
  DBCursorStream c(store, opts(10));
  auto n = c.next();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(n.status().message().find("path \"b/1\""), std::string::npos) << n.status().message();
  EXPECT_NE(n.status().message().find("after \"b/2\""), std::string::npos) << n.status().message();
}

TEST(DBCursorStream, WalksRowsByPathAndPagesExactlyThroughSharedPaths) {
  FakeStore store;
  store.put("disk", "b/a", 0, "b/z!w1");  // known as b/a, stored at b/z!w1
  store.put("disk", "b/m", 0, "b/m");
  // Three rows share one path; pages of one row must neither loop nor skip.
  store.put("disk", "b/p1", 0, "b/p");
  store.put("disk", "b/p2", 0, "b/p");
  store.put("disk", "b/p3", 0, "b/p");
  for (std::size_t page : {1, 2, 3, 100}) {
    DBCursorStream c(store, opts(page));
    EXPECT_EQ(paths_of(c), (std::vector<std::string>{"b/m=b/m", "b/p=b/p1", "b/p=b/p2", "b/p=b/p3", "b/z!w1=b/a"}))
        << "page " << page;
  }
}

TEST(DBCursorStream, CoversRowsByPathAndCountsThemByKey) {
  FakeStore store;
  store.put("disk", "b/x", 0, "b/x");
  store.put("disk", "b/loose", 0, "loose");    // an adopted row: covered only when adopting
  store.put("disk", "b/elsewhere", 0, "a/e");  // stored under bucket a's prefix: never covered here
  DBCursorStream without(store, opts(10, ""));
  EXPECT_EQ(paths_of(without), (std::vector<std::string>{"b/x=b/x"}));
  DBCursorStream with(store, opts(10, "", true));
  EXPECT_EQ(paths_of(with), (std::vector<std::string>{"b/x=b/x", "loose=b/loose"}));
  EXPECT_EQ(with.rows_by_bucket().at("b"), 2u);
}

TEST(DBCursorStream, StartAfterAndThroughArePaths) {
  FakeStore store;
  for (const char* k : {"b/1", "b/2", "b/3", "b/4"}) store.put("disk", k);
  store.put("disk", "b/2-copy", 0, "b/2");
  auto o = opts(1);
  o.start_after = "b/1";
  o.through = "b/3";
  DBCursorStream c(store, o);
  EXPECT_EQ(paths_of(c), (std::vector<std::string>{"b/2=b/2", "b/2=b/2-copy", "b/3=b/3"}));
}

}  // namespace
}  // namespace s3reconcile
