// ListObjectsV2 paging over a bucket that merges generated keys with PUT ones.
#include <gtest/gtest.h>

#include <algorithm>

#include "bucket.h"

namespace s3r_synthetic {
namespace {

std::vector<std::string> keys_of(const ListResult& r) {
  std::vector<std::string> out;
  for (const auto& o : r.contents) out.push_back(o.key);
  return out;
}

// Every key, page after page, as a client following tokens would get them.
std::vector<std::string> walk(const Bucket& b, ListQuery q) {
  std::vector<std::string> out;
  for (int pages = 0; pages < 1000; ++pages) {
    const ListResult r = b.list(q);
    // One page's keys and prefixes, back in the byte order they interleave in.
    std::vector<std::pair<std::string, std::string>> page;
    for (auto& k : keys_of(r)) page.emplace_back(k, k);
    for (auto& p : r.common_prefixes) page.emplace_back(p, "CP:" + p);
    std::sort(page.begin(), page.end());
    for (auto& [order, shown] : page) out.push_back(shown);
    if (!r.truncated) return out;
    q.position = decode_token(r.next_continuation_token);
    EXPECT_TRUE(q.position.has_value());
  }
  ADD_FAILURE() << "no end";
  return out;
}

TEST(Listing, PagesEndExactlyWithoutAnEmptyTruncatedPage) {
  Bucket b(KeySpace("", 6));
  ListQuery q;
  q.max_keys = 3;
  ListResult first = b.list(q);
  EXPECT_EQ(first.key_count(), 3);
  EXPECT_TRUE(first.truncated);
  q.position = decode_token(first.next_continuation_token);
  ListResult second = b.list(q);
  EXPECT_EQ(keys_of(second),
            (std::vector<std::string>{"d00000/o000000000003", "d00000/o000000000004", "d00000/o000000000005"}));
  EXPECT_FALSE(second.truncated);
}

TEST(Listing, StartAfterInTheMiddleOfTenMillionKeys) {
  Bucket b(KeySpace("vb/", 10'000'000));
  ListQuery q;
  q.prefix = "vb/";
  q.start_after = "vb/d00500/o000005000000";
  q.max_keys = 2;
  const ListResult r = b.list(q);
  EXPECT_EQ(keys_of(r), (std::vector<std::string>{"vb/d00500/o000005000001", "vb/d00500/o000005000002"}));
  EXPECT_EQ(r.contents[0].size, 1000 + 5'000'001 % 9000);
  EXPECT_EQ(r.contents[0].last_modified, "2026-01-01T00:00:00.000Z");
  EXPECT_TRUE(r.truncated);
  q.start_after = "vb/d00999/o000009999999";
  EXPECT_TRUE(b.list(q).contents.empty());
  EXPECT_FALSE(b.list(q).truncated);
}

TEST(Listing, OverlayMergesInByteOrderAndHidesGeneratedKeys) {
  Bucket b(KeySpace("g/", 3));
  b.put("a-b", "1", "2026-02-01T00:00:00.000Z");
  b.put("g/d00000/o000000000001x", "22", "2026-02-01T00:00:00.000Z");
  b.put("\xc3\xa9", "333", "2026-02-01T00:00:00.000Z");
  b.remove("g/d00000/o000000000000");
  b.put("g/d00000/o000000000002", "4444", "2026-02-01T00:00:00.000Z");
  ListQuery q;
  q.max_keys = 2;
  EXPECT_EQ(walk(b, q), (std::vector<std::string>{"a-b", "g/d00000/o000000000001", "g/d00000/o000000000001x",
                                                  "g/d00000/o000000000002", "\xc3\xa9"}));
  EXPECT_FALSE(b.head("g/d00000/o000000000000"));
  EXPECT_EQ(b.head("g/d00000/o000000000001")->size, 1001);
  EXPECT_EQ(b.head("g/d00000/o000000000002")->size, 4);  // the PUT replaced the generated one
  b.remove("g/d00000/o000000000002");
  EXPECT_FALSE(b.head("g/d00000/o000000000002"));
}

TEST(Listing, DelimiterGroupsAndPagesOverCommonPrefixes) {
  Bucket b(KeySpace("vb/", 25'000));
  b.put("vb/loose", "x", "2026-02-01T00:00:00.000Z");
  b.put("vb/zz/deep/er", "x", "2026-02-01T00:00:00.000Z");
  ListQuery q;
  q.prefix = "vb/";
  q.delimiter = "/";
  q.max_keys = 2;
  EXPECT_EQ(walk(b, q),
            (std::vector<std::string>{"CP:vb/d00000/", "CP:vb/d00001/", "CP:vb/d00002/", "vb/loose", "CP:vb/zz/"}));
}

TEST(Listing, TokensRoundTripAnyBytes) {
  const std::string position("a\0\xff/b", 5);
  EXPECT_EQ(decode_token(encode_token(position)), position);
  EXPECT_FALSE(decode_token("abc"));
  EXPECT_FALSE(decode_token("zz"));
}

}  // namespace
}  // namespace s3r_synthetic
