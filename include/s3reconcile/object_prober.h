// ObjectProber: the question a backend answers before a row is removed.
#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string_view>

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
};

}  // namespace s3reconcile
