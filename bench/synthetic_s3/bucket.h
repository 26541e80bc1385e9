// One synthetic bucket: the generated keys of a KeySpace, plus an in-memory
// overlay of objects PUT by clients (the conformance suite's awkward keys).
// Listing merges both in byte order. A PUT or DELETE of a generated key hides
// the generated one, so the two never hold the same key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "key_space.h"
#include "listing.h"

namespace s3r_synthetic {

// LastModified of every generated key.
inline constexpr std::string_view kGeneratedLastModified = "2026-01-01T00:00:00.000Z";

class Bucket {
 public:
  explicit Bucket(KeySpace generated = {}) : generated_(std::move(generated)) {}

  std::optional<ObjectInfo> head(std::string_view key) const;
  // The object and its bytes (generated keys: `size` filler bytes).
  std::optional<std::pair<ObjectInfo, std::string>> get(std::string_view key) const;
  // Returns the ETag of the stored object.
  std::string put(std::string key, std::string body, std::string last_modified);
  void remove(std::string_view key);  // S3 answers 204 whether or not it existed
  bool empty() const;

  // One ListObjectsV2 page, computed under one lock: a consistent snapshot.
  ListResult list(const ListQuery& query) const;

 private:
  struct Stored {
    std::string body;
    std::string etag;
    std::string last_modified;
  };

  std::optional<ObjectInfo> seek(std::string_view position) const;  // caller holds mu_
  ObjectInfo generated_info(std::uint64_t i) const;

  const KeySpace generated_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Stored, std::less<>> overlay_;
  std::set<std::uint64_t> hidden_;  // generated indices deleted or overwritten
};

}  // namespace s3r_synthetic
