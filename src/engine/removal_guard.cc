#include "engine/removal_guard.h"

#include <fmt/format.h>

namespace s3reconcile::internal {

Status RemovalGuard::admit(bool listing_empty, std::uint64_t rows_scanned) {
  MutexLock lock(mu_);
  if (!tripped_.ok()) return tripped_;
  const std::string where = paths_.empty() ? fmt::format("backend \"{}\"", backend_)
                                           : fmt::format("backend \"{}\" paths \"{}\"", backend_, paths_);
  if (listing_empty && !limits_.allow_empty_listing) {
    tripped_ =
        aborted_error(fmt::format("removal guard: {}: the backend listed nothing {} while the index holds rows for it; "
                                  "refusing to remove them (if it really is empty, pass --allow-empty-listing or set "
                                  "reconcile.allow_empty_listing)",
                                  where, paths_.empty() ? std::string("at all") : fmt::format("under \"{}\"", paths_)));
    return tripped_;
  }
  if (limits_.max_removals != 0 && admitted_ + 1 > limits_.max_removals) {
    tripped_ = aborted_error(
        fmt::format("removal guard: {}: more than max_removals={} rows would be removed; stopped after {} "
                    "(raise --max-removals or reconcile.max_removals, 0 = no limit)",
                    where, limits_.max_removals, admitted_));
    return tripped_;
  }
  if (limits_.max_removal_ratio < 1.0 && rows_scanned >= limits_.ratio_min_rows &&
      static_cast<double>(admitted_ + 1) > limits_.max_removal_ratio * static_cast<double>(rows_scanned)) {
    tripped_ = aborted_error(
        fmt::format("removal guard: {}: {} removals of {} rows scanned exceeds max_removal_ratio={}; stopped "
                    "(raise --max-removal-ratio or reconcile.max_removal_ratio, 1 = no limit)",
                    where, admitted_ + 1, rows_scanned, limits_.max_removal_ratio));
    return tripped_;
  }
  ++admitted_;
  return ok_status();
}

}  // namespace s3reconcile::internal
