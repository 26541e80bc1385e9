#include "s3_xml.h"

#include <fmt/format.h>

namespace s3r_synthetic {
namespace {

constexpr std::string_view kDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view kNamespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Appended in place, no temporaries: a page renders 5000 of these.
void element(std::string& out, std::string_view name, std::string_view text) {
  out += '<';
  out += name;
  out += '>';
  append_xml_escaped(out, text);
  out += "</";
  out += name;
  out += '>';
}

// A key, prefix, delimiter or start-after: percent-encoded first when the
// client asked for encoding-type=url (the result needs no XML escaping then).
void name_element(std::string& out, std::string_view name, std::string_view text, const ListEcho& request) {
  if (!request.url_encoding) return element(out, name, text);
  out += '<';
  out += name;
  out += '>';
  append_s3_url_encoded(out, text, request.slash);
  out += "</";
  out += name;
  out += '>';
}

}  // namespace

void append_xml_escaped(std::string& out, std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "&#x";
          if (c >= 0x10) out += kDigits[c >> 4];
          out += kDigits[c & 0x0F];
          out += ';';
        } else {
          out += ch;
        }
    }
  }
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_xml_escaped(out, text);
  return out;
}

void append_s3_url_encoded(std::string& out, std::string_view text, SlashInUrl slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool kept = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~' || (c == '/' && slash == SlashInUrl::kKept);
    if (kept) {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0x0F];
    }
  }
}

std::string s3_url_encode(std::string_view text, SlashInUrl slash) {
  std::string out;
  out.reserve(text.size());
  append_s3_url_encoded(out, text, slash);
  return out;
}

std::string list_objects_v2_xml(const ListEcho& request, const ListResult& result) {
  // Keys, prefixes, the delimiter and start-after are encoded when the client
  // asked for it; tokens never are (they are ours, already URL-safe).
  const ListQuery& q = request.query;
  std::string out;
  out.reserve(256 + result.contents.size() * 220);
  out += kDeclaration;
  fmt::format_to(std::back_inserter(out), "<ListBucketResult xmlns=\"{}\">", kNamespace);
  element(out, "Name", request.bucket);
  name_element(out, "Prefix", q.prefix, request);
  if (!q.start_after.empty()) name_element(out, "StartAfter", q.start_after, request);
  if (request.has_continuation_token) element(out, "ContinuationToken", request.continuation_token);
  if (result.truncated) element(out, "NextContinuationToken", result.next_continuation_token);
  element(out, "KeyCount", std::to_string(result.key_count()));
  element(out, "MaxKeys", std::to_string(q.max_keys));
  if (!q.delimiter.empty()) name_element(out, "Delimiter", q.delimiter, request);
  if (request.url_encoding) element(out, "EncodingType", "url");
  element(out, "IsTruncated", result.truncated ? "true" : "false");
  for (const ObjectInfo& o : result.contents) {
    out += "<Contents>";
    name_element(out, "Key", o.key, request);
    element(out, "LastModified", o.last_modified);
    element(out, "ETag", o.etag);
    element(out, "Size", std::to_string(o.size));
    element(out, "StorageClass", "STANDARD");
    out += "</Contents>";
  }
  for (const std::string& p : result.common_prefixes) {
    out += "<CommonPrefixes>";
    name_element(out, "Prefix", p, request);
    out += "</CommonPrefixes>";
  }
  out += "</ListBucketResult>";
  return out;
}

std::string list_buckets_xml(const std::vector<std::string>& buckets, std::string_view owner) {
  std::string out(kDeclaration);
  fmt::format_to(std::back_inserter(out), "<ListAllMyBucketsResult xmlns=\"{}\"><Owner>", kNamespace);
  element(out, "ID", owner);
  element(out, "DisplayName", owner);
  out += "</Owner><Buckets>";
  for (const std::string& b : buckets) {
    out += "<Bucket>";
    element(out, "Name", b);
    element(out, "CreationDate", "2026-01-01T00:00:00.000Z");
    out += "</Bucket>";
  }
  out += "</Buckets></ListAllMyBucketsResult>";
  return out;
}

std::string error_xml(std::string_view code, std::string_view message, std::string_view resource,
                      std::string_view request_id) {
  std::string out(kDeclaration);
  out += "<Error>";
  element(out, "Code", code);
  element(out, "Message", message);
  element(out, "Resource", resource);
  element(out, "RequestId", request_id);
  out += "</Error>";
  return out;
}

}  // namespace s3r_synthetic
