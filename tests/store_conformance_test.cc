// The index store contract, for every store: byte-order paging, key ranges,
// import and removal rules, batches, schema versions, concurrent migration.
#include "store_conformance.h"

#include <latch>

#include <fmt/format.h>
#include <random>
#include <thread>

#include "fakes.h"
#include "s3reconcile/pass_records.h"

namespace s3reconcile::testing {
namespace {

const Clock::time_point kLongAgo = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);

std::vector<IndexRow> page_all(IndexStore& store, const std::string& backend, std::size_t page,
                               const KeyRange& range = {}) {
  std::vector<IndexRow> out;
  RowPosition after;
  while (true) {
    auto rows = list_rows_by_storage_key(store, backend, after, page, range);
    EXPECT_TRUE(rows.ok()) << rows.status().to_string();
    if (!rows.ok()) return out;
    EXPECT_LE(rows->size(), page);
    for (auto& r : *rows) out.push_back(r);
    if (rows->size() < page) return out;
    after = RowPosition{rows->back().storage_key, rows->back().object_key};
  }
}

std::vector<std::string> keys_of(const std::vector<IndexRow>& rows) {
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r.object_key);
  return keys;
}

TEST_P(StoreConformance, PagingReturnsEveryRowOnceInByteOrder) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::mt19937 rng(3);
  // '-' < '/' < '0' < 'A' < '_' < 'a' < 0x7f < multi-byte UTF-8 in byte order;
  // a locale orders most of these differently.
  const std::vector<std::string> pieces = {
      "a",    "B", "-", "/", "~", "_", "\xc3\xa9", "\xc3\x89", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
      "\x7f", " ", "Z", "z", "."};
  std::uniform_int_distribution<int> len(1, 6), piece(0, static_cast<int>(pieces.size()) - 1);
  KeySet expected;
  for (int i = 0; i < 300; ++i) {
    std::string key;
    for (int n = len(rng); n > 0; --n) key += pieces[piece(rng)];
    if (!expected.insert(key).second) continue;
    ASSERT_TRUE(*store->insert_if_absent("disk", entry(key, i), kLongAgo));
    ASSERT_TRUE(*store->insert_if_absent("other", entry(key + "!", i), kLongAgo));
  }
  for (std::size_t page : {1, 2, 3, 1000}) {
    auto rows = page_all(*store, "disk", page);
    ASSERT_EQ(keys_of(rows), std::vector<std::string>(expected.begin(), expected.end())) << "page " << page;
  }
}

TEST_P(StoreConformance, PagesByPathThenKeyAndExactlyThroughSharedPaths) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  // Rows known by one key and stored at another; several rows share a path.
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"p/a.jpg", "p/a.jpg!w1"}, {"p/b.jpg", "cas/ff"}, {"p/c.jpg", "cas/00"}, {"p/copy-of-c", "cas/00"},
      {"p/\xc3\xa9", "cas/00"},  {"p/Z", "cas/00"},     {"p/d", "p/d"},        {"p/e", "p/a.jpg!w1"}};
  for (const auto& [key, path] : rows) {
    ASSERT_TRUE(*store->insert_if_absent("disk", entry_at(key, path), kLongAgo));
  }
  const std::vector<std::string> expected = {"cas/00=p/Z",        "cas/00=p/c.jpg", "cas/00=p/copy-of-c",
                                             "cas/00=p/\xc3\xa9", "cas/ff=p/b.jpg", "p/a.jpg!w1=p/a.jpg",
                                             "p/a.jpg!w1=p/e",    "p/d=p/d"};
  for (std::size_t page : {1, 2, 3, 1000}) {
    std::vector<std::string> got;
    for (const auto& r : page_all(*store, "disk", page)) got.push_back(r.storage_key + "=" + r.object_key);
    EXPECT_EQ(got, expected) << "page " << page;
  }
  // After a path (not a row): every row at that path is behind.
  auto after_path = list_rows_by_storage_key(*store, "disk", RowPosition{"cas/00", std::nullopt}, 10, KeyRange{});
  ASSERT_TRUE(after_path.ok()) << after_path.status().to_string();
  ASSERT_FALSE(after_path->empty());
  EXPECT_EQ(after_path->front().storage_key, "cas/ff");
  // The range bounds the path, not the key.
  std::vector<std::string> cas;
  for (const auto& r : page_all(*store, "disk", 2, KeyRange{"cas/", "cas0"})) cas.push_back(r.object_key);
  EXPECT_EQ(cas, (std::vector<std::string>{"p/Z", "p/c.jpg", "p/copy-of-c", "p/\xc3\xa9", "p/b.jpg"}));
}

// A cursor passes one vector back page after page, so that the rows'
// strings are written over instead of allocated: whatever it held (more
// rows, longer keys, other sizes), it comes back holding the page exactly.
TEST_P(StoreConformance, APageIsWrittenOverTheRowsPassedIn) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        *store->insert_if_absent("disk", entry_at(fmt::format("p/{}", i), fmt::format("s/{}", i), i), kLongAgo));
  }
  const auto described = [](const std::vector<IndexRow>& rows) {
    std::vector<std::string> out;
    for (const IndexRow& r : rows) out.push_back(fmt::format("{}={}:{}", r.storage_key, r.object_key, r.size_bytes));
    return out;
  };
  std::vector<IndexRow> rows(8, IndexRow{std::string(200, 'k'), std::string(300, 'p'), 99});
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{}, 3, KeyRange{}, rows).ok());
  EXPECT_EQ(described(rows), (std::vector<std::string>{"s/0=p/0:0", "s/1=p/1:1", "s/2=p/2:2"}));
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{"s/2", "p/2"}, 10, KeyRange{}, rows).ok());
  EXPECT_EQ(described(rows), (std::vector<std::string>{"s/3=p/3:3", "s/4=p/4:4"}));
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{}, 10, KeyRange{}, rows).ok());
  EXPECT_EQ(described(rows).size(), 5u);
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{"s/4", std::nullopt}, 10, KeyRange{}, rows).ok());
  EXPECT_TRUE(rows.empty());
}

// A page announced ahead (list_by_storage_key_next) is the page asked for:
// the same rows when the call matches the announcement, the right rows when
// it does not, and never an answer from before a write made in between.
TEST_P(StoreConformance, AnAnnouncedPageIsThePageAskedForAndNeverPredatesAWrite) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(*store->insert_if_absent("disk", entry(fmt::format("p/{}", i)), kLongAgo));
  std::vector<IndexRow> rows;
  const RowPosition after_p1{"p/1", "p/1"};
  store->list_by_storage_key_next("disk", after_p1, 2, KeyRange{});
  ASSERT_TRUE(store->list_by_storage_key("disk", after_p1, 2, KeyRange{}, rows).ok());
  EXPECT_EQ(keys_of(rows), (std::vector<std::string>{"p/2", "p/3"}));

  // Announced one page, asked for another (other position, limit, range).
  store->list_by_storage_key_next("disk", after_p1, 2, KeyRange{});
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{"p/2", std::nullopt}, 5, KeyRange{}, rows).ok());
  EXPECT_EQ(keys_of(rows), (std::vector<std::string>{"p/3", "p/4"}));
  store->list_by_storage_key_next("disk", RowPosition{}, 5, KeyRange{});
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{}, 5, KeyRange{"p/1", "p/3"}, rows).ok());
  EXPECT_EQ(keys_of(rows), (std::vector<std::string>{"p/1", "p/2"}));

  // Writes through the same store between the announcement and the call.
  store->list_by_storage_key_next("disk", after_p1, 10, KeyRange{});
  ASSERT_TRUE(*store->insert_if_absent("disk", entry("p/3a"), kLongAgo));
  std::vector<IndexChange> changes = {{IndexChange::Kind::kRemove, entry("p/4"), kLongAgo}};
  ASSERT_TRUE(store->apply_changes("disk", changes, Clock::now()).ok());
  ASSERT_TRUE(store->list_by_storage_key("disk", after_p1, 10, KeyRange{}, rows).ok());
  EXPECT_EQ(keys_of(rows), (std::vector<std::string>{"p/2", "p/3", "p/3a"}));

  // Two announcements: the second stands.
  store->list_by_storage_key_next("disk", RowPosition{}, 1, KeyRange{});
  store->list_by_storage_key_next("disk", RowPosition{"p/3", "p/3"}, 5, KeyRange{});
  ASSERT_TRUE(store->list_by_storage_key("disk", RowPosition{"p/3", "p/3"}, 5, KeyRange{}, rows).ok());
  EXPECT_EQ(keys_of(rows), (std::vector<std::string>{"p/3a"}));

  // A value PostgreSQL cannot hold (a NUL byte): the call answers as it
  // would unannounced, and the store stays usable.
  const RowPosition nul{std::string("p/\0x", 4), std::nullopt};
  store->list_by_storage_key_next("disk", nul, 5, KeyRange{});
  const Status announced = store->list_by_storage_key("disk", nul, 5, KeyRange{}, rows);
  const std::vector<std::string> announced_keys = keys_of(rows);
  const Status plain = store->list_by_storage_key("disk", nul, 5, KeyRange{}, rows);
  EXPECT_EQ(announced.code(), plain.code()) << announced.to_string() << " / " << plain.to_string();
  if (announced.ok() && plain.ok()) {
    EXPECT_EQ(announced_keys, keys_of(rows));
  }
  EXPECT_TRUE(store->check_connection().ok());

  // Closed with an announcement never asked for.
  store->list_by_storage_key_next("disk", RowPosition{}, 5, KeyRange{});
  store.reset();
  auto reopened = open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(keys_of(page_all(*reopened, "disk", 2)), (std::vector<std::string>{"p/0", "p/1", "p/2", "p/3", "p/3a"}));
}

TEST_P(StoreConformance, PendingDeleteQueryHoldsBackImportsOfQueuedPaths) {
  ASSERT_TRUE(
      under_test().exec("CREATE TABLE cleanup_queue (storage_key text NOT NULL, backend_name text NOT NULL)").ok());
  ASSERT_TRUE(
      under_test().exec("INSERT INTO cleanup_queue VALUES ('p/queued', 'disk'), ('p/other', 'elsewhere')").ok());
  auto store = under_test().open_with_pending_delete_query(
      "SELECT 1 FROM cleanup_queue WHERE storage_key = $1 AND backend_name = $2");
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_TRUE(*(*store)->queued_for_deletion("disk", "p/queued"));
  EXPECT_FALSE(*(*store)->queued_for_deletion("disk", "p/other"));  // queued on another backend
  EXPECT_FALSE(*(*store)->queued_for_deletion("disk", "p/new"));
  std::vector<IndexChange> changes = {{IndexChange::Kind::kImport, entry("p/new"), kLongAgo},
                                      {IndexChange::Kind::kImport, entry("p/queued"), kLongAgo},
                                      {IndexChange::Kind::kImport, entry("p/other"), kLongAgo}};
  auto results = (*store)->apply_changes("disk", changes, Clock::now());
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_TRUE((*results)[0].inserted);
  EXPECT_TRUE((*results)[1].pending_delete);
  EXPECT_FALSE((*results)[1].inserted);
  EXPECT_TRUE((*results)[2].inserted);
  std::vector<std::string> keys;
  for (const auto& r : page_all(**store, "disk", 10)) keys.push_back(r.object_key);
  EXPECT_EQ(keys, (std::vector<std::string>{"p/new", "p/other"}));
  // Without the query, nothing is held back.
  auto plain = open();
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(*plain->queued_for_deletion("disk", "p/queued"));
}

TEST_P(StoreConformance, ABadPendingDeleteQueryIsRefusedAtOpenNamingIt) {
  ASSERT_TRUE(
      under_test().exec("CREATE TABLE cleanup_queue (storage_key text NOT NULL, backend_name text NOT NULL)").ok());
  for (const std::string query :
       {"SELECT 1 FROM no_such_queue WHERE storage_key = $1", "SELEKT 1 FROM cleanup_queue WHERE storage_key = $1",
        "DELETE FROM cleanup_queue WHERE storage_key = $1"}) {
    auto store = under_test().open_with_pending_delete_query(query);
    ASSERT_FALSE(store.ok()) << query;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << store.status().to_string();
    EXPECT_NE(store.status().message().find("store.pending_delete_query"), std::string::npos)
        << store.status().message();
    EXPECT_NE(store.status().message().find(query), std::string::npos) << store.status().message();
  }
}

TEST_P(StoreConformance, PageSizesAcrossBoundariesReturnEachRowOnce) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  // Exactly 2 and 1000 rows: the last page is full and the next one empty.
  for (std::size_t count : {2u, 1000u}) {
    const std::string backend = "b" + std::to_string(count);
    std::vector<IndexChange> changes;
    KeySet expected;
    for (std::size_t i = 0; i < count; ++i) {
      std::string key = "k/" + std::string(i % 2 ? "\xc3\xa9" : "E") + std::to_string(i * 7919 % count);
      expected.insert(key);
      changes.push_back({IndexChange::Kind::kImport, entry(key, static_cast<std::int64_t>(i)), kLongAgo});
    }
    ASSERT_TRUE(store->apply_changes(backend, changes, Clock::now()).ok());
    for (std::size_t page : {1, 2, 1000}) {
      auto rows = page_all(*store, backend, page);
      EXPECT_EQ(keys_of(rows), std::vector<std::string>(expected.begin(), expected.end()))
          << count << " rows, page " << page;
    }
  }
}

TEST_P(StoreConformance, RangeBoundsTheRows) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (const char* k : {"a/1", "b", "b-", "b/1", "b/\xc3\xa9", "b/Z", "b/_", "b0", "c/1"}) {
    ASSERT_TRUE(store->insert_if_absent("disk", entry(k), kLongAgo).ok());
  }
  auto rows = page_all(*store, "disk", 2, KeyRange{"b/", "b0"});
  EXPECT_EQ(keys_of(rows), (std::vector<std::string>{"b/1", "b/Z", "b/_", "b/\xc3\xa9"}));
  // Unbounded above.
  EXPECT_EQ(keys_of(page_all(*store, "disk", 1, KeyRange{"b0", ""})), (std::vector<std::string>{"b0", "c/1"}));
}

TEST_P(StoreConformance, SplitKeysCutTheRangeIntoEqualRunsInByteOrder) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  // 100 rows under b/ in byte order (upper-case sorts before lower-case and
  // before UTF-8), a row of another bucket and one of another backend that
  // must not count.
  std::vector<std::string> keys;
  std::vector<IndexChange> changes;
  for (int i = 0; i < 100; ++i) {
    const std::string key = fmt::format("b/{}{:03}", i < 30 ? "A" : i < 60 ? "a" : "\xc3\xa9", i);
    keys.push_back(key);
    changes.push_back({IndexChange::Kind::kImport, entry(key), kLongAgo});
  }
  changes.push_back({IndexChange::Kind::kImport, entry("c/000"), kLongAgo});
  ASSERT_TRUE(store->apply_changes("disk", changes, Clock::now()).ok());
  ASSERT_TRUE(*store->insert_if_absent("other", entry("b/A050"), kLongAgo));

  auto four = store->split_keys("disk", KeyRange{"b/", "b0"}, 4);
  ASSERT_TRUE(four.ok()) << four.status().to_string();
  // Every 25th key: runs of 25 rows.
  EXPECT_EQ(*four, (std::vector<std::string>{keys[24], keys[49], keys[74]}));
  auto three = store->split_keys("disk", KeyRange{"b/", "b0"}, 3);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(*three, (std::vector<std::string>{keys[33], keys[67]}));  // step ceil(100/3) = 34
  // Unbounded above takes c/000 in too: 101 rows, step 26.
  auto open_ended = store->split_keys("disk", KeyRange{"b/", ""}, 4);
  ASSERT_TRUE(open_ended.ok());
  EXPECT_EQ(*open_ended, (std::vector<std::string>{keys[25], keys[51], keys[77]}));
  // Fewer rows than parts: never the last row, never more than parts - 1.
  auto many = store->split_keys("disk", KeyRange{"b/", "b0"}, 1000);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->size(), 99u);
  EXPECT_EQ(many->back(), keys[98]);
  auto none = store->split_keys("disk", KeyRange{"x/", "x0"}, 4);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto one = store->split_keys("disk", KeyRange{"b/", "b0"}, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->empty());
}

TEST_P(StoreConformance, RowsKeepTheirStorageKeyAndSize) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(*store->insert_if_absent("disk", Entry{"b/adopted", "adopted", 1234567890123, std::nullopt}, kLongAgo));
  auto rows = page_all(*store, "disk", 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].storage_key, "adopted");
  EXPECT_EQ(rows[0].size_bytes, 1234567890123);
}

TEST_P(StoreConformance, ImportReportsInsertedOrPresentAndNeverOverwrites) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Entry first{"b/k", "k", 10, std::nullopt};
  auto inserted = store->insert_if_absent("disk", first, kLongAgo);
  ASSERT_TRUE(inserted.ok()) << inserted.status().to_string();
  EXPECT_TRUE(*inserted);
  Entry changed{"b/k", "b/k", 99, std::nullopt};
  inserted = store->insert_if_absent("disk", changed, Clock::now());
  ASSERT_TRUE(inserted.ok());
  EXPECT_FALSE(*inserted);
  auto rows = page_all(*store, "disk", 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].storage_key, "k");
  EXPECT_EQ(rows[0].size_bytes, 10);
  // The row kept its old created_at too: it is still old enough to remove.
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/k", kLongAgo + std::chrono::seconds(1)),
            RemoveOutcome::kRemoved);
  // The same key on another backend is another row.
  EXPECT_TRUE(*store->insert_if_absent("disk-2", changed, kLongAgo));
  EXPECT_TRUE(*store->insert_if_absent("disk", changed, kLongAgo));
}

TEST_P(StoreConformance, RemovalHonoursTheCreatedBeforeCutoff) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto cutoff = Clock::now();
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/old"), cutoff - std::chrono::seconds(1)).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/just-old"), cutoff - std::chrono::microseconds(1)).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/at-cutoff"), cutoff).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/new"), cutoff + std::chrono::milliseconds(1)).ok());
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/old", cutoff), RemoveOutcome::kRemoved);
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/just-old", cutoff), RemoveOutcome::kRemoved);
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/at-cutoff", cutoff), RemoveOutcome::kTooNew);
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/new", cutoff), RemoveOutcome::kTooNew);
  EXPECT_EQ(*store->remove_if_created_before("disk", "b/old", cutoff), RemoveOutcome::kAlreadyGone);
  EXPECT_EQ(*store->remove_if_created_before("other", "b/new", cutoff), RemoveOutcome::kAlreadyGone);
  EXPECT_EQ(keys_of(page_all(*store, "disk", 10)), (std::vector<std::string>{"b/at-cutoff", "b/new"}));
}

TEST_P(StoreConformance, BatchWithOneBadRowLandsTheOthersAndReportsIt) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/old"), kLongAgo).ok());
  ASSERT_TRUE(under_test().reject_inserts_of("b/bad").ok());
  std::vector<IndexChange> changes = {
      {IndexChange::Kind::kImport, entry("b/1"), kLongAgo},
      {IndexChange::Kind::kImport, entry("b/bad"), kLongAgo},
      {IndexChange::Kind::kRemove, entry("b/old"), {}},
      {IndexChange::Kind::kImport, entry("b/2"), kLongAgo},
  };
  auto results = store->apply_changes("disk", changes, Clock::now());
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_TRUE((*results)[0].status.ok());
  EXPECT_TRUE((*results)[0].inserted);
  ASSERT_FALSE((*results)[1].status.ok());
  EXPECT_FALSE(ends_pass((*results)[1].status)) << "one bad row must not end the pass";
  EXPECT_NE((*results)[1].status.message().find("reject_bad"), std::string::npos) << (*results)[1].status.message();
  EXPECT_NE((*results)[1].status.message().find("b/bad"), std::string::npos) << (*results)[1].status.message();
  EXPECT_TRUE((*results)[2].status.ok());
  EXPECT_EQ((*results)[2].removal, RemoveOutcome::kRemoved);
  EXPECT_TRUE((*results)[3].inserted);
  EXPECT_EQ(keys_of(page_all(*store, "disk", 10)), (std::vector<std::string>{"b/1", "b/2"}));
}

TEST_P(StoreConformance, LargeBatchWithABadRowDeepInsideLandsTheOthers) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto cutoff = Clock::now();
  std::vector<IndexChange> changes;
  KeySet expected;
  for (int i = 0; i < 1500; ++i) {
    const std::string key = "b/old" + std::to_string(i);
    ASSERT_TRUE(store->insert_if_absent("disk", entry(key), kLongAgo).ok());
    if (i % 3 == 0) {
      changes.push_back({IndexChange::Kind::kRemove, entry(key), {}});
    } else {
      expected.insert(key);
    }
  }
  for (int i = 0; i < 1500; ++i) {
    const std::string key = "b/new" + std::to_string(i);
    changes.push_back({IndexChange::Kind::kImport, entry(key), kLongAgo});
    expected.insert(key);
  }
  changes.push_back({IndexChange::Kind::kImport, entry("b/old1"), kLongAgo});  // already there
  const std::size_t bad_at = 1234;
  ASSERT_EQ(changes[bad_at].kind, IndexChange::Kind::kImport);
  const std::string bad = changes[bad_at].entry.key;
  expected.erase(bad);
  ASSERT_TRUE(under_test().reject_inserts_of(bad).ok());

  auto results = store->apply_changes("disk", changes, cutoff);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& r = (*results)[i];
    if (i == bad_at) {
      EXPECT_FALSE(r.status.ok());
    } else if (i + 1 == changes.size()) {
      EXPECT_TRUE(r.status.ok());
      EXPECT_FALSE(r.inserted) << "b/old1 was already there";
    } else {
      ASSERT_TRUE(r.status.ok()) << i << ": " << r.status.to_string();
      if (changes[i].kind == IndexChange::Kind::kImport)
        EXPECT_TRUE(r.inserted) << i;
      else
        EXPECT_EQ(r.removal, RemoveOutcome::kRemoved) << i;
    }
  }
  auto rows = keys_of(page_all(*store, "disk", 1000));
  EXPECT_EQ(rows, std::vector<std::string>(expected.begin(), expected.end()));
}

TEST_P(StoreConformance, BatchReportsAlreadyPresentTooNewAndAlreadyGone) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto cutoff = Clock::now();
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/there"), kLongAgo).ok());
  ASSERT_TRUE(store->insert_if_absent("disk", entry("b/fresh"), cutoff + std::chrono::seconds(1)).ok());
  std::vector<IndexChange> changes = {
      {IndexChange::Kind::kImport, Entry{"b/there", "other", 99, std::nullopt}, kLongAgo},
      {IndexChange::Kind::kRemove, entry("b/fresh"), {}},
      {IndexChange::Kind::kRemove, entry("b/never"), {}},
  };
  auto results = store->apply_changes("disk", changes, cutoff);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_FALSE((*results)[0].inserted);
  EXPECT_EQ((*results)[1].removal, RemoveOutcome::kTooNew);
  EXPECT_EQ((*results)[2].removal, RemoveOutcome::kAlreadyGone);
  auto rows = page_all(*store, "disk", 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].object_key, "b/there");
  EXPECT_EQ(rows[1].storage_key, "b/there") << "an import never changes an existing row";
  EXPECT_EQ(rows[1].size_bytes, 0);
}

TEST_P(StoreConformance, EmptyBatchIsNoWork) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto results = store->apply_changes("disk", {}, Clock::now());
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE(results->empty());
  EXPECT_TRUE(store->insert_if_absent("disk", entry("b/after"), kLongAgo).ok()) << "the store is still usable";
}

TEST_P(StoreConformance, CreatesSchemaWithVersionAndReopens) {
  { ASSERT_NE(open(), nullptr); }
  auto version = under_test().stored_schema_version();
  ASSERT_TRUE(version.ok()) << version.status().to_string();
  EXPECT_EQ(*version, under_test().build_schema_version());
  EXPECT_GE(*version, 1);
  auto again = open();  // a second open migrates nothing and works
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->insert_if_absent("d", entry("b/x"), kLongAgo).ok());
  EXPECT_EQ(*under_test().stored_schema_version(), under_test().build_schema_version());
}

TEST_P(StoreConformance, RefusesANewerSchema) {
  { ASSERT_NE(open(), nullptr); }
  ASSERT_TRUE(under_test().set_stored_schema_version(99).ok());
  auto store = under_test().open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos) << store.status().message();
  EXPECT_EQ(*under_test().stored_schema_version(), 99) << "a refused schema is left alone";
}

TEST_P(StoreConformance, RefusesATableMissingAColumn) {
  ASSERT_TRUE(
      under_test().exec("CREATE TABLE object_locations (object_key TEXT, backend_name TEXT, size_bytes INTEGER)").ok());
  auto store = under_test().open();
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("storage_key"), std::string::npos) << store.status().message();
}

PassRecord record_of(const std::string& pass_id, const std::string& backend, Clock::time_point started_at) {
  PassRecord r;
  r.pass_id = pass_id;
  r.instance = "host:1";
  r.backend = backend;
  r.paths = "photos/";
  r.bucket = "photos";
  r.kind = "diff";
  r.dry_run = true;
  r.started_at = started_at;
  return r;
}

TEST_P(StoreConformance, PassRecordsKeepEveryFieldAndEveryCount) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  PassRecords* records = store->pass_records();
  ASSERT_NE(records, nullptr) << "every store keeps pass records";
  const Clock::time_point t0 = Clock::time_point{} + std::chrono::microseconds(1796130034209890);
  PassRecord r = record_of("p1", "disk", t0);
  ASSERT_TRUE(records->begin(r).ok());
  auto running = records->recent("disk", 10);
  ASSERT_TRUE(running.ok()) << running.status().to_string();
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ((*running)[0].outcome, "running");
  EXPECT_FALSE((*running)[0].finished_at.has_value());

  // A distinct value in every counter: a count lost or swapped shows.
  std::uint64_t n = 1;
  for (const auto& [name, field] : kPassCountFields) r.counts.*field = 1000 + n++;
  r.finished_at = t0 + std::chrono::milliseconds(1500);
  r.outcome = "error";
  r.error = "UNAVAILABLE: gone \"away\"";
  r.shared = true;
  ASSERT_TRUE(records->finish(r).ok());
  auto done = records->recent("disk", 10);
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  ASSERT_EQ(done->size(), 1u) << "finish updates the record begin wrote";
  const PassRecord& got = (*done)[0];
  EXPECT_EQ(got.pass_id, "p1");
  EXPECT_EQ(got.instance, "host:1");
  EXPECT_EQ(got.backend, "disk");
  EXPECT_EQ(got.bucket, "photos");
  EXPECT_EQ(got.paths, "photos/");
  EXPECT_EQ(got.kind, "diff");
  EXPECT_TRUE(got.dry_run);
  EXPECT_TRUE(got.shared);
  EXPECT_EQ(got.started_at, t0);
  ASSERT_TRUE(got.finished_at.has_value());
  EXPECT_EQ(*got.finished_at, *r.finished_at);
  EXPECT_EQ(got.outcome, "error");
  EXPECT_EQ(got.error, r.error);
  for (const auto& [name, field] : kPassCountFields) EXPECT_EQ(got.counts.*field, r.counts.*field) << name;
}

TEST_P(StoreConformance, PassRecordsComeNewestFirstPerBackendUpToTheLimit) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  PassRecords* records = store->pass_records();
  ASSERT_NE(records, nullptr);
  const Clock::time_point t0 = Clock::now() - std::chrono::hours(1);
  // Recorded out of order; a finish without a begin is a record too.
  for (int i : {2, 0, 3, 1}) {
    PassRecord r = record_of("a" + std::to_string(i), "disk", t0 + std::chrono::seconds(i));
    r.counts.listed = static_cast<std::uint64_t>(i);
    ASSERT_TRUE((i == 3 ? records->finish(r) : records->begin(r)).ok());
  }
  ASSERT_TRUE(records->begin(record_of("b0", "other", t0 + std::chrono::seconds(10))).ok());
  // Two instances of one shared pass each keep their own record.
  PassRecord second = record_of("a1", "disk", t0 + std::chrono::seconds(1));
  second.instance = "host:2";
  ASSERT_TRUE(records->begin(second).ok());

  auto ids = [&](std::string_view backend, std::size_t limit) {
    std::vector<std::string> out;
    auto got = records->recent(backend, limit);
    EXPECT_TRUE(got.ok()) << got.status().to_string();
    if (got.ok()) {
      for (const auto& r : *got) out.push_back(r.pass_id + "@" + r.instance);
    }
    return out;
  };
  EXPECT_EQ(ids("disk", 10),
            (std::vector<std::string>{"a3@host:1", "a2@host:1", "a1@host:2", "a1@host:1", "a0@host:1"}));
  EXPECT_EQ(ids("disk", 2), (std::vector<std::string>{"a3@host:1", "a2@host:1"}));
  EXPECT_EQ(ids("other", 10), (std::vector<std::string>{"b0@host:1"}));
  EXPECT_EQ(ids("", 2), (std::vector<std::string>{"b0@host:1", "a3@host:1"}));
  EXPECT_TRUE(ids("nobody", 10).empty());
}

TEST_P(StoreConformance, PassRecordsOfPassesThatEndedBeforeTheCutoffArePruned) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  PassRecords* records = store->pass_records();
  ASSERT_NE(records, nullptr);
  const Clock::time_point now = Clock::now();
  auto finished = [&](const std::string& id, const std::string& backend, Clock::time_point ended) {
    PassRecord r = record_of(id, backend, ended - std::chrono::minutes(5));
    r.finished_at = ended;
    r.outcome = "ok";
    return records->finish(r);
  };
  ASSERT_TRUE(finished("old", "disk", now - std::chrono::hours(48)).ok());
  ASSERT_TRUE(finished("old-elsewhere", "other", now - std::chrono::hours(30)).ok());
  ASSERT_TRUE(finished("recent", "disk", now - std::chrono::hours(1)).ok());
  // Started long before the cutoff and never finished: its process died.
  ASSERT_TRUE(records->begin(record_of("killed", "disk", now - std::chrono::hours(72))).ok());

  auto none = records->prune(now - std::chrono::hours(49));
  ASSERT_TRUE(none.ok()) << none.status().to_string();
  EXPECT_EQ(*none, 0u) << "nothing ended before the cutoff";
  auto pruned = records->prune(now - std::chrono::hours(24));
  ASSERT_TRUE(pruned.ok()) << pruned.status().to_string();
  EXPECT_EQ(*pruned, 2u) << "every backend's";

  auto left = records->recent("", 10);
  ASSERT_TRUE(left.ok()) << left.status().to_string();
  std::vector<std::string> ids;
  for (const auto& r : *left) ids.push_back(r.pass_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"recent", "killed"}));
  auto again = records->prune(now - std::chrono::hours(24));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
}

TEST_P(StoreConformance, InstancesMigratingAtOnceAllSucceed) {
  constexpr int kInstances = 6;
  std::latch start(kInstances);
  std::vector<Status> outcomes(kInstances);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kInstances; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        auto store = under_test().open();
        outcomes[static_cast<std::size_t>(i)] = store.status();
        if (store.ok()) {
          outcomes[static_cast<std::size_t>(i)] =
              (*store)->insert_if_absent("disk", entry("b/" + std::to_string(i)), kLongAgo).status();
        }
      });
    }
  }
  for (int i = 0; i < kInstances; ++i)
    EXPECT_TRUE(outcomes[static_cast<std::size_t>(i)].ok())
        << i << ": " << outcomes[static_cast<std::size_t>(i)].to_string();
  auto version = under_test().stored_schema_version();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, under_test().build_schema_version());
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(page_all(*store, "disk", 10).size(), static_cast<std::size_t>(kInstances));
}

}  // namespace
}  // namespace s3reconcile::testing
