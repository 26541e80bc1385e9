// PassRecords: the index's record of every pass (plain, shared, dry runs,
// serve's rounds): what it covered, when it ran, what it did, how it ended.
// `status` reads it; anything wanting to name a pass (logs, an API) uses its
// pass_id.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/entry.h"
#include "s3reconcile/result.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// A new pass id, unique per pass: UTC time to the microsecond and 64 random
// bits ("20261201T125433.123456Z-1f2e3d4c5b6a7988"), so that ids sort by
// start and two instances starting at once still differ. A shared pass is
// recorded under its ledger id instead (decimal), which all its instances
// share.
std::string new_pass_id();

struct PassRecord {
  std::string pass_id;
  // Who ran it ("host:pid"): the instances working one shared pass each
  // record their part under the same pass_id.
  std::string instance;
  std::string backend;
  std::string bucket;  // the --bucket the pass was narrowed to, or ""
  std::string paths;   // the paths it covered ("" = the whole backend)
  // What started it: "run", "diff", "check", "serve", ...
  std::string kind;
  bool shared = false;  // a shared pass (--join, serve.join)
  bool dry_run = false;
  Clock::time_point started_at{};
  std::optional<Clock::time_point> finished_at;  // none while it runs
  // "running" until finished; then "ok", "error", "stopped" (cancelled) or
  // "stopped_at_budget" (a partial success: the request budget ran out).
  std::string outcome = "running";
  std::string error;  // why it ended early; "" when it did not
  PassCounts counts;  // totals at the end (zeros while it runs)
};

// The outcome a finished pass's status reads as: "ok", "stopped" (cancelled
// by a signal or a stop request) or "error".
std::string_view pass_outcome(const Status& status);
// The same for a finished pass, which may also read "stopped_at_budget".
std::string_view pass_outcome(const Result& result);

// Implemented by each store on its own table (s3reconcile_pass_records),
// on the store's connection: used from the thread using the store.
class PassRecords {
 public:
  virtual ~PassRecords() = default;

  // Records that a pass started (outcome "running"). Records the same
  // (pass_id, instance) again replace the earlier one.
  virtual Status begin(const PassRecord& record) = 0;
  // Records how a pass ended: every field as given. Works without a begin
  // (then it is the pass's only record).
  virtual Status finish(const PassRecord& record) = 0;
  // The latest records of `backend` ("" = every backend), newest start
  // first, at most `limit`.
  virtual StatusOr<std::vector<PassRecord>> recent(std::string_view backend, std::size_t limit) = 0;
  // Deletes the records of passes that finished before `finished_before`,
  // of every backend, and says how many went. A record still "running"
  // stays, however old: it is the trace of a process killed mid-pass.
  virtual StatusOr<std::size_t> prune(Clock::time_point finished_before) = 0;
};

}  // namespace s3reconcile
