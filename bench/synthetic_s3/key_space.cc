#include "key_space.h"

#include <algorithm>
#include <cstdio>
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

}  // namespace

KeySpace::KeySpace(std::string prefix, std::uint64_t count) : prefix_(std::move(prefix)), count_(count) {
  if (count_ > kMaxKeys) throw std::invalid_argument("at most 1000000000 generated keys");
}

std::string KeySpace::key(std::uint64_t i) const {
  char tail[32];
  const int n = std::snprintf(tail, sizeof tail, "d%05llu/o%012llu",
                              static_cast<unsigned long long>(i / kKeysPerDirectory),
                              static_cast<unsigned long long>(i));
  std::string out;
  out.reserve(prefix_.size() + static_cast<std::size_t>(n));
  out += prefix_;
  out.append(tail, static_cast<std::size_t>(n));
  return out;
}

std::optional<std::uint64_t> KeySpace::find(std::string_view key) const {
  const std::uint64_t i = lower_bound(key);
  if (i < count_ && this->key(i) == key) return i;
  return std::nullopt;
}

std::uint64_t KeySpace::lower_bound(std::string_view key) const {
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
  char out[40];
  std::snprintf(out, sizeof out, "\"%016llx%016llx\"", static_cast<unsigned long long>(mix(i)),
                static_cast<unsigned long long>(mix(i ^ 0x5bd1e995ULL)));
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
