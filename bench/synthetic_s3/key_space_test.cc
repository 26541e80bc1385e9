// The arithmetic of the generated key set: names, byte order, lower bounds of
// arbitrary strings, and the prefix / delimiter ranges listing builds on.
#include <gtest/gtest.h>

#include "bucket.h"
#include "key_space.h"

namespace s3r_synthetic {
namespace {

TEST(KeySpace, NamesKeysByDirectoryAndIndex) {
  const KeySpace s("vb/", 10'000'000);
  EXPECT_EQ(s.key(0), "vb/d00000/o000000000000");
  EXPECT_EQ(s.key(9'999), "vb/d00000/o000000009999");
  EXPECT_EQ(s.key(10'000), "vb/d00001/o000000010000");
  EXPECT_EQ(s.key(9'999'999), "vb/d00999/o000009999999");
  EXPECT_EQ(KeySpace("", 1).key(0), "d00000/o000000000000");
}

TEST(KeySpace, ByteOrderIsIndexOrder) {
  const KeySpace s("p", 1'000'000);
  for (std::uint64_t i : {0ULL, 1ULL, 9'998ULL, 9'999ULL, 10'000ULL, 99'999ULL, 100'000ULL, 999'998ULL}) {
    EXPECT_LT(s.key(i), s.key(i + 1)) << i;
  }
}

TEST(KeySpace, SizesEtagsAreDeterministic) {
  EXPECT_EQ(KeySpace::size(0), 1000);
  EXPECT_EQ(KeySpace::size(8'999), 9'999);
  EXPECT_EQ(KeySpace::size(9'000), 1000);
  EXPECT_EQ(KeySpace::etag(7), KeySpace::etag(7));
  EXPECT_NE(KeySpace::etag(7), KeySpace::etag(8));
  EXPECT_EQ(KeySpace::etag(7).size(), 34u);  // quoted 32 hex digits
}

TEST(KeySpace, LowerBoundOfArbitraryStrings) {
  const KeySpace s("vb/", 10'000'000);
  EXPECT_EQ(s.lower_bound(""), 0u);
  EXPECT_EQ(s.lower_bound("a"), 0u);
  EXPECT_EQ(s.lower_bound("vb/"), 0u);
  EXPECT_EQ(s.lower_bound("vb/d00000/o000000000000"), 0u);
  EXPECT_EQ(s.lower_bound(key_successor("vb/d00000/o000000000000")), 1u);
  EXPECT_EQ(s.lower_bound("vb/d00500/o000005000000"), 5'000'000u);
  EXPECT_EQ(s.lower_bound("vb/d00500/"), 5'000'000u);
  EXPECT_EQ(s.lower_bound("vb/d00500/o000005000000x"), 5'000'001u);
  EXPECT_EQ(s.lower_bound("vb/d005"), 5'000'000u);
  EXPECT_EQ(s.lower_bound("vb/d00999/o000009999999"), 9'999'999u);
  EXPECT_EQ(s.lower_bound("vb/d01"), 10'000'000u);
  EXPECT_EQ(s.lower_bound("vb0"), 10'000'000u);
  EXPECT_EQ(s.lower_bound("\xff"), 10'000'000u);  // bytes above 0x7f sort last
  EXPECT_EQ(KeySpace("", 0).lower_bound("x"), 0u);
  // Keys and successors of keys at and past the end (the direct path must agree with the search).
  EXPECT_EQ(s.lower_bound(key_successor("vb/d00999/o000009999999")), 10'000'000u);
  EXPECT_EQ(s.lower_bound("vb/d01000/o000010000000"), 10'000'000u);
  // Wrong directory for index 10000: not a key; it sorts after every key of d00000.
  EXPECT_EQ(s.lower_bound(key_successor("vb/d00000/o000000010000")), 10'000u);
  EXPECT_EQ(KeySpace("vb/", 3).lower_bound(key_successor("vb/d00000/o000000000002")), 3u);
}

TEST(KeySpace, LowerBoundMatchesALinearScan) {
  const KeySpace s("p/", 25'000);
  for (std::uint64_t i : {0ULL, 1ULL, 9'999ULL, 10'000ULL, 24'999ULL}) {
    EXPECT_EQ(s.lower_bound(s.key(i)), i);
    EXPECT_EQ(s.lower_bound(key_successor(s.key(i))), i + 1);
    std::string between = s.key(i);
    between.back() = static_cast<char>(between.back() + 1);  // not a key, or the next one
    std::uint64_t scan = 0;
    while (scan < s.count() && s.key(scan) < between) ++scan;
    EXPECT_EQ(s.lower_bound(between), scan) << between;
  }
}

TEST(KeySpace, FindsOnlyGeneratedKeys) {
  const KeySpace s("vb/", 20'000);
  EXPECT_EQ(s.find("vb/d00001/o000000012345"), 12'345u);
  EXPECT_FALSE(s.find("vb/d00001/o00000001234"));
  EXPECT_FALSE(s.find("vb/d00002/o000000020000"));  // i == count
  EXPECT_FALSE(s.find("vb/d00000/o000000012345"));  // wrong directory
}

TEST(KeySpace, PrefixRangesByLowerBounds) {
  const KeySpace s("vb/", 10'000'000);
  // [lower_bound(p), lower_bound(prefix_successor(p))) is every key under p.
  const auto range = [&](std::string_view p) {
    const auto end = prefix_successor(p);
    return std::pair{s.lower_bound(p), end ? s.lower_bound(*end) : s.count()};
  };
  EXPECT_EQ(range("vb/d00042/"), (std::pair<std::uint64_t, std::uint64_t>{420'000, 430'000}));
  EXPECT_EQ(range("vb/d0004"), (std::pair<std::uint64_t, std::uint64_t>{400'000, 500'000}));
  EXPECT_EQ(range("vb/"), (std::pair<std::uint64_t, std::uint64_t>{0, 10'000'000}));
  EXPECT_EQ(range("vb/d00042/o000000420007"), (std::pair<std::uint64_t, std::uint64_t>{420'007, 420'008}));
  EXPECT_EQ(range("vb/x").first, range("vb/x").second);
}

TEST(KeySpace, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("a/"), "a0");
  EXPECT_EQ(prefix_successor("a\xff\xff"), "b");
  EXPECT_EQ(prefix_successor("\x7f"), "\x80");
  EXPECT_FALSE(prefix_successor(""));
  EXPECT_FALSE(prefix_successor("\xff\xff"));
}

TEST(KeySpace, DelimiterPrefixesAreTheDirectories) {
  Bucket b(KeySpace("vb/", 10'000'000));
  ListQuery q;
  q.prefix = "vb/";
  q.delimiter = "/";
  ListResult r = b.list(q);
  ASSERT_EQ(r.common_prefixes.size(), 1000u);
  EXPECT_TRUE(r.contents.empty());
  EXPECT_EQ(r.common_prefixes.front(), "vb/d00000/");
  EXPECT_EQ(r.common_prefixes.back(), "vb/d00999/");
  EXPECT_FALSE(r.truncated);
  q.prefix = "";
  r = b.list(q);
  EXPECT_EQ(r.common_prefixes, std::vector<std::string>{"vb/"});
}

}  // namespace
}  // namespace s3r_synthetic
