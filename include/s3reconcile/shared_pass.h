// One pass shared by several instances (processes, machines), coordinated
// through the index's PassLedger (PostgreSQL).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/index_store.h"
#include "s3reconcile/reconcile.h"
#include "s3reconcile/result.h"

namespace s3reconcile {

struct SharedPassOptions {
  // This instance's name in the ledger ("host:pid" is a good one).
  std::string owner;
  // A pass this instance starts is planned as this many ranges (at the
  // index's key quantiles; at the listing's top-level names when the index
  // holds no rows for the bucket).
  std::size_t ranges = 32;
  // A range whose owner has not heartbeaten for this long is taken over.
  // Heartbeats go every lease / 3.
  std::chrono::milliseconds lease{std::chrono::seconds(30)};
  // Keys merged between two progress records of a range (each waits until
  // every change so far is written, then records the key it got to).
  std::uint64_t checkpoint_every = 10000;
  // How often to look again while other instances' ranges run.
  std::chrono::milliseconds poll{std::chrono::milliseconds(500)};
  // Told the shared pass's id (the ledger's, in decimal) once this instance
  // has joined it, before any range is worked, on the caller's store (the
  // thread calling join_shared_pass): how the caller records the pass
  // under the id every instance shares. Optional.
  std::function<void(const std::string& pass_id)> on_joined;
};

// Joins the running shared pass of the backend (over the paths `scope`
// covers), or starts one, and
// works its ranges, options.parallelism at a time, until none is left to
// claim and none is running: ranges are claimed with FOR UPDATE SKIP
// LOCKED, heartbeaten, and continued after their last recorded key when
// taken over (their owner stopped heartbeating) or when the pass is joined
// again after a crash. Needs options.open_store and a store with a
// PassLedger; each worker holds three connections (ledger, cursor, writer).
//
// The Result counts what this instance did (`ranges`: the ranges it
// worked; `pass_id`: the ledger's id, once joined, else options.pass_id); its status is an error when this instance's
// work failed or the pass ended failed (a range failed, on any instance). The removal guards apply per range.
Result join_shared_pass(const BackendRef& backend, const std::vector<std::string>& known_buckets, IndexStore& store,
                        const PassOptions& options, const SharedPassOptions& shared, const PassScope& scope = {});

}  // namespace s3reconcile
