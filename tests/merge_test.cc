// The sorted merge, checked against a reference model (set differences) and
// on its named edge cases and failure rules.
#include "s3reconcile/merge.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>

#include <fmt/format.h>

#include "fakes.h"
#include "s3reconcile/db_cursor_stream.h"
#include "s3reconcile/s3_key_stream.h"

namespace s3reconcile {
namespace {

using testing::entry;
using testing::FakeLister;
using testing::FakeStore;
using testing::KeySet;
using testing::VectorSource;

// Records every callback's path, in order.
struct Recorder {
  std::vector<std::string> imports, deletes, all;
  EntryCallback on_import() {
    return [this](const Entry& e) {
      imports.push_back(e.storage_key);
      all.push_back("+" + e.storage_key);
      return ok_status();
    };
  }
  EntryCallback on_delete() {
    return [this](const Entry& e) {
      deletes.push_back(e.storage_key);
      all.push_back("-" + e.storage_key);
      return ok_status();
    };
  }
};

KeySet difference(const KeySet& a, const KeySet& b) {
  KeySet out;
  for (const auto& k : a)
    if (!b.count(k)) out.insert(k);
  return out;
}

std::vector<std::string> as_vector(const KeySet& s) { return {s.begin(), s.end()}; }

// Keys made of the characters whose order trips naive code: '/', '-', '~',
// multi-byte UTF-8 (bytes >= 0x80), and short keys that prefix longer ones.
std::string random_tail(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {
      "a", "b", "/", "-", "~", "0", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "A", " "};
  std::uniform_int_distribution<std::size_t> len(1, 5), piece(0, kPieces.size() - 1);
  std::string out;
  for (std::size_t n = len(rng); n > 0; --n) out += kPieces[piece(rng)];
  return out;
}

TEST(Merge, BothEmpty) {
  auto l = VectorSource::of({});
  auto i = VectorSource::of({});
  Recorder r;
  EXPECT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_TRUE(r.all.empty());
}

TEST(Merge, IndexEmptyImportsEverything) {
  auto l = VectorSource::of({"b/a", "b/b", "b/c"});
  auto i = VectorSource::of({});
  Recorder r;
  ASSERT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_EQ(r.imports, (std::vector<std::string>{"b/a", "b/b", "b/c"}));
  EXPECT_TRUE(r.deletes.empty());
}

TEST(Merge, ListingEmptyDeletesEverything) {
  auto l = VectorSource::of({});
  auto i = VectorSource::of({"b/a", "b/b"});
  Recorder r;
  ASSERT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_TRUE(r.imports.empty());
  EXPECT_EQ(r.deletes, (std::vector<std::string>{"b/a", "b/b"}));
}

TEST(Merge, AllMatchingDoesNothing) {
  auto l = VectorSource::of({"b/a", "b/a-b", "b/a/b", "b/\xc3\xa9"});
  auto i = VectorSource::of({"b/a", "b/a-b", "b/a/b", "b/\xc3\xa9"});
  Recorder r;
  ASSERT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_TRUE(r.all.empty());
}

TEST(Merge, InterleavesInByteOrder) {
  // '-' (0x2d) < '/' (0x2f) < '0' (0x30) < 'a' < 0xc3: byte order, not locale order.
  auto l = VectorSource::of({"b/a-b", "b/a/b", "b/a0", "b/\xc3\xa9"});
  auto i = VectorSource::of({"b/a", "b/a/b", "b/ab", "b/\xc3\xa9t\xc3\xa9"});
  Recorder r;
  ASSERT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_EQ(r.all,
            (std::vector<std::string>{"-b/a", "+b/a-b", "+b/a0", "-b/ab", "+b/\xc3\xa9", "-b/\xc3\xa9t\xc3\xa9"}));
}

// The full pipeline (lister -> S3KeyStream, store -> DBCursorStream -> merge)
// against set differences on paths, over page and queue sizes. The backend
// stores bucket b; c is a bucket stored elsewhere (its paths are left out);
// unprefixed paths are adopted into b or left out. Index rows may point at
// a path other than their key (adopted rows), and two rows may share a path.
TEST(Merge, MatchesReferenceModelOverPageAndQueueSizes) {
  std::mt19937 rng(20261125);
  int trials = 0;
  for (std::size_t page : {1, 2, 3, 1000}) {
    for (std::size_t queue : {1, 2, 64}) {
      for (int trial = 0; trial < 12; ++trial) {
        const bool adopt = trial % 2 == 1;
        std::uniform_int_distribution<int> count(0, trial < 2 ? 0 : 120), coin(0, 2);
        KeySet native, raw;
        std::map<std::string, std::int64_t, testing::KeyLess> objects;
        FakeStore store;
        // Covered index rows as (path, key), the model's index side.
        std::set<std::pair<std::string, std::string>, std::function<bool(const std::pair<std::string, std::string>&,
                                                                         const std::pair<std::string, std::string>&)>>
            rows([](const auto& x, const auto& y) {
              const int p = compare_keys(x.first, y.first);
              return p != 0 ? p < 0 : compare_keys(x.second, y.second) < 0;
            });
        auto is_raw = [](const std::string& t) { return !t.starts_with("b/") && !t.starts_with("c/"); };
        for (int n = count(rng); n > 0; --n) {
          const std::string tail = random_tail(rng);
          switch (coin(rng)) {
            case 0:
              native.insert("b/" + tail);
              objects["b/" + tail] = 1;
              break;
            case 1:
              if (is_raw(tail)) {
                raw.insert(tail);
                objects[tail] = 1;
              }
              break;
            default:
              objects["c/" + tail] = 1;
              break;  // a bucket stored elsewhere
          }
        }
        for (int n = count(rng); n > 0; --n) {
          const std::string key = "b/" + random_tail(rng);
          store.put("disk", key);
          rows.insert({key, key});
          store.put("disk", "c/" + random_tail(rng));  // rows of a bucket stored elsewhere
          store.put("other", key + "x");               // another backend's rows
          const std::string tail = random_tail(rng);
          if (is_raw(tail) && coin(rng) == 0) {
            store.put("disk", "b/adopted/" + tail, 0, tail);  // an adopted row: known by one key, stored at another
            if (adopt) rows.insert({tail, "b/adopted/" + tail});
          }
        }
        // Some rows match listed keys exactly; some paths have a second row.
        for (const auto& k : native) {
          if (coin(rng) == 0) {
            store.put("disk", k);
            rows.insert({k, k});
          }
          if (coin(rng) == 0) {
            store.put("disk", "b/copy/" + k, 0, k);
            rows.insert({k, "b/copy/" + k});
          }
        }

        KeySet listed = native;
        if (adopt) listed.insert(raw.begin(), raw.end());
        KeySet indexed;
        for (const auto& [path, key] : rows) indexed.insert(path);
        std::vector<std::string> expected_deletes;
        for (const auto& [path, key] : rows)
          if (!listed.count(path)) expected_deletes.push_back(path);

        FakeLister lister(objects, page);
        auto classifier =
            std::make_shared<PathClassifier>(std::vector<std::string>{"b"}, std::vector<std::string>{"b", "c"}, adopt);
        S3KeyStreamOptions options;
        options.classifier = classifier;
        options.queue_size = queue;
        S3KeyStream listing(lister, options);
        DBCursorOptions cursor_options;
        cursor_options.backend = "disk";
        cursor_options.classifier = classifier;
        cursor_options.page_size = page;
        DBCursorStream cursor(store, cursor_options);
        Recorder r;
        Status s = sorted(listing, cursor, r.on_import(), r.on_delete());
        ASSERT_TRUE(s.ok()) << s.to_string();
        ASSERT_EQ(r.imports, as_vector(difference(listed, indexed))) << "page " << page << " queue " << queue;
        ASSERT_EQ(r.deletes, expected_deletes) << "page " << page << " queue " << queue;
        ++trials;
      }
    }
  }
  std::cout << "reference-model trials: " << trials << "\n";
}

TEST(Merge, FailingImportCallbackStopsTheMerge) {
  auto l = VectorSource::of({"b/1", "b/2", "b/3", "b/4", "b/5"});
  auto i = VectorSource::of({"b/6"});
  int calls = 0;
  Status s = sorted(
      l, i,
      [&](const Entry& e) {
        ++calls;
        return e.key == "b/3" ? unavailable_error("store down") : ok_status();
      },
      [&](const Entry&) {
        ADD_FAILURE() << "no delete may run after a failed import";
        return ok_status();
      });
  EXPECT_EQ(s, unavailable_error("store down"));
  EXPECT_EQ(calls, 3);
}

TEST(Merge, FailingDeleteCallbackStopsTheMerge) {
  auto l = VectorSource::of({"b/9"});
  auto i = VectorSource::of({"b/1", "b/2", "b/3"});
  int calls = 0;
  Status s = sorted(
      l, i,
      [&](const Entry&) {
        ADD_FAILURE() << "no import may run after a failed delete";
        return ok_status();
      },
      [&](const Entry&) {
        ++calls;
        return internal_error("boom");
      });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 1);
}

TEST(Merge, ListingErrorEndsTheMergeWithNoLaterCallback) {
  std::vector<Entry> entries;
  for (const char* k : {"b/1", "b/2", "b/3", "b/4"}) entries.push_back(entry(k));
  VectorSource l(entries);
  l.fail_at(2, unavailable_error("connection reset on page 2"));
  auto i = VectorSource::of({"b/0", "b/5", "b/6"});
  Recorder r;
  Status s = sorted(l, i, r.on_import(), r.on_delete());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("listing stream"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("connection reset on page 2"), std::string::npos);
  // b/0 (index) and b/1 (listing, whose successor b/2 was read fine) were
  // handled; the error surfaced while reading past b/2, before its callback.
  EXPECT_EQ(r.all, (std::vector<std::string>{"-b/0", "+b/1"}));
  // Above all: b/5 and b/6 are not removed on the strength of a failed listing.
  EXPECT_TRUE(std::find(r.deletes.begin(), r.deletes.end(), "b/5") == r.deletes.end());
}

TEST(Merge, ListingErrorAtStartRemovesNothing) {
  VectorSource l({});
  l.fail_at(0, unavailable_error("403 SignatureDoesNotMatch"));
  auto i = VectorSource::of({"b/1", "b/2"});
  Recorder r;
  EXPECT_FALSE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_TRUE(r.all.empty());
}

TEST(Merge, IndexErrorEndsTheMerge) {
  auto l = VectorSource::of({"b/1", "b/2", "b/3"});
  std::vector<Entry> rows = {entry("b/1"), entry("b/2"), entry("b/3")};
  VectorSource i(rows);
  i.fail_at(1, unavailable_error("server closed the connection"));
  Recorder r;
  Status s = sorted(l, i, r.on_import(), r.on_delete());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("index stream"), std::string::npos);
  EXPECT_TRUE(r.all.empty());
}

void expect_order_error(const std::vector<std::string>& listing, const std::vector<std::string>& index,
                        const std::string& side, const std::string& later, const std::string& earlier,
                        const std::vector<std::string>& callbacks_before) {
  // Whatever the batches the sides come in (the bad pair inside one batch or
  // across two), the error comes exactly where a read one entry ahead sees it.
  for (std::size_t batch : {1, 2, 3, 100}) {
    SCOPED_TRACE("batches of " + std::to_string(batch));
    auto l = VectorSource::of(listing, batch);
    auto i = VectorSource::of(index, batch);
    Recorder r;
    Status s = sorted(l, i, r.on_import(), r.on_delete());
    ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.to_string();
    EXPECT_NE(s.message().find(side + " stream is not in ascending key order"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("\"" + later + "\" came after \"" + earlier + "\""), std::string::npos) << s.message();
    EXPECT_EQ(r.all, callbacks_before);
    for (const auto& c : r.all) {
      EXPECT_NE(c.substr(1), later);
      EXPECT_NE(c.substr(1), earlier);
    }
  }
}

TEST(Merge, DescendingListingKeyIsAnErrorNamingBothKeys) {
  expect_order_error({"b/a", "b/c", "b/b", "b/d"}, {"b/b"}, "listing", "b/b", "b/c", {"+b/a"});
}

TEST(Merge, RepeatedListingKeyIsAnError) {
  auto l = VectorSource::of({"b/a", "b/a"});
  auto i = VectorSource::of({});
  Recorder r;
  Status s = sorted(l, i, r.on_import(), r.on_delete());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("repeated key"), std::string::npos);
  EXPECT_TRUE(r.all.empty());
}

TEST(Merge, DescendingIndexKeyIsAnErrorNamingBothKeys) {
  expect_order_error({"b/z"}, {"b/a", "b/m", "b/c"}, "index", "b/c", "b/m", {"-b/a"});
}

TEST(Merge, AnOrderErrorLateInABatchLetsTheKeysBeforeItThrough) {
  // One batch of 100 holds the bad pair at its end: the keys in front of it
  // are merged first, as a read one entry ahead would have merged them.
  expect_order_error({"b/a", "b/b", "b/c", "b/e", "b/d"}, {"b/b"}, "listing", "b/d", "b/e", {"+b/a", "+b/c"});
  expect_order_error({"b/z"}, {"b/a", "b/b", "b/d", "b/e", "b/c"}, "index", "b/c", "b/e", {"-b/a", "-b/b", "-b/d"});
}

TEST(Merge, BatchesOfAnySizeMergeAlike) {
  std::vector<std::string> listed, indexed;
  for (int k = 0; k < 200; ++k) {
    const std::string key = fmt::format("b/{:04}", k);
    if (k % 7 != 3) listed.push_back(key);
    if (k % 5 != 1) indexed.push_back(key);
    if (k % 11 == 0) indexed.push_back(key);  // a second row at the path
  }
  std::vector<std::string> first;
  for (std::size_t batch : {1, 2, 7, 64, 1000}) {
    auto l = VectorSource::of(listed, batch);
    auto i = VectorSource::of(indexed, batch);
    Recorder r;
    ASSERT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
    if (first.empty()) first = r.all;
    EXPECT_EQ(r.all, first) << "batches of " << batch;
  }
  EXPECT_EQ(first.size(), 58u) << "32 paths only listed, 26 rows only indexed";
}

TEST(Merge, RowsSharingAPathAllMatchOneListedPath) {
  // Two rows point at "b/x!w1" (copies known under two names): the listed
  // path matches both. Both rows at the missing "b/y" are candidates.
  auto l = VectorSource::of({"b/x!w1", "b/z"});
  VectorSource i({testing::entry_at("b/x", "b/x!w1"), testing::entry_at("b/x-copy", "b/x!w1"),
                  testing::entry_at("b/y", "b/y!w2"), testing::entry_at("b/y2", "b/y!w2")});
  std::vector<std::string> deleted_keys;
  Recorder r;
  auto on_delete = [&](const Entry& e) {
    deleted_keys.push_back(e.key);
    return r.on_delete()(e);
  };
  ASSERT_TRUE(sorted(l, i, r.on_import(), on_delete).ok());
  EXPECT_EQ(r.all, (std::vector<std::string>{"-b/y!w2", "-b/y!w2", "+b/z"}));
  EXPECT_EQ(deleted_keys, (std::vector<std::string>{"b/y", "b/y2"}));
}

TEST(Merge, TheMergeComparesPathsNotKeys) {
  // A consistent index whose every row lives at another path than its key.
  auto l = VectorSource::of({"cas/00ff", "cas/a1b2"});
  VectorSource i({testing::entry_at("photos/sunset.jpg", "cas/00ff"), testing::entry_at("photos/a.jpg", "cas/a1b2")});
  Recorder r;
  ASSERT_TRUE(sorted(l, i, r.on_import(), r.on_delete()).ok());
  EXPECT_TRUE(r.all.empty());
}

TEST(Merge, ByteOrderNotSignedCharOrder) {
  // 0xc3 must sort after 'z' (unsigned), not before 'a' (signed char).
  expect_order_error({"b/\xc3\xa9", "b/z"}, {}, "listing", "b/z", "b/\xc3\xa9", {});
}

TEST(Merge, StopRequestCancels) {
  auto l = VectorSource::of({"b/1", "b/2"});
  auto i = VectorSource::of({});
  std::stop_source stop;
  stop.request_stop();
  Recorder r;
  Status s = sorted(l, i, r.on_import(), r.on_delete(), stop.get_token());
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_TRUE(r.all.empty());
}

// A listing that stopped at its request budget after `cut`.
class CutListing final : public KeySource {
 public:
  CutListing(const std::vector<std::string>& keys, std::string cut) : keys_(keys), cut_(std::move(cut)) {}
  StatusOr<std::span<const Entry>> next_batch() override {
    if (at_ == keys_.size()) return std::span<const Entry>();
    current_ = entry(keys_[at_++]);
    return std::span<const Entry>(&current_, 1);
  }
  void release() override {}
  std::optional<std::string> cut_after() const override { return cut_; }

 private:
  std::vector<std::string> keys_;
  std::size_t at_ = 0;
  Entry current_;
  std::string cut_;
};

TEST(Merge, ACutListingLeavesRowsPastTheCutUnjudged) {
  CutListing listing({"a", "c"}, "c");
  auto rows = VectorSource::of({"a", "b", "c", "c", "d", "e"});
  Recorder r;
  ASSERT_TRUE(sorted(listing, rows, r.on_import(), r.on_delete()).ok());
  EXPECT_EQ(r.all, (std::vector<std::string>{"-b"})) << "d and e lie past the last key listed";
}

TEST(Merge, ACutListingOfNothingJudgesNothingPastItsStart) {
  CutListing listing({}, "b");
  auto rows = VectorSource::of({"a", "c"});
  Recorder r;
  ASSERT_TRUE(sorted(listing, rows, r.on_import(), r.on_delete()).ok());
  EXPECT_EQ(r.all, (std::vector<std::string>{"-a"}));
}

TEST(Merge, MatchesAreToldWithBothEntries) {
  auto listing = VectorSource(std::vector<Entry>{entry("a", 5), entry("b", 1)});
  auto rows = VectorSource(std::vector<Entry>{entry("a", 3), entry("b", 1)});
  Recorder r;
  std::vector<std::string> matched;
  MergeCallbacks callbacks{r.on_import(), r.on_delete(), [&](const Entry& listed, const Entry& row) {
                             matched.push_back(fmt::format("{} {}/{}", listed.storage_key, row.size, listed.size));
                             return ok_status();
                           }};
  ASSERT_TRUE(sorted(listing, rows, callbacks).ok());
  EXPECT_EQ(matched, (std::vector<std::string>{"a 3/5", "b 1/1"}));
  EXPECT_TRUE(r.all.empty());
}

}  // namespace
}  // namespace s3reconcile
