// Parsing of S3 XML responses: ListObjectsV2 pages and error bodies.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "s3reconcile/hidden_storage.h"  // ObjectVersion, IncompleteUpload
#include "s3reconcile/object_lister.h"   // ListedObject
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

// One ListObjectsV2 page (a <ListBucketResult>).
struct ListPage {
  std::vector<ListedObject> objects;  // keys decoded when the page says EncodingType=url
  // <CommonPrefixes><Prefix>, decoded likewise: only a listing with a
  // delimiter has them.
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_continuation_token;  // as sent: an opaque string, never decoded
  bool url_encoded = false;             // <EncodingType>url</EncodingType> was present
  std::optional<int> key_count;         // <KeyCount>, when present

  bool operator==(const ListPage&) const = default;
};

// Parses one ListObjectsV2 response body. Keys (and Prefix, StartAfter) are
// URL-decoded only when the body says <EncodingType>url</EncodingType>.
// Anything malformed is DATA_LOSS with a message saying what is wrong (not
// XML, truncated, no <ListBucketResult>, <IsTruncated> missing or not
// true/false, a <Contents> without <Key> or with a bad <Size>, a key that
// does not URL-decode): never a silently short page.
StatusOr<ListPage> parse_list_objects_v2(std::string_view xml);
// The same, written over `page`: a listing passes one page back each time,
// so that its objects' keys are written over buffers of the page before
// instead of allocated and freed for every key. On an error `page` holds
// anything.
Status parse_list_objects_v2(std::string_view xml, ListPage& page);

// The fast path of parse_list_objects_v2: one pass over a body in the plain
// shape servers send (elements without attributes below the root, text with
// the five named references), building no DOM. std::nullopt for anything
// else, malformed or merely unusual (CDATA, comments, character references,
// namespace prefixes, <CommonPrefixes>): parse_list_objects_v2 then reads
// it with the full parser, which names what is wrong. A page it returns is
// the page the full parser returns.
std::optional<ListPage> scan_list_objects_v2(std::string_view xml);
// The same, written over `page`; false leaves `page` holding anything.
bool scan_list_objects_v2(std::string_view xml, ListPage& page);

// The full parser alone (pugixml's DOM), for tests that compare the two.
StatusOr<ListPage> parse_list_objects_v2_dom(std::string_view xml);

// One page of a listing paged by a key marker and an id marker:
// ListObjectVersions (<Version> and <DeleteMarker> entries in document
// order, NextVersionIdMarker) or ListMultipartUploads (<Upload>,
// NextUploadIdMarker).
template <typename Entry>
struct MarkerPage {
  std::vector<Entry> entries;  // keys decoded when the page says EncodingType=url
  bool is_truncated = false;
  std::string next_key_marker;  // decoded likewise
  std::string next_id_marker;   // opaque, as sent
};
using VersionsPage = MarkerPage<ObjectVersion>;
using UploadsPage = MarkerPage<IncompleteUpload>;

// Parses one ListObjectVersions body. DATA_LOSS, as for ListObjectsV2, when
// it is malformed, when an entry lacks <Key>, <VersionId> or (a version)
// <Size>, when its keys go back in order, or when it is truncated without a
// <NextKeyMarker>.
StatusOr<VersionsPage> parse_list_versions(std::string_view xml);

// Parses one ListMultipartUploads body; an <Upload> needs <Key>, <UploadId>
// and <Initiated>. Errors as for parse_list_versions.
StatusOr<UploadsPage> parse_list_multipart_uploads(std::string_view xml);

// One ListParts page (a <ListPartsResult>): the parts' numbers and sizes.
struct PartsPage {
  std::vector<std::pair<int, std::int64_t>> parts;  // (PartNumber, Size), ascending by number
  bool is_truncated = false;
  int next_part_number_marker = 0;
};

// Parses one ListParts body: part numbers must ascend strictly; a truncated
// page needs a <NextPartNumberMarker>.
StatusOr<PartsPage> parse_list_parts(std::string_view xml);

// The fields of an S3 <Error> body.
struct S3Error {
  std::string code;  // "NoSuchBucket", "SignatureDoesNotMatch", "SlowDown", ...
  std::string message;
  std::string request_id;  // <RequestId>, may be empty
  std::string resource;    // <Resource>, may be empty
};

// Parses an <Error> body; std::nullopt when the body is not one (empty, HTML,
// other XML).
std::optional<S3Error> parse_s3_error(std::string_view xml);

// A non-negative decimal integer with nothing around it (<Size>,
// <KeyCount>, part numbers): std::nullopt for anything else.
template <typename Int>
std::optional<Int> parse_count(std::string_view text) {
  Int value = 0;
  if (text.empty() || text[0] == '-') return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The value of one hex digit (either case), or -1.
inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XY escapes (either hex case). With `plus_is_space`, '+' decodes
// to ' ' (S3's encoding-type=url encodes a space as '+' and '+' as %2B).
// A '%' not followed by two hex digits is INVALID_ARGUMENT.
StatusOr<std::string> url_decode(std::string_view text, bool plus_is_space);

// Parses an ISO 8601 UTC timestamp as S3 sends it in <LastModified>
// ("2009-10-12T17:50:30.000Z", fraction optional) or in the
// Last-Modified header's RFC 1123 form is NOT handled here.
StatusOr<Clock::time_point> parse_iso8601(std::string_view text);

}  // namespace s3reconcile::s3
