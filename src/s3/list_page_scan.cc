// The fast path of the ListObjectsV2 parser: one pass over the body, no DOM.
//
// A pass lists a million keys in a thousand pages, and building pugixml's
// tree of every page (then copying each text out of it) was most of the
// listing's CPU. Servers send pages in one plain shape: elements without
// attributes below the root, text with the five named references, nothing
// else. This scanner reads exactly that shape, straight from the bytes; at
// anything outside it (a CDATA section, a comment, a character reference, a
// namespace prefix, an attribute, a malformed or truncated body, a field
// that does not parse) it gives up, and the full parser (list_xml.cc)
// decides, with its messages. So it only has to be right about what it
// accepts: the page it returns is the one the full parser returns (checked
// by the differential fuzzer, tests/fuzz/list_xml_fuzz.cc).
#include <cstring>
#include <string>
#include <string_view>

#include "s3/list_xml.h"

namespace s3reconcile::s3 {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

// S3's encoding-type=url, decoded in place (the result is never longer):
// '+' is a space, %XY a byte. False on a '%' without two hex digits.
bool url_decode_in_place(std::string& text) {
  // Up to the first byte to change, nothing moves. One comparison a byte:
  // find_first_of("%+") calls memchr on the set for every byte of the key.
  std::size_t i = 0;
  while (i < text.size() && text[i] != '%' && text[i] != '+') ++i;
  if (i == text.size()) return true;
  std::size_t out = i;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      text[out++] = ' ';
    } else if (c != '%') {
      text[out++] = c;
    } else {
      const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      text[out++] = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  text.resize(out);
  return true;
}

// The length of the named reference `ref` starts with ("&amp;", "&lt;",
// "&gt;", "&quot;", "&apos;"), and the character it stands for in
// `decoded`; 0 for anything else. One look at the second byte picks the
// name to compare: trying the five in turn was 2% of a pass, a memcmp each
// for the two in every ETag.
std::size_t named_reference(std::string_view ref, char& decoded) {
  const auto is = [&](std::string_view name, char c) -> std::size_t {
    if (!ref.starts_with(name)) return 0;
    decoded = c;
    return name.size();
  };
  if (ref.size() < 4) return 0;
  switch (ref[1]) {
    case 'a':
      return ref[2] == 'm' ? is("&amp;", '&') : is("&apos;", '\'');
    case 'l':
      return is("&lt;", '<');
    case 'g':
      return is("&gt;", '>');
    case 'q':
      return is("&quot;", '"');
    default:
      return 0;
  }
}

class Scanner {
 public:
  explicit Scanner(std::string_view xml) : at_(xml.data()), end_(xml.data() + xml.size()) {}

  // The page, written over `page` (its objects' buffers reused), or false
  // to leave the body to the full parser.
  bool scan(ListPage& page) {
    std::size_t used = 0;  // objects of `page` written so far; the rest are spares
    if (!declaration()) return false;
    skip_space();
    if (!root_start_tag()) return false;
    // The root's own fields, each at most once.
    enum Field { kEncoding, kTruncated, kToken, kKeyCount, kFields };
    std::string_view value[kFields];
    bool seen[kFields] = {};
    while (true) {
      skip_space();
      if (at_ == end_ || *at_ != '<') return false;
      if (end_ - at_ >= 2 && at_[1] == '/') {
        if (!end_tag("ListBucketResult")) return false;
        break;
      }
      std::string_view name;
      bool empty = false;
      if (!start_tag(name, empty)) return false;
      if (name == "Contents") {
        if (used == page.objects.size()) page.objects.emplace_back();
        if (empty || !contents(page.objects[used++])) return false;
        continue;
      }
      if (name == "CommonPrefixes") return false;  // delimiter listings: rare, left to the full parser
      const int field = name == "EncodingType"            ? kEncoding
                        : name == "IsTruncated"           ? kTruncated
                        : name == "NextContinuationToken" ? kToken
                        : name == "KeyCount"              ? kKeyCount
                                                          : kFields;
      if (field == kFields) {
        if (!empty && !skip_element(name, 0)) return false;
        continue;
      }
      if (seen[field]) return false;
      seen[field] = true;
      if (!empty && !leaf(name, value[field], root_scratch_[field])) return false;
    }
    skip_space();
    if (at_ != end_) return false;
    page.objects.resize(used);

    page.url_encoded = false;
    if (!value[kEncoding].empty()) {
      if (value[kEncoding] != "url") return false;
      page.url_encoded = true;
    }
    if (!seen[kTruncated]) return false;
    if (value[kTruncated] == "true") {
      page.is_truncated = true;
    } else if (value[kTruncated] == "false") {
      page.is_truncated = false;
    } else {
      return false;
    }
    page.next_continuation_token.assign(value[kToken]);
    if (page.is_truncated && page.next_continuation_token.empty()) return false;
    page.key_count.reset();
    if (seen[kKeyCount]) {
      page.key_count = parse_count<int>(value[kKeyCount]);
      if (!page.key_count) return false;
    }
    page.common_prefixes.clear();
    if (page.url_encoded) {
      for (ListedObject& object : page.objects) {
        if (!url_decode_in_place(object.key)) return false;
      }
    }
    return true;
  }

 private:
  void skip_space() {
    while (at_ != end_ && is_space(*at_)) ++at_;
  }

  bool starts_with(std::string_view text) const {
    return static_cast<std::size_t>(end_ - at_) >= text.size() && std::memcmp(at_, text.data(), text.size()) == 0;
  }

  // An XML declaration at the very start, skipped as the full parser skips it.
  bool declaration() {
    if (!starts_with("<?xml")) return true;
    const std::string_view rest(at_, end_ - at_);
    const std::size_t close = rest.find("?>");
    // The full parser refuses a NUL or an unknown reference anywhere, the
    // declaration included: leave any '&' or NUL here to it.
    if (close == std::string_view::npos ||
        rest.substr(0, close).find_first_of(std::string_view("&\0", 2)) != std::string_view::npos) {
      return false;
    }
    if (close < 6 || !is_space(rest[5])) return false;  // "<?xml-foo" is a processing instruction
    at_ += close + 2;
    return true;
  }

  // "<ListBucketResult" with plain attributes (xmlns="..."), then '>'.
  bool root_start_tag() {
    if (!starts_with("<ListBucketResult")) return false;
    at_ += 17;
    while (true) {
      if (at_ == end_) return false;
      if (*at_ == '>') {
        ++at_;
        return true;
      }
      if (!is_space(*at_)) return false;
      skip_space();
      if (at_ != end_ && *at_ == '>') continue;
      const char* name = at_;
      while (at_ != end_ && (is_name_char(*at_) || *at_ == ':')) ++at_;
      if (at_ == name || !is_name_char(*name) || (*name >= '0' && *name <= '9') || *name == '-' || *name == '.') {
        return false;
      }
      if (at_ == end_ || *at_ != '=') return false;
      ++at_;
      if (at_ == end_ || (*at_ != '"' && *at_ != '\'')) return false;
      const char quote = *at_++;
      while (at_ != end_ && *at_ != quote) {
        if (*at_ == '<' || *at_ == '&' || *at_ == '\0') return false;
        ++at_;
      }
      if (at_ == end_) return false;
      ++at_;  // the closing quote
    }
  }

  // "<Name>" or "<Name/>" at the cursor: a name of plain characters, no
  // prefix, no attribute, no space.
  bool start_tag(std::string_view& name, bool& empty) {
    const char* begin = ++at_;  // past '<'
    while (at_ != end_ && is_name_char(*at_)) ++at_;
    if (at_ == begin || !((*begin >= 'a' && *begin <= 'z') || (*begin >= 'A' && *begin <= 'Z') || *begin == '_')) {
      return false;
    }
    name = std::string_view(begin, at_ - begin);
    if (at_ != end_ && *at_ == '>') {
      ++at_;
      empty = false;
      return true;
    }
    if (end_ - at_ >= 2 && at_[0] == '/' && at_[1] == '>') {
      at_ += 2;
      empty = true;
      return true;
    }
    return false;
  }

  // "</name>" exactly.
  bool end_tag(std::string_view name) {
    if (static_cast<std::size_t>(end_ - at_) < name.size() + 3 || at_[0] != '<' || at_[1] != '/' ||
        std::memcmp(at_ + 2, name.data(), name.size()) != 0 || at_[2 + name.size()] != '>') {
      return false;
    }
    at_ += name.size() + 3;
    return true;
  }

  // Text up to the next '<': a view of the body when it holds no reference,
  // else decoded into `*scratch`. With no scratch (the text of a skipped
  // element, such as every key's ETag, "&quot;"-quoted) the references are
  // checked and nothing is copied. False on a NUL, a reference other than
  // the five named ones, or the end of the body.
  bool text(std::string_view& out, std::string* scratch) {
    const char* lt = static_cast<const char*>(std::memchr(at_, '<', end_ - at_));
    if (lt == nullptr) return false;
    const std::string_view raw(at_, lt - at_);
    if (raw.find('\0') != std::string_view::npos) return false;
    at_ = lt;
    const std::size_t amp = raw.find('&');
    if (amp == std::string_view::npos) {
      out = raw;
      return true;
    }
    if (scratch != nullptr) scratch->assign(raw.substr(0, amp));
    for (std::size_t i = amp; i < raw.size();) {
      if (raw[i] != '&') {
        const std::size_t next = std::min(raw.find('&', i), raw.size());
        if (scratch != nullptr) scratch->append(raw.substr(i, next - i));
        i = next;
        continue;
      }
      char decoded = 0;
      const std::size_t length = named_reference(raw.substr(i), decoded);
      if (length == 0) return false;  // a character reference or an unknown one
      if (scratch != nullptr) scratch->push_back(decoded);
      i += length;
    }
    out = scratch != nullptr ? std::string_view(*scratch) : raw;
    return true;
  }

  // The text of a leaf element whose start tag was read, through its end tag.
  bool leaf(std::string_view name, std::string_view& out, std::string& scratch) {
    return text(out, &scratch) && end_tag(name);
  }

  // One <Contents>, its start tag read: <Key>, <Size>, <LastModified> once
  // each, other leaf or nested elements skipped. Every field of `object` (a
  // spare from an earlier page) is written.
  bool contents(ListedObject& object) {
    bool have_key = false, have_size = false, have_modified = false;
    object.last_modified.reset();
    while (true) {
      skip_space();
      if (at_ == end_ || *at_ != '<') return false;
      if (end_ - at_ >= 2 && at_[1] == '/') {
        if (!end_tag("Contents")) return false;
        return have_key && have_size;
      }
      std::string_view name;
      bool empty = false;
      if (!start_tag(name, empty)) return false;
      std::string_view value;
      if (name == "Key") {
        if (have_key) return false;
        have_key = true;
        if (!empty && !leaf(name, value, scratch_)) return false;
        object.key.assign(value);
      } else if (name == "Size") {
        if (have_size || empty) return false;
        have_size = true;
        if (!leaf(name, value, scratch_)) return false;
        const std::optional<std::int64_t> size = parse_count<std::int64_t>(value);
        if (!size) return false;
        object.size = *size;
      } else if (name == "LastModified") {
        if (have_modified || empty) return false;
        have_modified = true;
        if (!leaf(name, value, scratch_)) return false;
        // Keys of one page mostly share a handful of timestamps: parse each once.
        if (!last_time_valid_ || value != last_time_text_) {
          StatusOr<Clock::time_point> at = parse_iso8601(value);
          if (!at.ok()) return false;
          last_time_text_.assign(value);
          last_time_ = *at;
          last_time_valid_ = true;
        }
        object.last_modified = last_time_;
      } else if (!empty && !skip_element(name, 0)) {
        return false;
      }
    }
  }

  // The rest of an element whose start tag `name` was read, whatever it
  // holds (within the plain shape), through its end tag.
  bool skip_element(std::string_view name, int depth) {
    if (depth > 8) return false;
    while (true) {
      std::string_view ignored;
      if (!text(ignored, nullptr)) return false;
      if (end_ - at_ >= 2 && at_[1] == '/') return end_tag(name);
      std::string_view child;
      bool empty = false;
      if (!start_tag(child, empty)) return false;
      if (!empty && !skip_element(child, depth + 1)) return false;
    }
  }

  const char* at_;
  const char* const end_;
  std::string scratch_;          // decoded text of the element being read
  std::string root_scratch_[4];  // decoded root fields (kept until the end)
  bool last_time_valid_ = false;
  std::string last_time_text_;
  Clock::time_point last_time_{};
};

}  // namespace

bool scan_list_objects_v2(std::string_view xml, ListPage& page) {
  // A page of n keys is at least ~60 bytes a key: reserve once.
  page.objects.reserve(xml.size() / 128);
  Scanner scanner(xml);
  return scanner.scan(page);
}

std::optional<ListPage> scan_list_objects_v2(std::string_view xml) {
  ListPage page;
  if (!scan_list_objects_v2(xml, page)) return std::nullopt;
  return page;
}

}  // namespace s3reconcile::s3
