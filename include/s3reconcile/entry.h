// Entry: the unit the merge consumes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace s3reconcile {

using Clock = std::chrono::system_clock;

struct Entry {
  // The key namespaced to the virtual bucket being reconciled: "bucket/...".
  std::string key;
  // Where the object's bytes live on the backend. Equal to `key` except for
  // unprefixed keys adopted into the default bucket, whose bytes stay at the
  // raw key.
  std::string storage_key;
  // Size in bytes on whichever side produced the entry.
  std::int64_t size = 0;
  // The object's modification time, when the side that produced it knows it.
  std::optional<Clock::time_point> last_modified;
};

}  // namespace s3reconcile
