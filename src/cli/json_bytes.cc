#include "cli/json_bytes.h"

#include <openssl/evp.h>

#include <fmt/format.h>

namespace s3reconcile::cli {
namespace {

// The length of the UTF-8 sequence starting at text[i], or 0 when the bytes
// there are not one.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size() || at(i + 1) < low || at(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return n;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void put_bytes(nlohmann::ordered_json& j, const std::string& name, std::string_view bytes) {
  if (valid_utf8(bytes)) {
    j[name] = bytes;
    return;
  }
  std::string readable;
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = sequence_length(bytes, i);
    if (n == 0) {
      readable += fmt::format("\\x{:02x}", static_cast<unsigned char>(bytes[i]));
      ++i;
    } else {
      readable.append(bytes.substr(i, n));
      i += n;
    }
  }
  j[name] = std::move(readable);
  j[name + "_b64"] = base64(bytes);
}

StatusOr<std::string> get_bytes(const nlohmann::json& j, const std::string& name) {
  const auto exact = j.find(name + "_b64");
  if (exact != j.end()) {
    if (!exact->is_string()) return invalid_argument_error(fmt::format("\"{}_b64\" is not a string", name));
    auto bytes = unbase64(exact->get<std::string>());
    if (!bytes) return invalid_argument_error(fmt::format("\"{}_b64\" is not base64", name));
    return *bytes;
  }
  const auto text = j.find(name);
  if (text == j.end() || !text->is_string()) {
    return invalid_argument_error(fmt::format("\"{}\" is missing or not a string", name));
  }
  return text->get<std::string>();
}

}  // namespace s3reconcile::cli
