// Entry: the unit the merge consumes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace s3reconcile {

using Clock = std::chrono::system_clock;

struct Entry {
  // The namespaced key the object is (index side) or would be (listing side)
  // known by: "bucket/...". For a listed path this is the path itself, or
  // "default/<path>" for an unprefixed path adopted into the default bucket.
  std::string key;
  // The path the bytes live at on the backend: the listed key, or the
  // row's storage_key. The merge compares this, and only this.
  std::string storage_key;
  // Size in bytes on whichever side produced the entry.
  std::int64_t size = 0;
  // The object's modification time, when the side that produced it knows it.
  std::optional<Clock::time_point> last_modified;
  // The virtual bucket the entry was classified into ("" when its key is
  // under no known bucket), for per-bucket counts and reports.
  std::string bucket;
  // Listing side: an unprefixed path that would be adopted into the default
  // bucket (key = "default/" + storage_key). Such an orphan is imported only
  // when "default/<path>" is neither on the backend nor in the index.
  bool adopted = false;
  // A path on both sides whose sizes differ: the size the index row holds
  // (`size` is then the backend's). Set only on such an entry (a resize).
  std::optional<std::int64_t> index_size;
};

}  // namespace s3reconcile
