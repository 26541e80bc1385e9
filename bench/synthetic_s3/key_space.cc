#include "key_space.h"

#include <algorithm>
#include <stdexcept>

namespace s3r_synthetic {
namespace {

// memcmp order, whatever the signedness of char.
int compare_bytes(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// splitmix64: a cheap, well-mixed function of i, so ETags look random but are
// the same on every run.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Digits written by hand: listing formats one key per listed object, and
// snprintf was most of the cost of a page.
void put_digits(char* out, std::uint64_t value, int width) {
  for (int k = width - 1; k >= 0; --k) {
    out[k] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

KeySpace::KeySpace(std::string prefix, std::uint64_t count) : prefix_(std::move(prefix)), count_(count) {
  if (count_ > kMaxKeys) throw std::invalid_argument("at most 1000000000 generated keys");
}

std::string KeySpace::key(std::uint64_t i) const {
  std::string out(prefix_.size() + 20, '\0');
  char* p = out.data();
  std::copy(prefix_.begin(), prefix_.end(), p);
  p += prefix_.size();
  p[0] = 'd';
  put_digits(p + 1, i / kKeysPerDirectory, 5);
  p[6] = '/';
  p[7] = 'o';
  put_digits(p + 8, i, 12);
  return out;
}

std::optional<std::uint64_t> KeySpace::find(std::string_view key) const {
  const std::uint64_t i = lower_bound(key);
  if (i < count_ && this->key(i) == key) return i;
  return std::nullopt;
}

// Listing asks for lower_bound(k + '\0') with k the key just returned, once
// per key: read i back from the digits instead of searching (O(1) instead of
// ~30 formatted keys). Anything else takes the binary search.
std::optional<std::uint64_t> KeySpace::direct_index(std::string_view key) const {
  constexpr std::size_t kTail = 20;  // d + 5 digits + /o + 12 digits
  const bool successor = key.size() == prefix_.size() + kTail + 1 && key.back() == '\0';
  if (key.size() != prefix_.size() + kTail + (successor ? 1 : 0) || !key.starts_with(prefix_)) return std::nullopt;
  std::uint64_t i = 0;
  for (char c : key.substr(prefix_.size() + 8, 12)) {
    if (c < '0' || c > '9') return std::nullopt;
    i = i * 10 + static_cast<std::uint64_t>(c - '0');
  }
  // The rest must be exactly what key(i) would write: compared in place, no string built.
  const std::string_view tail = key.substr(prefix_.size(), kTail);
  char directory[5];
  put_digits(directory, i / kKeysPerDirectory, 5);
  if (i >= count_ || tail[0] != 'd' || tail.substr(1, 5) != std::string_view(directory, 5) || tail[6] != '/' ||
      tail[7] != 'o') {
    return std::nullopt;
  }
  return successor ? i + 1 : i;
}

std::uint64_t KeySpace::lower_bound(std::string_view key) const {
  if (auto i = direct_index(key)) return *i;
  std::uint64_t lo = 0, hi = count_;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (compare_bytes(this->key(mid), key) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::string KeySpace::etag(std::uint64_t i) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(34, '"');
  const std::uint64_t halves[2] = {mix(i), mix(i ^ 0x5bd1e995ULL)};
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 16; ++k) out[1 + h * 16 + k] = kDigits[(halves[h] >> (60 - 4 * k)) & 0xF];
  }
  return out;
}

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xff) out.pop_back();
  if (out.empty()) return std::nullopt;
  out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

}  // namespace s3r_synthetic
