// PassLedger: where instances sharing one pass record its ranges, who works
// each, how far each got, and what each did.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "s3reconcile/entry.h"
#include "s3reconcile/range_plan.h"
#include "s3reconcile/result.h"
#include "s3reconcile/status.h"

namespace s3reconcile {

// What a range's work did, summed over its attempts.
using RangeCounts = PassCounts;

// A range this instance now works on.
struct RangeClaim {
  std::int64_t pass_id = 0;
  int range_no = 0;
  KeyInterval range;
  // Every change for keys up to this one is in the index: continue after it
  // ("" = from the range's start).
  std::string resume_after;
  int attempt = 1;                      // 1 the first time; more after a takeover
  Clock::time_point pass_started_at{};  // the pass's cutoff for removals
  RangeCounts counts;                   // of the attempts before this one
};

struct RangeState {
  int range_no = 0;
  KeyInterval range;
  std::string state;  // pending | running | done | failed
  std::string owner;
  std::optional<Clock::time_point> heartbeat_at;
  std::string resume_after;
  int attempts = 0;
  RangeCounts counts;
  std::string error;
};

struct PassState {
  std::int64_t pass_id = 0;
  std::string backend, bucket;
  std::string state;  // running | done | failed
  Clock::time_point started_at{};
  std::optional<Clock::time_point> finished_at;
  std::vector<RangeState> ranges;
};

// Implemented on PostgreSQL (s3reconcile_passes, s3reconcile_ranges). Every
// call that changes a range names its owner and does nothing (false) when
// the range is no longer that owner's: it was taken over.
class PassLedger {
 public:
  virtual ~PassLedger() = default;

  using Planner = std::function<StatusOr<std::vector<KeyInterval>>()>;

  // The running pass of (backend, scope), or a new one (`bucket`: the
  // paths the pass covers, "" = the whole backend), planned by `plan`
  // (called only when there is none) and recorded with all its ranges in
  // one transaction. Instances asking at once get the same pass.
  virtual StatusOr<std::int64_t> open_pass(const std::string& backend, const std::string& bucket,
                                           Clock::time_point started_at, const Planner& plan) = 0;

  // Claims one range that is pending, or running under an owner whose last
  // heartbeat is older than `lease` (its owner is taken to be dead). None
  // when every range is done, failed, or in live hands. Instances claiming
  // at once never get the same range (FOR UPDATE SKIP LOCKED).
  virtual StatusOr<std::optional<RangeClaim>> claim_range(std::int64_t pass_id, const std::string& owner,
                                                          std::chrono::milliseconds lease) = 0;

  virtual StatusOr<bool> heartbeat(std::int64_t pass_id, int range_no, const std::string& owner) = 0;

  // Every change for keys up to `applied_through` is in the index.
  virtual StatusOr<bool> record_progress(std::int64_t pass_id, int range_no, const std::string& owner,
                                         const std::string& applied_through, const RangeCounts& counts) = 0;

  // Done (outcome OK) or failed (with the outcome's message).
  virtual StatusOr<bool> finish_range(std::int64_t pass_id, int range_no, const std::string& owner,
                                      const RangeCounts& counts, const Status& outcome) = 0;

  // Closes the pass once no range is pending or running: "done", or
  // "failed" when a range failed. Returns the pass's state.
  virtual StatusOr<std::string> settle_pass(std::int64_t pass_id) = 0;

  // The most recent passes, newest first, with their ranges.
  virtual StatusOr<std::vector<PassState>> recent_passes(std::size_t limit) = 0;

  // Deletes the passes settled (done or failed) before `finished_before`,
  // with their ranges, and says how many went. A running pass stays.
  virtual StatusOr<std::size_t> prune(Clock::time_point finished_before) = 0;
};

}  // namespace s3reconcile
