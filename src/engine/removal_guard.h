// Admits removals one at a time against a pass's RemovalLimits.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "s3reconcile/mutex.h"
#include "s3reconcile/reconcile.h"

namespace s3reconcile::internal {

// Safe to call from several threads (the ranges of a parallel pass, the
// removal confirmer's workers).
class RemovalGuard {
 public:
  // `paths`: the path prefix the pass covers ("" = the whole backend).
  RemovalGuard(const RemovalLimits& limits, std::string backend, std::string paths)
      : limits_(limits), backend_(std::move(backend)), paths_(std::move(paths)) {}

  // Called before each removal. OK admits it (and counts it); an error trips
  // the guard, and every later call returns the same error.
  Status admit(bool listing_empty, std::uint64_t rows_scanned);

  bool tripped() const {
    MutexLock lock(mu_);
    return !tripped_.ok();
  }

 private:
  const RemovalLimits limits_;
  const std::string backend_, paths_;
  mutable Mutex mu_;
  std::uint64_t admitted_ S3R_GUARDED_BY(mu_) = 0;
  Status tripped_ S3R_GUARDED_BY(mu_);
};

}  // namespace s3reconcile::internal
