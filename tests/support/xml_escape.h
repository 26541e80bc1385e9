// XML text escaping for the fakes and parsers under test: what a server
// sends for a key, with control bytes (CR, LF and TAB too) as character
// references, which S3 and radosgw use for them.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace s3reconcile::testing {

inline std::string xml_escape(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
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
        if (c < 0x20 || c == 0x7F) {
          out += fmt::format("&#{};", c);
        } else {
          out += ch;
        }
    }
  }
  return out;
}

}  // namespace s3reconcile::testing
