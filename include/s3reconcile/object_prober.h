// ObjectProber: the question a backend answers before a row is removed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/status.h"

namespace s3reconcile {

struct ObjectInfo {
  std::int64_t size = 0;
};

class ObjectProber {
 public:
  virtual ~ObjectProber() = default;

  // Asks the backend about one storage key, now, bypassing any listing.
  // Returns the object's info when it is present, std::nullopt when the
  // backend answered that it is absent, and an error when it could not tell.
  // Only a definite "absent" permits removing an index row.
  virtual StatusOr<std::optional<ObjectInfo>> probe(std::string_view storage_key, std::stop_token stop) = 0;

  // Asks about several keys; the answers in the order of `keys`, each as
  // probe() would give it. The default asks one after the other.
  virtual std::vector<StatusOr<std::optional<ObjectInfo>>> probe_many(std::span<const std::string> keys,
                                                                      std::stop_token stop) {
    std::vector<StatusOr<std::optional<ObjectInfo>>> answers;
    answers.reserve(keys.size());
    for (const std::string& key : keys) answers.push_back(probe(key, stop));
    return answers;
  }

  // Whether probe_many() has its requests in flight together on the calling
  // thread. The removal confirmer then asks `probe_concurrency` at a time
  // from one thread, instead of one thread each.
  virtual bool probes_many_at_once() const { return false; }
};

}  // namespace s3reconcile
