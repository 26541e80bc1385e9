// The sorted merge, checked against a reference model (set differences) and
// on its named edge cases and failure rules.
#include "s3reconcile/merge.h"

#include <gtest/gtest.h>

#include <random>

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

// Records every callback, in order.
struct Recorder {
  std::vector<std::string> imports, deletes, all;
  EntryCallback on_import() {
    return [this](const Entry& e) {
      imports.push_back(e.key);
      all.push_back("+" + e.key);
      return ok_status();
    };
  }
  EntryCallback on_delete() {
    return [this](const Entry& e) {
      deletes.push_back(e.key);
      all.push_back("-" + e.key);
      return ok_status();
    };
  }
};

KeySet difference(const KeySet& a, const KeySet& b) {
  KeySet out;
  for (const auto& k : a) if (!b.count(k)) out.insert(k);
  return out;
}

std::vector<std::string> as_vector(const KeySet& s) { return {s.begin(), s.end()}; }

// Keys made of the characters whose order trips naive code: '/', '-', '~',
// multi-byte UTF-8 (bytes >= 0x80), and short keys that prefix longer ones.
std::string random_tail(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {"a", "b", "/", "-", "~", "0", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "A", " "};
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
  EXPECT_EQ(r.all, (std::vector<std::string>{"-b/a", "+b/a-b", "+b/a0", "-b/ab", "+b/\xc3\xa9",
                                             "-b/\xc3\xa9t\xc3\xa9"}));
}

// The full pipeline (lister -> S3KeyStream, store -> DBCursorStream -> merge)
// against set differences, over page and queue sizes.
TEST(Merge, MatchesReferenceModelOverPageAndQueueSizes) {
  std::mt19937 rng(20261125);
  int trials = 0;
  for (std::size_t page : {1, 2, 3, 1000}) {
    for (std::size_t queue : {1, 2, 64}) {
      for (int trial = 0; trial < 12; ++trial) {
        const bool adopt = trial % 2 == 1;
        std::uniform_int_distribution<int> count(0, trial < 2 ? 0 : 120), coin(0, 2);
        KeySet native, raw, index;
        std::map<std::string, std::int64_t, testing::KeyLess> objects;
        FakeStore store;
        for (int n = count(rng); n > 0; --n) {
          const std::string tail = random_tail(rng);
          switch (coin(rng)) {
            case 0: native.insert("b/" + tail); objects["b/" + tail] = 1; break;
            case 1: if (!tail.starts_with("b/") && !tail.starts_with("c/")) { raw.insert(tail); objects[tail] = 1; } break;
            default: objects["c/" + tail] = 1; break;  // a sibling bucket's object
          }
        }
        for (int n = count(rng); n > 0; --n) {
          const std::string key = "b/" + random_tail(rng);
          index.insert(key);
          store.put("disk", key);
          store.put("disk", "c/" + random_tail(rng));  // sibling rows
          store.put("other", key + "x");                // another backend's rows
        }
        // Some rows match listed keys exactly.
        for (const auto& k : native) if (coin(rng) == 0) { index.insert(k); store.put("disk", k); }

        KeySet listed = native;
        std::size_t collisions = 0;
        if (adopt) {
          for (const auto& r : raw) {
            if (!listed.insert("b/" + r).second) ++collisions;
          }
        }
        FakeLister lister(objects, page);
        S3KeyStreamOptions options;
        options.bucket = "b";
        options.known_buckets = {"b", "c"};
        options.adopt_unprefixed = adopt;
        options.queue_size = queue;
        S3KeyStream listing(lister, options);
        DBCursorStream cursor(store, DBCursorOptions{"disk", "b", {"b", "c"}, page, "", "", false});
        Recorder r;
        Status s = sorted(listing, cursor, r.on_import(), r.on_delete());
        ASSERT_TRUE(s.ok()) << s.to_string();
        ASSERT_EQ(r.imports, as_vector(difference(listed, index))) << "page " << page << " queue " << queue;
        ASSERT_EQ(r.deletes, as_vector(difference(index, listed))) << "page " << page << " queue " << queue;
        ASSERT_EQ(listing.collisions(), collisions);
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
  auto l = VectorSource::of(listing);
  auto i = VectorSource::of(index);
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

TEST(Merge, RepeatedIndexKeyIsAnError) {
  expect_order_error({"b/z"}, {"b/a", "b/a"}, "index", "b/a", "b/a", {});
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

}  // namespace
}  // namespace s3reconcile
