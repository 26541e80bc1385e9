#include "s3/list_xml.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include <cctype>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "s3reconcile/key_order.h"

namespace s3reconcile::s3 {
namespace {

// Keys are byte strings, so the parse must hand back every byte of a text node:
// - parse_ws_pcdata keeps whitespace-only text ("  " as a key; pugixml drops it
//   by default) and whitespace next to a CDATA section or comment; the
//   whitespace between elements it also keeps is never read.
// - no parse_eol: a raw CR in a key (S3 sends keys unescaped without
//   encoding-type=url) stays a CR instead of becoming LF. References like
//   &#13; are never normalized either way.
// - parse_escapes decodes &amp; &lt; &#x1; ...; parse_cdata keeps CDATA text.
// - no parse_trim_pcdata: " a " stays " a ".
// The XML declaration is skipped whatever the options.
constexpr unsigned kParseOptions = (pugi::parse_default | pugi::parse_ws_pcdata) & ~pugi::parse_eol;

// S3 puts its elements in a default namespace; a prefixed name ("s3:Key") is
// matched by the part after the colon.
std::string_view local_name(pugi::xml_node node) {
  std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// pugixml holds text as C strings, so a NUL (a literal byte or &#0;, neither
// allowed in XML) would silently cut a key short. Returns its offset, or npos.
std::size_t find_nul(std::string_view xml) {
  const std::size_t literal = xml.find('\0');
  // Character references: "&#" then "x"/"X", one or more zeros and ";".
  // find() is memchr: this runs over every listing page.
  for (std::size_t i = xml.find('&'); i < literal && i != std::string_view::npos; i = xml.find('&', i + 1)) {
    if (i + 1 >= xml.size() || xml[i + 1] != '#') continue;
    std::size_t j = i + 2;
    if (j < xml.size() && (xml[j] == 'x' || xml[j] == 'X')) ++j;
    const std::size_t digits = j;
    while (j < xml.size() && xml[j] == '0') ++j;
    if (j > digits && j < xml.size() && xml[j] == ';') return i;
  }
  return literal;
}

// Whether `ref` (from a '&' on) is one of XML's five named references or a
// character reference; pugixml leaves any other "&name;" in the text as it
// is, which would make a key of "a&name;b" out of a listing that means none.
bool known_reference(std::string_view ref) {
  for (std::string_view named : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
    if (ref.starts_with(named)) return true;
  }
  std::size_t j = 2;
  if (!ref.starts_with("&#")) return false;
  const bool hex = j < ref.size() && (ref[j] == 'x' || ref[j] == 'X');
  if (hex) ++j;
  const std::size_t digits = j;
  while (j < ref.size() && (hex ? std::isxdigit(static_cast<unsigned char>(ref[j])) != 0
                                : std::isdigit(static_cast<unsigned char>(ref[j])) != 0)) {
    ++j;
  }
  return j > digits && j < ref.size() && ref[j] == ';';
}

// The offset of the first '&' outside CDATA that starts no known reference,
// or npos.
std::size_t find_unknown_reference(std::string_view xml) {
  std::size_t cdata = xml.find("<![CDATA[");
  for (std::size_t i = xml.find('&'); i != std::string_view::npos; i = xml.find('&', i + 1)) {
    while (cdata != std::string_view::npos && cdata < i) {
      const std::size_t end = xml.find("]]>", cdata);
      if (end == std::string_view::npos) return std::string_view::npos;  // unclosed: the parser says so
      if (i < end) {
        i = end;  // inside CDATA: '&' is literal there
        break;
      }
      cdata = xml.find("<![CDATA[", end);
    }
    if (i < xml.size() && xml[i] == '&' && !known_reference(xml.substr(i, 16))) {
      // A reference cut off by the end of the body is a truncated page: the
      // parser names that.
      return xml.find_first_of(";<", i) == std::string_view::npos ? std::string_view::npos : i;
    }
  }
  return std::string_view::npos;
}

// Parses `xml` into `doc` and returns its only top-level element.
StatusOr<pugi::xml_node> load_root(std::string_view xml, pugi::xml_document& doc) {
  if (const std::size_t at = find_nul(xml); at != std::string_view::npos) {
    return data_loss_error(fmt::format("not valid XML: a NUL character at byte {}", at));
  }
  if (const std::size_t at = find_unknown_reference(xml); at != std::string_view::npos) {
    return data_loss_error(fmt::format("not valid XML: an unknown entity reference {} at byte {}",
                                       quote_key(xml.substr(at, std::min<std::size_t>(16, xml.size() - at))), at));
  }
  // encoding_utf8 passes the bytes through as they are: no guessing from an
  // encoding="..." declaration, which could rewrite the bytes of a key.
  const pugi::xml_parse_result result = doc.load_buffer(xml.data(), xml.size(), kParseOptions, pugi::encoding_utf8);
  if (!result) {
    // No "truncated?" guess: pugixml puts the error where the unfinished
    // construct began (an attribute, a close tag), often well before the end.
    return data_loss_error(
        fmt::format("not well-formed XML: {} at byte {} of {}", result.description(), result.offset, xml.size()));
  }
  pugi::xml_node root;
  for (pugi::xml_node node : doc.children()) {
    if (node.type() != pugi::node_element) continue;
    if (root) {
      return data_loss_error(
          fmt::format("not valid XML: a second top-level element <{}> after <{}>", node.name(), root.name()));
    }
    root = node;
  }
  return root;  // load_buffer succeeded, so there is one
}

// The child element `name` of `parent`: an empty node when there is none,
// DATA_LOSS when there are several (which one would be the truth?).
StatusOr<pugi::xml_node> single_child(pugi::xml_node parent, std::string_view name) {
  pugi::xml_node found;
  for (pugi::xml_node node : parent.children()) {
    if (node.type() != pugi::node_element || local_name(node) != name) continue;
    if (found) {
      return data_loss_error(fmt::format("<{}> appears more than once in <{}>", name, local_name(parent)));
    }
    found = node;
  }
  return found;
}

// The whole text of a leaf element: pugixml splits it into several nodes
// around a CDATA section or a comment, and child_value() would return only
// the first.
StatusOr<std::string> text_of(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node part : node.children()) {
    if (part.type() == pugi::node_pcdata || part.type() == pugi::node_cdata) {
      text += part.value();
    } else if (part.type() == pugi::node_element) {
      return data_loss_error(fmt::format("<{}> holds an element <{}> instead of text", local_name(node), part.name()));
    }
  }
  return text;
}

// The text of the child `name`, or nullopt when it is absent.
StatusOr<std::optional<std::string>> child_text(pugi::xml_node parent, std::string_view name) {
  StatusOr<pugi::xml_node> node = single_child(parent, name);
  if (!node.ok()) return node.status();
  if (!*node) return std::optional<std::string>();
  StatusOr<std::string> text = text_of(*node);
  if (!text.ok()) return text.status();
  return std::optional<std::string>(std::move(*text));
}

// The <Key>, <Size> and <LastModified> of one <Contents>, read in one walk
// over its children (this runs for every key listed: a lookup per field
// would walk them three times). Each may appear once.
struct ContentsFields {
  pugi::xml_node key, size, last_modified;
};

StatusOr<ContentsFields> contents_fields(pugi::xml_node contents) {
  ContentsFields fields;
  for (pugi::xml_node node : contents.children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view name = local_name(node);
    pugi::xml_node* slot = name == "Key"            ? &fields.key
                           : name == "Size"         ? &fields.size
                           : name == "LastModified" ? &fields.last_modified
                                                    : nullptr;
    if (slot == nullptr) continue;
    if (*slot) return data_loss_error(fmt::format("<{}> appears more than once in <Contents>", name));
    *slot = node;
  }
  return fields;
}

// Keys of one page mostly share a handful of timestamps: parse each once.
class TimestampCache {
 public:
  StatusOr<Clock::time_point> parse(const std::string& text) {
    if (valid_ && text == last_text_) return last_value_;
    StatusOr<Clock::time_point> value = parse_iso8601(text);
    if (value.ok()) {
      last_text_ = text;
      last_value_ = *value;
      valid_ = true;
    }
    return value;
  }

 private:
  bool valid_ = false;
  std::string last_text_;
  Clock::time_point last_value_{};
};

StatusOr<ListedObject> parse_contents(pugi::xml_node contents, bool url_encoded, TimestampCache& timestamps) {
  auto fields = contents_fields(contents);
  if (!fields.ok()) return fields.status();
  if (!fields->key) return data_loss_error("has no <Key>");
  auto key_text = text_of(fields->key);
  if (!key_text.ok()) return key_text.status();
  ListedObject object;
  if (url_encoded) {
    StatusOr<std::string> decoded = url_decode(*key_text, /*plus_is_space=*/true);
    if (!decoded.ok()) {
      return data_loss_error(
          fmt::format("<Key> does not URL-decode although <EncodingType> is url: {}", decoded.status().message()));
    }
    object.key = std::move(*decoded);
  } else {
    object.key = std::move(*key_text);
  }

  if (!fields->size) return data_loss_error(fmt::format("key {} has no <Size>", quote_key(object.key)));
  auto size_text = text_of(fields->size);
  if (!size_text.ok()) return size_text.status().with_context(fmt::format("key {}", quote_key(object.key)));
  const std::optional<std::int64_t> size = parse_count<std::int64_t>(*size_text);
  if (!size) {
    return data_loss_error(fmt::format("key {} has a bad <Size> {}: not a non-negative integer", quote_key(object.key),
                                       quote_key(*size_text)));
  }
  object.size = *size;

  if (fields->last_modified) {
    auto modified_text = text_of(fields->last_modified);
    if (!modified_text.ok()) {
      return modified_text.status().with_context(fmt::format("key {}", quote_key(object.key)));
    }
    StatusOr<Clock::time_point> modified = timestamps.parse(*modified_text);
    if (!modified.ok()) {
      return data_loss_error(
          fmt::format("key {} has a bad <LastModified>: {}", quote_key(object.key), modified.status().message()));
    }
    object.last_modified = *modified;
  }
  return object;
}

StatusOr<ListPage> parse_list_page(std::string_view xml) {
  pugi::xml_document doc;
  StatusOr<pugi::xml_node> root = load_root(xml, doc);
  if (!root.ok()) return root.status();
  if (local_name(*root) != "ListBucketResult") {
    return data_loss_error(fmt::format("the root element is <{}>, not <ListBucketResult>", root->name()));
  }
  ListPage page;

  auto encoding = child_text(*root, "EncodingType");
  if (!encoding.ok()) return encoding.status();
  // An empty element is read as absent: nothing was encoded.
  if (*encoding && !(*encoding)->empty()) {
    if (**encoding != "url") {
      return data_loss_error(fmt::format("unknown <EncodingType> {}: keys cannot be decoded", quote_key(**encoding)));
    }
    page.url_encoded = true;
  }

  auto truncated = child_text(*root, "IsTruncated");
  if (!truncated.ok()) return truncated.status();
  if (!*truncated) return data_loss_error("<IsTruncated> is missing");
  if (**truncated == "true") {
    page.is_truncated = true;
  } else if (**truncated != "false") {
    return data_loss_error(fmt::format("<IsTruncated> is {}, not true or false", quote_key(**truncated)));
  }

  auto token = child_text(*root, "NextContinuationToken");
  if (!token.ok()) return token.status();
  if (*token) page.next_continuation_token = std::move(**token);
  // Without a token a truncated listing cannot go on; it must not look ended.
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return data_loss_error("<IsTruncated> is true but <NextContinuationToken> is missing or empty");
  }

  auto key_count = child_text(*root, "KeyCount");
  if (!key_count.ok()) return key_count.status();
  if (*key_count) {
    page.key_count = parse_count<int>(**key_count);
    if (!page.key_count) {
      return data_loss_error(fmt::format("bad <KeyCount> {}: not a non-negative integer", quote_key(**key_count)));
    }
  }

  std::size_t index = 0;
  TimestampCache timestamps;
  for (pugi::xml_node node : root->children()) {
    if (node.type() == pugi::node_element && local_name(node) == "CommonPrefixes") {
      auto prefix = child_text(node, "Prefix");
      if (!prefix.ok()) return prefix.status().with_context("<CommonPrefixes>");
      if (!*prefix) return data_loss_error("<CommonPrefixes> has no <Prefix>");
      if (!page.url_encoded) {
        page.common_prefixes.push_back(std::move(**prefix));
        continue;
      }
      StatusOr<std::string> decoded = url_decode(**prefix, /*plus_is_space=*/true);
      if (!decoded.ok()) {
        return data_loss_error(
            fmt::format("<CommonPrefixes> <Prefix> does not URL-decode: {}", decoded.status().message()));
      }
      page.common_prefixes.push_back(std::move(*decoded));
      continue;
    }
    if (node.type() != pugi::node_element || local_name(node) != "Contents") continue;
    ++index;
    StatusOr<ListedObject> object = parse_contents(node, page.url_encoded, timestamps);
    if (!object.ok()) {
      // Which <Contents>, for when the key itself is what is missing.
      return object.status().with_context(fmt::format("<Contents> #{}", index));
    }
    page.objects.push_back(std::move(*object));
  }
  return page;
}

// Reads exactly `count` decimal digits of `text` at `pos`.
std::optional<int> fixed_digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

StatusOr<ListPage> parse_list_objects_v2_dom(std::string_view xml) {
  StatusOr<ListPage> page = parse_list_page(xml);
  if (!page.ok()) return page.status().with_context("ListObjectsV2 response");
  return page;
}

Status parse_list_objects_v2(std::string_view xml, ListPage& page) {
  if (scan_list_objects_v2(xml, page)) return ok_status();
  StatusOr<ListPage> parsed = parse_list_objects_v2_dom(xml);
  if (!parsed.ok()) return parsed.status();
  page = std::move(*parsed);
  return ok_status();
}

StatusOr<ListPage> parse_list_objects_v2(std::string_view xml) {
  ListPage page;
  Status parsed = parse_list_objects_v2(xml, page);
  if (!parsed.ok()) return parsed;
  return page;
}

std::optional<S3Error> parse_s3_error(std::string_view xml) {
  pugi::xml_document doc;
  StatusOr<pugi::xml_node> root = load_root(xml, doc);
  if (!root.ok() || local_name(*root) != "Error") return std::nullopt;
  S3Error error;
  const auto field = [&](std::string_view name, std::string& out) {
    auto text = child_text(*root, name);
    if (!text.ok() || !*text) return false;
    out = std::move(**text);
    return true;
  };
  // Without a <Code> the body says nothing a caller could act on; the caller
  // falls back to the HTTP status and the raw body.
  if (!field("Code", error.code) || error.code.empty()) return std::nullopt;
  field("Message", error.message);
  field("RequestId", error.request_id);
  field("Resource", error.resource);
  return error;
}

StatusOr<std::string> url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return invalid_argument_error(
            fmt::format("bad %-escape at byte {} of {}: '%' must be followed by two hex digits", i, quote_key(text)));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

StatusOr<Clock::time_point> parse_iso8601(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return invalid_argument_error(
        fmt::format("{} is not a UTC timestamp like 2009-10-12T17:50:30.000Z: {}", quote_key(text), why));
  };
  // YYYY-MM-DDTHH:MM:SS, then an optional .fraction, then Z.
  const auto year = fixed_digits(text, 0, 4);
  const auto month = fixed_digits(text, 5, 2);
  const auto day = fixed_digits(text, 8, 2);
  const auto hour = fixed_digits(text, 11, 2);
  const auto minute = fixed_digits(text, 14, 2);
  const auto second = fixed_digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':') {
    return bad("not in the form YYYY-MM-DDTHH:MM:SS");
  }
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t first = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    const std::size_t count = pos - first;
    if (count == 0 || count > 9) return bad("the fraction must have 1 to 9 digits");
    nanos = *fixed_digits(text, first, count);
    for (std::size_t i = count; i < 9; ++i) nanos *= 10;
  }
  if (pos + 1 != text.size() || text[pos] != 'Z') return bad("it must end in Z (UTC)");

  using namespace std::chrono;
  const year_month_day date{std::chrono::year{*year}, std::chrono::month(static_cast<unsigned>(*month)),
                            std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return bad("no such date");
  if (*hour > 23 || *minute > 59 || *second > 59) return bad("no such time of day");
  // Plain calendar arithmetic (sys_days is days since 1970-01-01 in UTC): no
  // locale, no time zone.
  const seconds since_epoch = sys_days(date).time_since_epoch() + hours(*hour) + minutes(*minute) + seconds(*second);
  // The clock counts nanoseconds in 64 bits: about 1678 to 2262.
  constexpr seconds kLimit = duration_cast<seconds>(Clock::duration::max());
  if (since_epoch >= kLimit || since_epoch <= -kLimit) return bad("out of the clock's range");
  return Clock::time_point(duration_cast<Clock::duration>(since_epoch) +
                           duration_cast<Clock::duration>(nanoseconds(nanos)));
}

// ListObjectVersions, ListMultipartUploads and ListParts: the listings of
// what a plain listing cannot see (`survey`). Same XML rules as above.
namespace {

// The root of `xml`, checked to be <name>.
StatusOr<pugi::xml_node> root_named(std::string_view xml, pugi::xml_document& doc, std::string_view name) {
  StatusOr<pugi::xml_node> root = load_root(xml, doc);
  if (!root.ok()) return root.status();
  if (local_name(*root) != name) {
    return data_loss_error(fmt::format("the root element is <{}>, not <{}>", root->name(), name));
  }
  return root;
}

// <EncodingType>: true for url, false when absent or empty.
StatusOr<bool> url_encoding(pugi::xml_node root) {
  auto encoding = child_text(root, "EncodingType");
  if (!encoding.ok()) return encoding.status();
  if (!*encoding || (*encoding)->empty()) return false;
  if (**encoding != "url") {
    return data_loss_error(fmt::format("unknown <EncodingType> {}: keys cannot be decoded", quote_key(**encoding)));
  }
  return true;
}

StatusOr<bool> true_or_false(pugi::xml_node parent, std::string_view name, std::optional<bool> when_absent) {
  auto text = child_text(parent, name);
  if (!text.ok()) return text.status();
  if (!*text) {
    if (when_absent) return *when_absent;
    return data_loss_error(fmt::format("<{}> is missing", name));
  }
  if (**text == "true") return true;
  if (**text == "false") return false;
  return data_loss_error(fmt::format("<{}> is {}, not true or false", name, quote_key(**text)));
}

// The text of the child `name`, which must be there (and not be empty).
StatusOr<std::string> required_text(pugi::xml_node parent, std::string_view name) {
  auto text = child_text(parent, name);
  if (!text.ok()) return text.status();
  if (!*text || (*text)->empty()) return data_loss_error(fmt::format("has no <{}>", name));
  return std::move(**text);
}

// A key (or key marker) as the page sent it, decoded when it says url.
StatusOr<std::string> key_text(std::string text, bool url_encoded, std::string_view name) {
  if (!url_encoded) return text;
  StatusOr<std::string> decoded = url_decode(text, /*plus_is_space=*/true);
  if (!decoded.ok()) {
    return data_loss_error(
        fmt::format("<{}> does not URL-decode although <EncodingType> is url: {}", name, decoded.status().message()));
  }
  return decoded;
}

StatusOr<std::int64_t> size_of(pugi::xml_node parent) {
  auto text = required_text(parent, "Size");
  if (!text.ok()) return text.status();
  const std::optional<std::int64_t> size = parse_count<std::int64_t>(*text);
  if (!size) return data_loss_error(fmt::format("bad <Size> {}: not a non-negative integer", quote_key(*text)));
  return *size;
}

StatusOr<Clock::time_point> time_of(pugi::xml_node parent, std::string_view name) {
  auto text = required_text(parent, name);
  if (!text.ok()) return text.status();
  auto at = parse_iso8601(*text);
  if (!at.ok()) return data_loss_error(fmt::format("bad <{}>: {}", name, at.status().message()));
  return at;
}

StatusOr<ObjectVersion> parse_version(pugi::xml_node node, bool url_encoded) {
  ObjectVersion v;
  v.delete_marker = local_name(node) == "DeleteMarker";
  auto key = required_text(node, "Key");
  if (!key.ok()) return key.status();
  auto decoded = key_text(std::move(*key), url_encoded, "Key");
  if (!decoded.ok()) return decoded.status();
  v.key = std::move(*decoded);
  const auto in_key = [&](const Status& s) { return s.with_context(fmt::format("key {}", quote_key(v.key))); };
  auto id = required_text(node, "VersionId");
  if (!id.ok()) return in_key(id.status());
  v.version_id = std::move(*id);
  auto latest = true_or_false(node, "IsLatest", std::nullopt);
  if (!latest.ok()) return in_key(latest.status());
  v.is_latest = *latest;
  if (!v.delete_marker) {
    auto size = size_of(node);
    if (!size.ok()) return in_key(size.status());
    v.size = *size;
  }
  auto modified = child_text(node, "LastModified");
  if (!modified.ok()) return in_key(modified.status());
  if (*modified) {
    auto at = parse_iso8601(**modified);
    if (!at.ok()) return in_key(data_loss_error(fmt::format("bad <LastModified>: {}", at.status().message())));
    v.last_modified = *at;
  }
  return v;
}

// A page's keys must not go back: a listing that does would count some
// entries twice or skip others.
Status check_not_before(std::string_view key, std::string_view previous, std::size_t index) {
  if (index > 1 && compare_keys(key, previous) < 0) {
    return failed_precondition_error(fmt::format("entry #{} is not in ascending key order: {} came after {}", index,
                                                 quote_key(key), quote_key(previous)));
  }
  return ok_status();
}

StatusOr<IncompleteUpload> parse_upload(pugi::xml_node node, bool url_encoded) {
  IncompleteUpload upload;
  auto key = required_text(node, "Key");
  if (!key.ok()) return key.status();
  auto decoded = key_text(std::move(*key), url_encoded, "Key");
  if (!decoded.ok()) return decoded.status();
  upload.key = std::move(*decoded);
  auto id = required_text(node, "UploadId");
  if (!id.ok()) return id.status();
  upload.upload_id = std::move(*id);
  auto initiated = time_of(node, "Initiated");
  if (!initiated.ok()) return initiated.status();
  upload.initiated = *initiated;
  return upload;
}

// A page of a listing paged by key and id markers: root <root_name>, the
// markers (a truncated page that does not say where the next starts is
// DATA_LOSS: it must not look ended), and each <entry_names> element read
// by `parse_entry`, in document order, keys never going back.
template <typename Entry>
StatusOr<MarkerPage<Entry>> parse_marker_page(std::string_view xml, std::string_view root_name,
                                              std::string_view id_marker_name,
                                              std::initializer_list<std::string_view> entry_names,
                                              StatusOr<Entry> (*parse_entry)(pugi::xml_node, bool)) {
  pugi::xml_document doc;
  auto root = root_named(xml, doc, root_name);
  if (!root.ok()) return root.status();
  auto encoded = url_encoding(*root);
  if (!encoded.ok()) return encoded.status();
  MarkerPage<Entry> page;
  auto truncated = true_or_false(*root, "IsTruncated", std::nullopt);
  if (!truncated.ok()) return truncated.status();
  page.is_truncated = *truncated;
  auto marker = child_text(*root, "NextKeyMarker");
  if (!marker.ok()) return marker.status();
  if (*marker) {
    auto decoded = key_text(std::move(**marker), *encoded, "NextKeyMarker");
    if (!decoded.ok()) return decoded.status();
    page.next_key_marker = std::move(*decoded);
  }
  auto id_marker = child_text(*root, id_marker_name);
  if (!id_marker.ok()) return id_marker.status();
  if (*id_marker) page.next_id_marker = std::move(**id_marker);
  if (page.is_truncated && page.next_key_marker.empty()) {
    return data_loss_error("<IsTruncated> is true but <NextKeyMarker> is missing or empty");
  }
  std::size_t index = 0;
  for (pugi::xml_node node : root->children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view name = local_name(node);
    if (std::find(entry_names.begin(), entry_names.end(), name) == entry_names.end()) continue;
    ++index;
    auto entry = parse_entry(node, *encoded);
    if (!entry.ok()) return entry.status().with_context(fmt::format("<{}> #{}", name, index));
    if (!page.entries.empty()) S3R_RETURN_IF_ERROR(check_not_before(entry->key, page.entries.back().key, index));
    page.entries.push_back(std::move(*entry));
  }
  return page;
}

StatusOr<PartsPage> parse_parts_page(std::string_view xml) {
  pugi::xml_document doc;
  auto root = root_named(xml, doc, "ListPartsResult");
  if (!root.ok()) return root.status();
  PartsPage page;
  auto truncated = true_or_false(*root, "IsTruncated", std::nullopt);
  if (!truncated.ok()) return truncated.status();
  page.is_truncated = *truncated;
  auto marker = child_text(*root, "NextPartNumberMarker");
  if (!marker.ok()) return marker.status();
  if (*marker && !(*marker)->empty()) {
    const std::optional<int> number = parse_count<int>(**marker);
    if (!number) return data_loss_error(fmt::format("bad <NextPartNumberMarker> {}", quote_key(**marker)));
    page.next_part_number_marker = *number;
  }
  if (page.is_truncated && page.next_part_number_marker == 0) {
    return data_loss_error("<IsTruncated> is true but <NextPartNumberMarker> is missing or zero");
  }
  std::size_t index = 0;
  for (pugi::xml_node node : root->children()) {
    if (node.type() != pugi::node_element || local_name(node) != "Part") continue;
    ++index;
    const auto failed = [&](const Status& s) { return s.with_context(fmt::format("<Part> #{}", index)); };
    auto number_text = required_text(node, "PartNumber");
    if (!number_text.ok()) return failed(number_text.status());
    const std::optional<int> number = parse_count<int>(*number_text);
    if (!number || *number < 1) {
      return failed(data_loss_error(fmt::format("bad <PartNumber> {}", quote_key(*number_text))));
    }
    auto size = size_of(node);
    if (!size.ok()) return failed(size.status());
    if (!page.parts.empty() && *number <= page.parts.back().first) {
      return failed(failed_precondition_error(
          fmt::format("part {} came after part {}: not in ascending order", *number, page.parts.back().first)));
    }
    page.parts.emplace_back(*number, *size);
  }
  return page;
}

}  // namespace

StatusOr<VersionsPage> parse_list_versions(std::string_view xml) {
  auto page = parse_marker_page<ObjectVersion>(xml, "ListVersionsResult", "NextVersionIdMarker",
                                               {"Version", "DeleteMarker"}, &parse_version);
  if (!page.ok()) return page.status().with_context("ListObjectVersions response");
  return page;
}

StatusOr<UploadsPage> parse_list_multipart_uploads(std::string_view xml) {
  auto page = parse_marker_page<IncompleteUpload>(xml, "ListMultipartUploadsResult", "NextUploadIdMarker", {"Upload"},
                                                  &parse_upload);
  if (!page.ok()) return page.status().with_context("ListMultipartUploads response");
  return page;
}

StatusOr<PartsPage> parse_list_parts(std::string_view xml) {
  auto page = parse_parts_page(xml);
  if (!page.ok()) return page.status().with_context("ListParts response");
  return page;
}

}  // namespace s3reconcile::s3
