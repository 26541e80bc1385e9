#include "s3reconcile/printable.h"

#include <fmt/format.h>

namespace s3reconcile {

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  const std::size_t kept = std::min(text.size(), max_bytes);
  out.reserve(kept + 32);
  for (std::size_t i = 0; i < kept; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (kept < text.size()) out += fmt::format("... ({} more bytes)", text.size() - kept);
  return out;
}

std::string redact(std::string text, std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8)) {
      text.replace(at, secret.size(), "********");
    }
  }
  return text;
}

}  // namespace s3reconcile
