// The XML bodies S3 answers with: ListObjectsV2 results, ListBuckets, errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "listing.h"

namespace s3r_synthetic {

// Text for an XML element: & < > " ' as entities, and every control byte
// (tab, CR and LF included) as a numeric reference, so that a parser hands
// back the key's exact bytes (a raw CR would be normalized to LF).
std::string xml_escape(std::string_view text);
void append_xml_escaped(std::string& out, std::string_view text);

// Servers differ on '/' under encoding-type=url: this endpoint and Swift's
// S3 layer keep it, radosgw writes %2F. Clients must read both.
enum class SlashInUrl { kKept, kEncoded };

// encoding-type=url as S3 applies it: A-Z a-z 0-9 - _ . ~ stay, '/' as
// `slash` says, space becomes '+', every other byte %XY (uppercase hex).
std::string s3_url_encode(std::string_view text, SlashInUrl slash = SlashInUrl::kKept);
void append_s3_url_encoded(std::string& out, std::string_view text, SlashInUrl slash = SlashInUrl::kKept);

struct ListEcho {  // the request's parameters, echoed back as S3 does
  std::string bucket;
  ListQuery query;
  std::string continuation_token;  // as received
  bool has_continuation_token = false;
  bool url_encoding = false;
  SlashInUrl slash = SlashInUrl::kKept;  // with url_encoding
};

std::string list_objects_v2_xml(const ListEcho& request, const ListResult& result);
std::string list_buckets_xml(const std::vector<std::string>& buckets, std::string_view owner);
std::string error_xml(std::string_view code, std::string_view message, std::string_view resource,
                      std::string_view request_id);

}  // namespace s3r_synthetic
