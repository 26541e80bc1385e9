#include "s3/list_xml.h"
#include "s3_xml.h"  // the synthetic endpoint's writer: what a server sends

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace s3reconcile::s3 {
namespace {

using namespace std::chrono_literals;
using s3r_synthetic::xml_escape;

using s3r_synthetic::SlashInUrl;

using s3r_synthetic::s3_url_encode;  // how a server writes a key when asked for encoding-type=url

// For EXPECT_PRED2, which prints both strings when it fails.
bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

struct Object {
  std::string key_xml;  // the <Key> text exactly as it goes into the body
  std::int64_t size = 0;
  std::string last_modified = "2009-10-12T17:50:30.000Z";
};

struct Page {
  std::vector<Object> objects;
  // Plain strings with "absent" spelled out: GCC 12 at -O2 warns (falsely)
  // that an optional<string> member may be used uninitialized.
  const char* encoding_type = nullptr;  // nullptr: no <EncodingType> element
  std::optional<std::string> is_truncated = "false";
  std::string token_xml;  // <NextContinuationToken>, when non-empty
};

// A body the way S3 writes it: declaration, default namespace, one line.
std::string body(const Page& page) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>bucket</Name><Prefix></Prefix>";
  out += fmt::format("<KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys>", page.objects.size());
  if (page.encoding_type) out += fmt::format("<EncodingType>{}</EncodingType>", page.encoding_type);
  if (page.is_truncated) out += fmt::format("<IsTruncated>{}</IsTruncated>", *page.is_truncated);
  if (!page.token_xml.empty()) {
    out += fmt::format("<NextContinuationToken>{}</NextContinuationToken>", page.token_xml);
  }
  for (const Object& o : page.objects) {
    out += fmt::format(
        "<Contents><Key>{}</Key><LastModified>{}</LastModified>"
        "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>{}</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>",
        o.key_xml, o.last_modified, o.size);
  }
  out += "</ListBucketResult>";
  return out;
}

std::vector<std::string> keys_of(const ListPage& page) {
  std::vector<std::string> keys;
  for (const ListedObject& o : page.objects) keys.push_back(o.key);
  return keys;
}

// Keys that break naive encoders and decoders.
const std::vector<std::string>& tricky_keys() {
  static const std::vector<std::string> keys = {
      "a b",
      " leading space",
      "trailing space ",
      "   ",
      " ",
      "a+b",
      "+",
      "++ +",
      "100%",
      "%",
      "%41",    // a literal '%' then "41": must not be decoded twice
      "a%2Fb",  // literal text, not a slash
      "a&b",
      "&amp;",  // literal text, not an entity
      "<tag>",
      "]]>",
      "\"double\" 'single'",
      "ctl\x01\x02\x1f\x7f",
      "line\nbreak",
      "cr\r\nlf\r",
      "tab\there",
      "\r\n",
      "caf\xC3\xA9",                            // café
      "\xE6\x97\xA5\xE6\x9C\xAC/\xE8\xAA\x9E",  // 日本/語
      "emoji \xF0\x9F\x98\x80",
      "dir/sub dir/file name.txt",
      "~-_.",
      "a=b?c#d;e,f:g@h$i!j*k(l)m[n]o{p}q|r\\s^t`u",
  };
  return keys;
}

// The key comes back exactly as it went in, with an explanation if not.
void expect_keys(const StatusOr<ListPage>& page, const std::vector<std::string>& want) {
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  const std::vector<std::string> got = keys_of(*page);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << "key #" << i;
  }
}

void expect_data_loss(std::string_view xml, const std::vector<std::string>& words) {
  const StatusOr<ListPage> page = parse_list_objects_v2(xml);
  ASSERT_FALSE(page.ok()) << "parsed " << page->objects.size() << " keys from:\n" << xml;
  EXPECT_EQ(page.status().code(), StatusCode::kDataLoss) << page.status().to_string();
  for (const std::string& word : words) {
    EXPECT_PRED2(contains, page.status().message(), word);
  }
}

Clock::time_point utc(std::chrono::year_month_day date, Clock::duration time_of_day) {
  return Clock::time_point(std::chrono::sys_days(date).time_since_epoch() + time_of_day);
}

// --- The fast path --------------------------------------------------------
// parse_list_objects_v2 reads plain pages with a scanner and leaves anything
// else to pugixml. Every test above goes through both as the body decides;
// these check which path a body takes and that both give the same page.

// The scanner read `xml`, and its page is the full parser's.
void expect_scanned_alike(const std::string& xml) {
  const std::optional<ListPage> scanned = scan_list_objects_v2(xml);
  ASSERT_TRUE(scanned.has_value()) << "the scanner left this body to the full parser:\n" << xml;
  const StatusOr<ListPage> full = parse_list_objects_v2_dom(xml);
  ASSERT_TRUE(full.ok()) << full.status().to_string();
  EXPECT_TRUE(*scanned == *full) << xml;
}

// The scanner left `xml` to the full parser, and parse_list_objects_v2
// returned what the full parser does.
void expect_left_to_full_parser(const std::string& xml) {
  EXPECT_FALSE(scan_list_objects_v2(xml).has_value()) << xml;
  const StatusOr<ListPage> page = parse_list_objects_v2(xml);
  const StatusOr<ListPage> full = parse_list_objects_v2_dom(xml);
  ASSERT_EQ(page.ok(), full.ok()) << xml;
  if (page.ok()) {
    EXPECT_TRUE(*page == *full) << xml;
  } else {
    EXPECT_EQ(page.status(), full.status());
  }
}

TEST(ScanListObjectsV2, ReadsThePagesServersSendAsTheFullParserDoes) {
  Page encoded;
  encoded.encoding_type = "url";
  encoded.is_truncated = "true";
  encoded.token_xml = "1/aGVsbG8=";
  Page plain;
  for (const std::string& key : tricky_keys()) {
    encoded.objects.push_back({s3_url_encode(key, SlashInUrl::kEncoded), 12, "2026-11-30T08:00:00.123Z"});
    // Without url encoding, a server escapes the five XML characters; a
    // control byte it would write as a character reference is left to
    // the full parser (see below), so those keys go raw here.
    std::string escaped;
    for (char c : key) {
      escaped += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : std::string(1, c);
    }
    plain.objects.push_back({escaped, 7});
  }
  expect_scanned_alike(body(encoded));
  expect_scanned_alike(body(plain));
  expect_keys(parse_list_objects_v2(body(encoded)), tricky_keys());
  expect_keys(parse_list_objects_v2(body(plain)), tricky_keys());
  // Elements a page may hold that the pass does not read, nested ones too,
  // whitespace between elements and a self-closed empty element.
  expect_scanned_alike(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<ListBucketResult "
      "xmlns='http://s3.amazonaws.com/doc/2006-03-01/'>\n"
      "  <Name>b</Name><Prefix/><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\n"
      "  <Contents>\n    <Key>k</Key><Size>0</Size>\n    <Owner><ID>1</ID><DisplayName>o &amp; "
      "p</DisplayName></Owner>\n"
      "    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm><RestoreStatus><IsRestoreInProgress>false"
      "</IsRestoreInProgress></RestoreStatus>\n  </Contents>\n</ListBucketResult>\n");
}

TEST(ScanListObjectsV2, LeavesEveryOtherShapeToTheFullParser) {
  const std::string head = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>";
  const std::string tail = "</Key><Size>1</Size></Contents></ListBucketResult>";
  // Well-formed, but outside the plain shape: the same page either way.
  for (const char* key : {"a<![CDATA[b]]>", "a<!-- c -->b", "&#65;", "&#x1F600;"}) {
    expect_left_to_full_parser(head + key + tail);
  }
  expect_left_to_full_parser(
      "<s3:ListBucketResult xmlns:s3=\"x\"><s3:IsTruncated>false</s3:IsTruncated></s3:ListBucketResult>");
  expect_left_to_full_parser(
      "<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"
      "</ListBucketResult>");
  expect_left_to_full_parser(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents a=\"1\"><Key>k</Key><Size>1</Size></Contents>"
      "</ListBucketResult>");
  // Malformed or wrong: the full parser's error, word for word.
  for (const std::string& xml : std::vector<std::string>{
           head + "a&name;b" + tail, head + std::string("a\0b", 3) + tail, head + "k</Key><Size>-1</Size></Contents>",
           head + "k" + tail.substr(0, tail.size() - 1), std::string("<ListBucketResult></ListBucketResult>"),
           "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
           "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key></Contents></ListBucketResult>",
           "<ListBucketResult><IsTruncated>false</IsTruncated><IsTruncated>false</IsTruncated></ListBucketResult>",
           "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult><x/>",
           "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
           "<Contents><Key>100%</Key><Size>1</Size></Contents></ListBucketResult>",
           "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
           "<LastModified>yesterday</LastModified></Contents></ListBucketResult>",
           "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents>"
           "</ListBucketResul>"}) {
    expect_left_to_full_parser(xml);
  }
}

TEST(ScanListObjectsV2, NoCutOfAPlainPageIsAPage) {
  Page spec;
  spec.encoding_type = "url";
  spec.objects = {{"a", 1}, {"b%2Fc", 2}};
  const std::string xml = body(spec);
  for (std::size_t n = 0; n < xml.size(); ++n) {
    EXPECT_FALSE(scan_list_objects_v2(xml.substr(0, n)).has_value()) << "cut at byte " << n;
  }
}

// The scanner reads the five named references wherever text is, in what it
// keeps (a key) and in what it skips (every ETag is "&quot;"-quoted), and
// leaves any other reference to the full parser in both: a skipped element
// is not read, but a body the full parser fails must not pass.
TEST(ScanListObjectsV2, ChecksReferencesInTheElementsItSkipsAsInKeys) {
  const auto in_key = [](std::string_view text) {
    return fmt::format(
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>{}</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        text);
  };
  const auto in_skipped = [](std::string_view text) {
    return fmt::format(
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><ETag>{}</ETag><Size>1</Size>"
        "<Owner><DisplayName>{}</DisplayName></Owner></Contents></ListBucketResult>",
        text, text);
  };
  for (const char* text : {"&amp;&lt;&gt;&quot;&apos;", "a&quot;b&quot;", "&apos;&amp;"}) {
    expect_scanned_alike(in_key(text));
    expect_scanned_alike(in_skipped(text));
  }
  for (const char* text : {"&name;", "&#65;", "&amp", "&ap;", "&apo;", "&quo;", "&l;", "&gt", "&", "&;", "a&q"}) {
    expect_left_to_full_parser(in_key(text));
    expect_left_to_full_parser(in_skipped(text));
  }
}

// A listing parses each response over the page before it, so that the keys
// reuse the buffers of the keys before: whatever that page held, the result
// is the page parsed anew (every field written, the objects cut to the
// page's, a page the scanner leaves to the full parser too).
TEST(ScanListObjectsV2, APageParsedOverAnotherIsThePageParsedAnew) {
  Page first;
  first.encoding_type = "url";
  first.is_truncated = "true";
  first.token_xml = "next";
  first.objects = {{"a%2Fb", 1, "2026-11-30T08:00:00.000Z"}, {"c", 2}, {std::string(100, 'd'), 3}};
  const std::vector<std::string> bodies = {
      body(first),
      // No KeyCount, no EncodingType, no LastModified, not truncated.
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>5</Size></Contents>"
      "</ListBucketResult>",
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
      // Left to the full parser.
      "<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"
      "<Contents><Key>&#65;</Key><Size>1</Size></Contents></ListBucketResult>",
  };
  for (const std::string& before : bodies) {
    for (const std::string& xml : bodies) {
      ListPage page;
      ASSERT_TRUE(parse_list_objects_v2(before, page).ok()) << before;
      ASSERT_TRUE(parse_list_objects_v2(xml, page).ok()) << xml;
      const StatusOr<ListPage> anew = parse_list_objects_v2(xml);
      ASSERT_TRUE(anew.ok()) << anew.status().to_string();
      EXPECT_TRUE(page == *anew) << "parsed over:\n" << before << "\nthe page:\n" << xml;
    }
  }
}

// --- Well-formed pages -----------------------------------------------------

TEST(ParseListObjectsV2, EmptyPage) {
  const StatusOr<ListPage> page = parse_list_objects_v2(body(Page{}));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->is_truncated);
  EXPECT_TRUE(page->next_continuation_token.empty());
  EXPECT_FALSE(page->url_encoded);
  EXPECT_EQ(page->key_count, 0);
}

TEST(ParseListObjectsV2, OneKey) {
  Page spec;
  spec.objects.push_back({"photos/2024/a.jpg", 434234, "2009-10-12T17:50:30.000Z"});
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "photos/2024/a.jpg");
  EXPECT_EQ(page->objects[0].size, 434234);
  EXPECT_EQ(page->objects[0].last_modified, utc(std::chrono::year(2009) / 10 / 12, 17h + 50min + 30s));
  EXPECT_EQ(page->key_count, 1);
}

TEST(ParseListObjectsV2, CommonPrefixesAreDecodedLikeKeys) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>phys</Name><Prefix>b%2F</Prefix><Delimiter>/</Delimiter><KeyCount>3</KeyCount>
  <MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
  <Contents><Key>b/top+level</Key><Size>1</Size></Contents>
  <CommonPrefixes><Prefix>b/2024+%C3%A9/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>b/a%2Bb/</Prefix></CommonPrefixes>
</ListBucketResult>)";
  const StatusOr<ListPage> page = parse_list_objects_v2(xml);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"b/2024 \xc3\xa9/", "b/a+b/"}));
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "b/top level");
  const StatusOr<ListPage> broken = parse_list_objects_v2(
      R"(<ListBucketResult><IsTruncated>false</IsTruncated><CommonPrefixes></CommonPrefixes></ListBucketResult>)");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("<CommonPrefixes> has no <Prefix>"), std::string::npos)
      << broken.status().to_string();
}

TEST(ParseListObjectsV2, ThousandKeysInOrder) {
  Page spec;
  spec.is_truncated = "true";
  spec.token_xml = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=";
  std::vector<std::string> want;
  for (int i = 0; i < 1000; ++i) {
    want.push_back(fmt::format("dir/key-{:04d}", i));
    spec.objects.push_back({want.back(), i});
  }
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  expect_keys(page, want);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(page->objects[i].size, i);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, spec.token_xml);
  EXPECT_EQ(page->key_count, 1000);
}

TEST(ParseListObjectsV2, SizesUpToInt64Max) {
  Page spec;
  spec.objects.push_back({"zero", 0});
  spec.objects.push_back({"five-tib", std::int64_t{5} << 40});
  spec.objects.push_back({"max", INT64_MAX});
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(page->objects[0].size, 0);
  EXPECT_EQ(page->objects[1].size, std::int64_t{5} << 40);
  EXPECT_EQ(page->objects[2].size, INT64_MAX);
}

TEST(ParseListObjectsV2, UrlEncodedKeysRoundTripS3Style) {
  Page spec;
  spec.encoding_type = "url";
  for (const std::string& key : tricky_keys()) {
    spec.objects.push_back({s3_url_encode(key, SlashInUrl::kEncoded), 1});
  }
  ASSERT_NE(spec.objects[0].key_xml, tricky_keys()[0]);  // the encoder did something
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  EXPECT_TRUE(page.ok() && page->url_encoded);
  expect_keys(page, tricky_keys());
}

TEST(ParseListObjectsV2, UrlEncodedKeysRoundTripRadosgwStyleWithSlashAsPercent2F) {
  Page spec;
  spec.encoding_type = "url";
  const std::vector<std::string> keys = {"a/b/c", "dir/sub dir/x+y", "/", "//"};
  for (const std::string& key : keys) spec.objects.push_back({s3_url_encode(key, SlashInUrl::kEncoded), 1});
  ASSERT_EQ(spec.objects[0].key_xml, "a%2Fb%2Fc");
  expect_keys(parse_list_objects_v2(body(spec)), keys);
}

TEST(ParseListObjectsV2, UrlEncodedKeysRoundTripSwiftStyleWithSlashKept) {
  Page spec;
  spec.encoding_type = "url";
  for (const std::string& key : tricky_keys()) {
    spec.objects.push_back({s3_url_encode(key, SlashInUrl::kKept), 1});
  }
  expect_keys(parse_list_objects_v2(body(spec)), tricky_keys());
}

TEST(ParseListObjectsV2, UrlEncodingDecodesEitherHexCaseAndNonUtf8Bytes) {
  Page spec;
  spec.encoding_type = "url";
  spec.objects.push_back({"caf%c3%a9", 1});
  spec.objects.push_back({"caf%C3%A9", 1});
  spec.objects.push_back({"%FF%fe%00", 1});
  expect_keys(parse_list_objects_v2(body(spec)), {"caf\xC3\xA9", "caf\xC3\xA9", std::string("\xFF\xFE\0", 3)});
}

TEST(ParseListObjectsV2, UnencodedKeysRoundTripAsXmlEntities) {
  Page spec;
  for (const std::string& key : tricky_keys()) spec.objects.push_back({xml_escape(key), 1});
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  EXPECT_TRUE(page.ok() && !page->url_encoded);
  // No EncodingType: '+' and '%' are themselves, nothing is URL-decoded.
  expect_keys(page, tricky_keys());
}

TEST(ParseListObjectsV2, UnencodedKeysWithRawControlBytesSurvive) {
  // S3 without encoding-type=url writes control bytes as they are (not valid
  // XML 1.0); a raw CR must not become LF.
  const std::vector<std::string> keys = {"a\x01z", "cr\rlf\n", "crlf\r\n", "tab\t", "\r"};
  Page spec;
  for (const std::string& key : keys) spec.objects.push_back({key, 1});
  expect_keys(parse_list_objects_v2(body(spec)), keys);
}

TEST(ParseListObjectsV2, WhitespaceKeysSurvive) {
  const std::vector<std::string> keys = {" ", "  ", " a ", "\t", " \n ", "a  b"};
  Page spec;
  for (const std::string& key : keys) spec.objects.push_back({key, 1});
  expect_keys(parse_list_objects_v2(body(spec)), keys);

  Page encoded;
  encoded.encoding_type = "url";
  for (const std::string& key : keys) encoded.objects.push_back({s3_url_encode(key, SlashInUrl::kEncoded), 1});
  ASSERT_EQ(encoded.objects[1].key_xml, "++");
  expect_keys(parse_list_objects_v2(body(encoded)), keys);
}

TEST(ParseListObjectsV2, KeyTextSplitByCdataOrCommentIsWhole) {
  const std::string xml =
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key> a <![CDATA[<b>&]]> c </Key><Size>1</Size></Contents>"
      "<Contents><Key> x <!-- note --> y </Key><Size>1</Size></Contents>"
      // Whitespace-only neighbours: parse_ws_pcdata_single would drop these.
      "<Contents><Key> <![CDATA[x]]> </Key><Size>1</Size></Contents>"
      "<Contents><Key> <!-- note --> </Key><Size>1</Size></Contents>"
      "</ListBucketResult>";
  expect_keys(parse_list_objects_v2(xml), {" a <b>& c ", " x  y ", " x ", "  "});
}

TEST(ParseListObjectsV2, PrettyPrintedBodyWithCrLf) {
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\r\n"
      "  <IsTruncated>false</IsTruncated>\r\n"
      "  <Contents>\r\n"
      "    <Key>a b</Key>\r\n"
      "    <Size>3</Size>\r\n"
      "  </Contents>\r\n"
      "  <CommonPrefixes>\r\n"
      "    <Prefix>dir/</Prefix>\r\n"
      "  </CommonPrefixes>\r\n"
      "</ListBucketResult>\r\n";
  const StatusOr<ListPage> page = parse_list_objects_v2(xml);
  expect_keys(page, {"a b"});
  EXPECT_EQ(page->objects[0].size, 3);
  EXPECT_FALSE(page->objects[0].last_modified.has_value());
  EXPECT_FALSE(page->key_count.has_value());
}

TEST(ParseListObjectsV2, NamespacePrefixedElementsMatchByLocalName) {
  const std::string xml =
      "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<s3:IsTruncated>false</s3:IsTruncated>"
      "<s3:Contents><s3:Key>k</s3:Key><s3:Size>7</s3:Size></s3:Contents>"
      "</s3:ListBucketResult>";
  expect_keys(parse_list_objects_v2(xml), {"k"});
}

TEST(ParseListObjectsV2, ContinuationTokenIsNeverDecoded) {
  for (const bool url : {false, true}) {
    Page spec;
    if (url) spec.encoding_type = "url";
    spec.is_truncated = "true";
    spec.token_xml = "a+b/c=d%2Fe==";
    spec.objects.push_back({"k", 1});
    const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    EXPECT_TRUE(page->is_truncated);
    EXPECT_EQ(page->url_encoded, url);
    EXPECT_EQ(page->next_continuation_token, "a+b/c=d%2Fe==") << "url=" << url;
  }
}

TEST(ParseListObjectsV2, EmptyEncodingTypeMeansNotEncoded) {
  Page spec;
  spec.encoding_type = "";
  spec.objects.push_back({"a+b%20", 1});
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  expect_keys(page, {"a+b%20"});
  EXPECT_FALSE(page->url_encoded);
}

TEST(ParseListObjectsV2, ForcedUtf8IgnoresDeclaredEncoding) {
  // A declaration naming another encoding must not make pugixml re-encode
  // the key's bytes.
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>caf\xC3\xA9</Key><Size>1</Size></Contents></ListBucketResult>";
  expect_keys(parse_list_objects_v2(xml), {"caf\xC3\xA9"});
}

// --- Damaged pages ---------------------------------------------------------

TEST(ParseListObjectsV2, MalformedXml) {
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a</Key></Size></Contents></ListBucketResult>",
      {"ListObjectsV2 response", "not well-formed XML", "Start-end tags mismatch", "at byte"});
  expect_data_loss("not xml at all", {"not well-formed XML", "No document element found"});
  expect_data_loss("", {"not well-formed XML", "No document element found"});
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
      {"second top-level element"});
}

TEST(ParseListObjectsV2, NulCharacterIsRejectedNotTruncated) {
  // pugixml would keep only "a" of either key.
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a&#0;b</Key><Size>1</Size></Contents></ListBucketResult>",
      {"NUL", "byte 66"});
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a&#x000;b</Key><Size>1</Size></Contents></ListBucketResult>",
      {"NUL"});
  using namespace std::string_literals;
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a\0b</Key><Size>1</Size></Contents></ListBucketResult>"s,
      {"NUL", "byte 66"});
}

TEST(ParseListObjectsV2, WrongRootElement) {
  expect_data_loss("<html><body>502 Bad Gateway</body></html>", {"<html>", "not <ListBucketResult>"});
  expect_data_loss("<Error><Code>NoSuchBucket</Code></Error>", {"<Error>", "not <ListBucketResult>"});
}

TEST(ParseListObjectsV2, EveryTruncationFails) {
  Page spec;
  spec.encoding_type = "url";
  spec.objects.push_back({"a", 1});
  spec.objects.push_back({"b+c", 22});
  spec.objects.push_back({"d%2Fe", 333});
  // The body ends at </ListBucketResult> (a trailing newline would make the
  // prefix without it a complete, and identical, page).
  const std::string xml = body(spec);
  ASSERT_TRUE(parse_list_objects_v2(xml).ok());
  for (std::size_t n = 0; n < xml.size(); ++n) {
    const StatusOr<ListPage> page = parse_list_objects_v2(std::string_view(xml).substr(0, n));
    ASSERT_FALSE(page.ok()) << "a prefix of " << n << " bytes parsed as a page of " << page->objects.size() << " keys";
    ASSERT_EQ(page.status().code(), StatusCode::kDataLoss) << n;
    ASSERT_PRED2(contains, page.status().message(), "not well-formed XML");
    ASSERT_PRED2(contains, page.status().message(), fmt::format(" of {}", n));
  }
}

TEST(ParseListObjectsV2, IsTruncatedMissingOrBad) {
  Page missing;
  missing.is_truncated.reset();
  expect_data_loss(body(missing), {"<IsTruncated>", "missing"});
  for (const char* bad : {"", "TRUE", "yes", "1", " false"}) {
    Page spec;
    spec.is_truncated = bad;
    expect_data_loss(body(spec), {"<IsTruncated>", "not true or false"});
  }
}

TEST(ParseListObjectsV2, TruncatedWithoutTokenCannotContinue) {
  Page spec;
  spec.is_truncated = "true";
  expect_data_loss(body(spec), {"<NextContinuationToken>", "missing"});
}

TEST(ParseListObjectsV2, ContentsWithoutKey) {
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a</Key><Size>1</Size></Contents>"
      "<Contents><Size>1</Size></Contents></ListBucketResult>",
      {"<Contents> #2", "no <Key>"});
}

TEST(ParseListObjectsV2, DuplicateOrNestedFields) {
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a</Key><Key>b</Key><Size>1</Size></Contents></ListBucketResult>",
      {"<Key> appears more than once"});
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated><IsTruncated>true</IsTruncated>"
      "</ListBucketResult>",
      {"<IsTruncated> appears more than once"});
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>a<b/>c</Key><Size>1</Size></Contents></ListBucketResult>",
      {"<Key> holds an element <b>"});
}

TEST(ParseListObjectsV2, BadSize) {
  for (const char* size : {"-1", "abc", "", "12a", " 12", "+5", "1.5", "99999999999999999999"}) {
    Page spec;
    spec.objects.push_back({"the-key", 0});
    std::string xml = body(spec);
    const std::string good = "<Size>0</Size>";
    xml.replace(xml.find(good), good.size(), fmt::format("<Size>{}</Size>", size));
    expect_data_loss(xml, {"\"the-key\"", "bad <Size>", "not a non-negative integer"});
  }
  expect_data_loss(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>k</Key></Contents></ListBucketResult>",
      {"\"k\"", "no <Size>"});
}

TEST(ParseListObjectsV2, BadKeyCount) {
  const std::string xml =
      "<ListBucketResult><KeyCount>-3</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
  expect_data_loss(xml, {"<KeyCount>", "\"-3\""});
}

TEST(ParseListObjectsV2, BadPercentEscapeInUrlEncodedKey) {
  for (const char* key : {"a%G1", "a%", "a%1", "%%41", "50%+off"}) {
    Page spec;
    spec.encoding_type = "url";
    spec.objects.push_back({key, 1});
    expect_data_loss(body(spec),
                     {"<Contents> #1", "<Key> does not URL-decode", "bad %-escape", fmt::format("\"{}\"", key)});
  }
  // The same text with no EncodingType is just a key.
  Page plain;
  plain.objects.push_back({"a%G1", 1});
  expect_keys(parse_list_objects_v2(body(plain)), {"a%G1"});
}

TEST(ParseListObjectsV2, UnknownEncodingType) {
  Page spec;
  spec.encoding_type = "base64";
  expect_data_loss(body(spec), {"unknown <EncodingType>", "\"base64\""});
}

TEST(ParseListObjectsV2, LastModifiedWithFractionsAndBadOnes) {
  Page spec;
  spec.objects.push_back({"none", 1, "2009-10-12T17:50:30Z"});
  spec.objects.push_back({"millis", 1, "2009-10-12T17:50:30.250Z"});
  spec.objects.push_back({"nanos", 1, "2009-10-12T17:50:30.123456789Z"});
  const StatusOr<ListPage> page = parse_list_objects_v2(body(spec));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  const Clock::time_point base = utc(std::chrono::year(2009) / 10 / 12, 17h + 50min + 30s);
  EXPECT_EQ(page->objects[0].last_modified, base);
  EXPECT_EQ(page->objects[1].last_modified, base + 250ms);
  EXPECT_EQ(page->objects[2].last_modified, base + std::chrono::duration_cast<Clock::duration>(123456789ns));

  Page bad;
  bad.objects.push_back({"k", 1, "2009-10-12T17:50:30.000+01:00"});
  expect_data_loss(body(bad), {"\"k\"", "bad <LastModified>", "2009-10-12T17:50:30.000+01:00"});
}

// --- Error bodies ------------------------------------------------------------

TEST(ParseS3Error, NoSuchBucket) {
  const std::optional<S3Error> error = parse_s3_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Error>\n"
      "  <Code>NoSuchBucket</Code>\n"
      "  <Message>The specified bucket does not exist</Message>\n"
      "  <BucketName>nonexistent</BucketName>\n"
      "  <Resource>/nonexistent</Resource>\n"
      "  <RequestId>4442587FB7D0A2F9</RequestId>\n"
      "  <HostId>ZwLa1uNnnAkJ5Hp0FZk7wXF3CU7tB5DK2/HT0M1Q=</HostId>\n"
      "</Error>\n");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchBucket");
  EXPECT_EQ(error->message, "The specified bucket does not exist");
  EXPECT_EQ(error->request_id, "4442587FB7D0A2F9");
  EXPECT_EQ(error->resource, "/nonexistent");
}

TEST(ParseS3Error, OptionalFieldsMayBeMissing) {
  const std::optional<S3Error> error =
      parse_s3_error("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "SlowDown");
  EXPECT_EQ(error->message, "Please reduce your request rate.");
  EXPECT_EQ(error->request_id, "");
  EXPECT_EQ(error->resource, "");
}

TEST(ParseS3Error, NotAnErrorBody) {
  EXPECT_FALSE(parse_s3_error(""));
  EXPECT_FALSE(parse_s3_error("Service Unavailable"));
  EXPECT_FALSE(parse_s3_error("<html><head><title>503</title></head><body>Error</body></html>"));
  EXPECT_FALSE(parse_s3_error(body(Page{})));
  EXPECT_FALSE(parse_s3_error("<Error><Code>NoSuchBucket</Code>"));  // cut off
  EXPECT_FALSE(parse_s3_error("<Error><Message>no code</Message></Error>"));
  EXPECT_FALSE(parse_s3_error("<Error><Code></Code></Error>"));
}

// --- url_decode ----------------------------------------------------------------

TEST(UrlDecode, EscapesAndPlus) {
  EXPECT_EQ(*url_decode("a%20b%2fc%2F", false), "a b/c/");
  EXPECT_EQ(*url_decode("a+b%2Bc", true), "a b+c");
  EXPECT_EQ(*url_decode("a+b%2Bc", false), "a+b+c");
  EXPECT_EQ(*url_decode("%00%ff", false), std::string("\0\xff", 2));
  EXPECT_EQ(*url_decode("", true), "");
  EXPECT_EQ(*url_decode("%25%32%35", false), "%25");  // decoded once only
}

TEST(UrlDecode, BadEscapesNameTheText) {
  for (const char* text : {"abc%", "%G1", "%1", "x%1g", "%%"}) {
    const StatusOr<std::string> decoded = url_decode(text, true);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_PRED2(contains, decoded.status().message(), fmt::format("\"{}\"", text));
    EXPECT_PRED2(contains, decoded.status().message(), "bad %-escape");
  }
}

// --- parse_iso8601 ---------------------------------------------------------------

TEST(ParseIso8601, Forms) {
  using std::chrono::year;
  EXPECT_EQ(*parse_iso8601("1970-01-01T00:00:00Z"), Clock::time_point());
  EXPECT_EQ(*parse_iso8601("1970-01-01T00:00:00.000Z"), Clock::time_point());
  EXPECT_EQ(*parse_iso8601("2009-10-12T17:50:30.000Z"), utc(year(2009) / 10 / 12, 17h + 50min + 30s));
  EXPECT_EQ(*parse_iso8601("2024-02-29T23:59:59.5Z"), utc(year(2024) / 2 / 29, 23h + 59min + 59s + 500ms));
  EXPECT_EQ(*parse_iso8601("2000-01-01T00:00:00.000001Z"), utc(year(2000) / 1 / 1, 1us));
  EXPECT_EQ(*parse_iso8601("1969-12-31T23:59:59.9Z"), Clock::time_point() - 100ms);
  EXPECT_EQ(parse_iso8601("2009-10-12T17:50:30.123456789Z")->time_since_epoch() % 1s,
            std::chrono::duration_cast<Clock::duration>(123456789ns));
}

TEST(ParseIso8601, RejectsGarbage) {
  for (const char* text : {
           "",
           "garbage",
           "2009-10-12",
           "2009-10-12T17:50:30",
           "2009-10-12T17:50:30.000",
           "2009-10-12T17:50:30+01:00",
           "2009-10-12T17:50:30.000+00:00",
           "2009-10-12 17:50:30Z",
           "2009-10-12t17:50:30z",
           "2009-10-12T17:50:30.Z",
           "2009-10-12T17:50:30.1234567890Z",
           "2009-10-12T17:50:30.000Zjunk",
           " 2009-10-12T17:50:30Z",
           "2009-13-12T17:50:30Z",
           "2009-00-12T17:50:30Z",
           "2023-02-29T00:00:00Z",
           "2009-10-32T17:50:30Z",
           "2009-10-12T24:00:00Z",
           "2009-10-12T17:60:00Z",
           "2009-10-12T17:50:60Z",
           "+009-10-12T17:50:30Z",
           "2009-1-12T17:50:30Z",
           "20091012T175030Z",
           "9999-12-31T23:59:59Z",  // beyond the nanosecond clock
       }) {
    const StatusOr<Clock::time_point> t = parse_iso8601(text);
    EXPECT_FALSE(t.ok()) << '"' << text << '"';
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
      EXPECT_PRED2(contains, t.status().message(), fmt::format("\"{}\"", text));
    }
  }
}

}  // namespace
}  // namespace s3reconcile::s3

namespace s3reconcile::s3 {
namespace {

// pugixml keeps an unknown "&name;" as literal text: a listing holding one
// would import a key that exists nowhere. The page fails instead.
TEST(ParseListObjectsV2Hostile, AnUnknownEntityReferenceFailsThePage) {
  const std::string head = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>";
  const std::string tail = "</Key><Size>1</Size></Contents></ListBucketResult>";
  for (const char* key : {"a&name;b", "a&amp", "a&#xZZ;", "a&#;", "&lt"}) {
    auto page = parse_list_objects_v2(head + key + tail);
    ASSERT_FALSE(page.ok()) << key;
    EXPECT_EQ(page.status().code(), StatusCode::kDataLoss) << key;
    EXPECT_NE(page.status().message().find("unknown entity reference"), std::string::npos) << page.status().message();
  }
  for (const auto& [raw, want] : std::vector<std::pair<std::string, std::string>>{
           {"a&amp;b&lt;&gt;&quot;&apos;", "a&b<>\"'"}, {"&#65;&#x42;", "AB"}, {"<![CDATA[a&name;b]]>", "a&name;b"}}) {
    auto page = parse_list_objects_v2(head + raw + tail);
    ASSERT_TRUE(page.ok()) << raw << ": " << page.status().to_string();
    ASSERT_EQ(page->objects.size(), 1u);
    EXPECT_EQ(page->objects[0].key, want);
  }
}

}  // namespace
}  // namespace s3reconcile::s3
