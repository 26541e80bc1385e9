#include "listing.h"

#include "key_space.h"

namespace s3r_synthetic {

ListResult list_objects(const ListQuery& query, const Seek& seek) {
  // Everything is a lower bound: "after k" is k + '\0', the smallest string above k.
  std::string position = query.prefix;
  const auto raise_to = [&](std::string bound) {
    if (bound > position) position = std::move(bound);  // std::string compares bytes as unsigned
  };
  if (query.position) {
    raise_to(*query.position);
  } else if (!query.start_after.empty()) {
    raise_to(key_successor(query.start_after));
  }

  ListResult result;
  int count = 0;
  for (;;) {
    std::optional<ObjectInfo> next = seek(position);
    if (!next || !next->key.starts_with(query.prefix)) break;
    // Checked only once another entry is known to exist: IsTruncated is
    // never true for a listing that has nothing more to give.
    if (count >= query.max_keys) {
      result.truncated = true;
      result.next_continuation_token = encode_token(position);
      break;
    }
    ++count;
    if (!query.delimiter.empty()) {
      const std::size_t at = next->key.find(query.delimiter, query.prefix.size());
      if (at != std::string::npos) {
        std::string common = next->key.substr(0, at + query.delimiter.size());
        std::optional<std::string> past = prefix_successor(common);
        result.common_prefixes.push_back(std::move(common));
        if (!past) break;  // the prefix is all 0xff bytes: nothing can follow it
        position = std::move(*past);
        continue;
      }
    }
    position = key_successor(next->key);
    result.contents.push_back(std::move(*next));
  }
  return result;
}

std::string encode_token(std::string_view position) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(position.size() * 2);
  for (char ch : position) {
    const auto c = static_cast<unsigned char>(ch);
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0F];
  }
  return out;
}

std::optional<std::string> decode_token(std::string_view token) {
  const auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (token.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(token.size() / 2);
  for (std::size_t i = 0; i < token.size(); i += 2) {
    const int hi = value(token[i]), lo = value(token[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace s3r_synthetic
