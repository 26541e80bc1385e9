#include "s3reconcile/buckets.h"

#include <gtest/gtest.h>

#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

TEST(Buckets, SiblingPrefixesKeepOrderAndSkipCurrent) {
  EXPECT_EQ(sibling_prefixes({"photos", "docs", "logs"}, "docs"), (std::vector<std::string>{"photos/", "logs/"}));
  EXPECT_TRUE(sibling_prefixes({"docs"}, "docs").empty());
  EXPECT_EQ(sibling_prefixes({"a1b", "c2d"}, "zzz").size(), 2u);
}

TEST(Buckets, NameRules) {
  const std::string longest(63, 'a');
  for (const std::string& ok : {std::string("abc"), std::string("my.bucket-1"), std::string("0aa"), longest}) {
    EXPECT_TRUE(validate_bucket_name(ok).ok()) << ok;
  }
  for (const char* bad : {"ab", "Abc", "a_b", "-ab", "ab-", "a..b", "a/b", "ab\xc3\xa9"}) {
    EXPECT_FALSE(validate_bucket_name(bad).ok()) << bad;
  }
  EXPECT_FALSE(validate_bucket_name(std::string(64, 'a')).ok());
}

TEST(KeyOrder, UnsignedBytesAndPrefixFirst) {
  EXPECT_LT(compare_keys("a", "ab"), 0);
  EXPECT_LT(compare_keys("a-b", "a/b"), 0);
  EXPECT_LT(compare_keys("a/b", "a0"), 0);
  EXPECT_LT(compare_keys("z", "\xc3\xa9"), 0);
  EXPECT_EQ(compare_keys("", ""), 0);
  EXPECT_GT(compare_keys("b", ""), 0);
}

TEST(KeyOrder, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("b/"), "b0");
  EXPECT_EQ(prefix_successor("a\xff"), "b");
  EXPECT_EQ(prefix_successor("\xff\xff"), "");
  EXPECT_EQ(prefix_successor(""), "");
}

TEST(KeyOrder, QuoteKeyEscapesControlBytes) { EXPECT_EQ(quote_key("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\x0a\\x01\""); }

}  // namespace
}  // namespace s3reconcile
