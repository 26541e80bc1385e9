// The parsers of the survey's listings: ListObjectVersions,
// ListMultipartUploads and ListParts pages, well-formed and not.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "s3/list_xml.h"

namespace s3reconcile::s3 {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

constexpr const char* kNs = R"( xmlns="http://s3.amazonaws.com/doc/2006-03-01/")";

std::string versions_body(const std::string& inner, const std::string& truncated = "false",
                          const std::string& markers = "", const std::string& encoding = "") {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListVersionsResult") + kNs + "><Name>b</Name>" +
         encoding + "<IsTruncated>" + truncated + "</IsTruncated>" + markers + inner + "</ListVersionsResult>";
}

std::string version(const std::string& key, const std::string& id, bool latest, long size) {
  return "<Version><Key>" + key + "</Key><VersionId>" + id + "</VersionId><IsLatest>" + (latest ? "true" : "false") +
         "</IsLatest><LastModified>2026-11-30T10:00:00.000Z</LastModified><ETag>\"e\"</ETag><Size>" +
         std::to_string(size) + "</Size></Version>";
}

std::string marker(const std::string& key, const std::string& id, bool latest) {
  return "<DeleteMarker><Key>" + key + "</Key><VersionId>" + id + "</VersionId><IsLatest>" +
         (latest ? "true" : "false") + "</IsLatest><LastModified>2026-11-30T10:00:00Z</LastModified></DeleteMarker>";
}

TEST(ListVersionsXml, ParsesVersionsAndDeleteMarkersInDocumentOrder) {
  auto page = parse_list_versions(
      versions_body(marker("a", "m1", true) + version("a", "v2", false, 5) + version("a", "v1", false, 3) +
                        version("b%20c", "v9", true, 7),
                    "true", "<NextKeyMarker>b%20c</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>",
                    "<EncodingType>url</EncodingType>"));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->entries.size(), 4u);
  EXPECT_TRUE(page->entries[0].delete_marker);
  EXPECT_TRUE(page->entries[0].is_latest);
  EXPECT_EQ(page->entries[0].size, 0);
  EXPECT_EQ(page->entries[1].version_id, "v2");
  EXPECT_FALSE(page->entries[1].is_latest);
  EXPECT_EQ(page->entries[1].size, 5);
  EXPECT_EQ(page->entries[3].key, "b c");  // decoded, as EncodingType says
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_key_marker, "b c");
  EXPECT_EQ(page->next_id_marker, "v9");
}

TEST(ListVersionsXml, KeepsKeysAsTheyAreWithoutEncoding) {
  auto page = parse_list_versions(versions_body(version("a%20b+c", "v", true, 1)));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(page->entries[0].key, "a%20b+c");
  EXPECT_FALSE(page->is_truncated);
}

TEST(ListVersionsXml, RejectsMalformedPages) {
  const struct {
    std::string body, says;
  } cases[] = {
      {"<ListVersionsResult><IsTruncated>false</IsTruncated>", "not well-formed"},
      {"<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>", "not <ListVersionsResult>"},
      {versions_body("", "maybe"), "<IsTruncated> is \"maybe\""},
      {"<ListVersionsResult></ListVersionsResult>", "<IsTruncated> is missing"},
      {versions_body("", "true"), "<NextKeyMarker> is missing"},
      {versions_body("<Version><VersionId>v</VersionId><IsLatest>true</IsLatest><Size>1</Size></Version>"),
       "<Version> #1: has no <Key>"},
      {versions_body("<Version><Key>k</Key><IsLatest>true</IsLatest><Size>1</Size></Version>"), "has no <VersionId>"},
      {versions_body("<Version><Key>k</Key><VersionId>v</VersionId><IsLatest>true</IsLatest></Version>"),
       "has no <Size>"},
      {versions_body("<Version><Key>k</Key><VersionId>v</VersionId><IsLatest>true</IsLatest><Size>-1</Size>"
                     "</Version>"),
       "bad <Size>"},
      {versions_body("<DeleteMarker><Key>k</Key><VersionId>v</VersionId></DeleteMarker>"), "<IsLatest> is missing"},
      {versions_body(version("k%zz", "v", true, 1), "false", "", "<EncodingType>url</EncodingType>"),
       "does not URL-decode"},
  };
  for (const auto& c : cases) {
    auto page = parse_list_versions(c.body);
    ASSERT_FALSE(page.ok()) << c.body;
    EXPECT_EQ(page.status().code(), StatusCode::kDataLoss) << page.status().to_string();
    EXPECT_PRED2(contains, page.status().message(), c.says);
    EXPECT_PRED2(contains, page.status().message(), "ListObjectVersions response");
  }
}

TEST(ListVersionsXml, RejectsKeysOutOfOrderWithinAPage) {
  auto page = parse_list_versions(versions_body(version("b", "v1", true, 1) + marker("a", "m", true)));
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_PRED2(contains, page.status().message(), "entry #2 is not in ascending key order: \"a\" came after \"b\"");
}

std::string uploads_body(const std::string& inner, const std::string& truncated = "false",
                         const std::string& markers = "") {
  return std::string("<ListMultipartUploadsResult") + kNs + "><Bucket>b</Bucket><IsTruncated>" + truncated +
         "</IsTruncated>" + markers + inner + "</ListMultipartUploadsResult>";
}

std::string upload(const std::string& key, const std::string& id, const std::string& initiated) {
  return "<Upload><Key>" + key + "</Key><UploadId>" + id + "</UploadId><Initiated>" + initiated +
         "</Initiated><StorageClass>STANDARD</StorageClass></Upload>";
}

TEST(ListMultipartUploadsXml, ParsesUploads) {
  auto page = parse_list_multipart_uploads(
      uploads_body(upload("a", "u1", "2026-11-30T10:00:00.000Z") + upload("a", "u0", "2026-11-30T11:00:00.000Z") +
                       upload("c&amp;d", "u2", "2026-11-29T10:00:00Z"),
                   "true", "<NextKeyMarker>c&amp;d</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>"));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->entries.size(), 3u);
  EXPECT_EQ(page->entries[2].key, "c&d");
  EXPECT_EQ(page->entries[1].upload_id, "u0");
  EXPECT_EQ(page->entries[2].initiated, *parse_iso8601("2026-11-29T10:00:00Z"));
  EXPECT_EQ(page->next_key_marker, "c&d");
  EXPECT_EQ(page->next_id_marker, "u2");
}

TEST(ListMultipartUploadsXml, RejectsMalformedAndOutOfOrderPages) {
  const struct {
    std::string body, says;
    StatusCode code;
  } cases[] = {
      {uploads_body("", "true"), "<NextKeyMarker> is missing", StatusCode::kDataLoss},
      {uploads_body("<Upload><Key>k</Key><Initiated>2026-11-30T10:00:00Z</Initiated></Upload>"),
       "<Upload> #1: has no <UploadId>", StatusCode::kDataLoss},
      {uploads_body("<Upload><Key>k</Key><UploadId>u</UploadId></Upload>"), "has no <Initiated>",
       StatusCode::kDataLoss},
      {uploads_body(upload("k", "u", "yesterday")), "bad <Initiated>", StatusCode::kDataLoss},
      {uploads_body(upload("b", "u", "2026-11-30T10:00:00Z") + upload("a", "u", "2026-11-30T10:00:00Z")),
       "entry #2 is not in ascending key order", StatusCode::kFailedPrecondition},
      {"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload>", "not well-formed",
       StatusCode::kDataLoss},
  };
  for (const auto& c : cases) {
    auto page = parse_list_multipart_uploads(c.body);
    ASSERT_FALSE(page.ok()) << c.body;
    EXPECT_EQ(page.status().code(), c.code) << page.status().to_string();
    EXPECT_PRED2(contains, page.status().message(), c.says);
    EXPECT_PRED2(contains, page.status().message(), "ListMultipartUploads response");
  }
}

std::string parts_body(const std::string& inner, const std::string& truncated = "false",
                       const std::string& marker = "") {
  return std::string("<ListPartsResult") + kNs + "><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>" +
         "<IsTruncated>" + truncated + "</IsTruncated>" + marker + inner + "</ListPartsResult>";
}

std::string part(int number, long size) {
  return "<Part><PartNumber>" + std::to_string(number) +
         "</PartNumber><LastModified>2026-11-30T10:00:00Z</LastModified><ETag>\"e\"</ETag><Size>" +
         std::to_string(size) + "</Size></Part>";
}

TEST(ListPartsXml, ParsesParts) {
  auto page = parse_list_parts(
      parts_body(part(1, 5242880) + part(3, 17), "true", "<NextPartNumberMarker>3</NextPartNumberMarker>"));
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->parts.size(), 2u);
  EXPECT_EQ(page->parts[0], std::make_pair(1, std::int64_t{5242880}));
  EXPECT_EQ(page->parts[1], std::make_pair(3, std::int64_t{17}));
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_part_number_marker, 3);
  auto empty = parse_list_parts(parts_body(""));
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_TRUE(empty->parts.empty());
}

TEST(ListPartsXml, RejectsMalformedAndOutOfOrderPages) {
  const struct {
    std::string body, says;
    StatusCode code;
  } cases[] = {
      {parts_body(part(1, 1), "true"), "<NextPartNumberMarker> is missing", StatusCode::kDataLoss},
      {parts_body(part(2, 1) + part(2, 1)), "part 2 came after part 2", StatusCode::kFailedPrecondition},
      {parts_body(part(3, 1) + part(1, 1)), "<Part> #2: part 1 came after part 3", StatusCode::kFailedPrecondition},
      {parts_body(part(0, 1)), "bad <PartNumber>", StatusCode::kDataLoss},
      {parts_body("<Part><PartNumber>1</PartNumber></Part>"), "has no <Size>", StatusCode::kDataLoss},
      {"<ListBucketResult/>", "not <ListPartsResult>", StatusCode::kDataLoss},
  };
  for (const auto& c : cases) {
    auto page = parse_list_parts(c.body);
    ASSERT_FALSE(page.ok()) << c.body;
    EXPECT_EQ(page.status().code(), c.code) << page.status().to_string();
    EXPECT_PRED2(contains, page.status().message(), c.says);
    EXPECT_PRED2(contains, page.status().message(), "ListParts response");
  }
}

}  // namespace
}  // namespace s3reconcile::s3
