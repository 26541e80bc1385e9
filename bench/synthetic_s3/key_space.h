// The generated part of a synthetic bucket: N keys that exist only as
// arithmetic. Key i is  prefix + "d" + (i / 10000, 5 digits) + "/o" + (i, 12
// digits), so every key has the same length and byte order equals i order;
// positions are found by binary search over i, never by storing keys. Ten
// million keys cost nothing but the time to format the few that are listed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3r_synthetic {

class KeySpace {
 public:
  // The 5-digit directory number caps i / 10000 below 100000.
  static constexpr std::uint64_t kMaxKeys = 1'000'000'000;
  static constexpr std::uint64_t kKeysPerDirectory = 10'000;

  KeySpace() = default;
  KeySpace(std::string prefix, std::uint64_t count);  // count <= kMaxKeys

  std::uint64_t count() const { return count_; }
  const std::string& prefix() const { return prefix_; }

  std::string key(std::uint64_t i) const;
  // The index of `key` when it is one of the generated keys.
  std::optional<std::uint64_t> find(std::string_view key) const;
  // The first i whose key is >= `key` in unsigned byte order (count() if none).
  std::uint64_t lower_bound(std::string_view key) const;

  // What S3 reports for key i. Sizes 1000..9999 bytes, one timestamp for all
  // (2026-01-01T00:00:00Z), an ETag derived from i (quoted, 32 hex digits).
  static std::int64_t size(std::uint64_t i) { return 1000 + static_cast<std::int64_t>(i % 9000); }
  static std::string etag(std::uint64_t i);

 private:
  std::optional<std::uint64_t> direct_index(std::string_view key) const;

  std::string prefix_;
  std::uint64_t count_ = 0;
};

// The smallest string greater than every string that starts with `prefix`
// (the last byte below 0xff incremented, what follows it dropped); nullopt
// when no such string exists (empty, or all 0xff). Listing jumps over a
// CommonPrefix with lower_bound(prefix_successor(p)).
std::optional<std::string> prefix_successor(std::string_view prefix);

// The smallest string greater than `key`: key + '\0'. Turns "after k"
// (start-after, the last key returned) into a lower bound.
inline std::string key_successor(std::string_view key) { return std::string(key) + '\0'; }

}  // namespace s3r_synthetic
