// PassBoard: what serve knows of the passes it runs, for the passes API, the
// status page and the metrics: each run (a scheduled round, or a pass asked
// for with POST /v1/passes), its passes with their counts as they move, and
// which backends have a pass in flight.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/metrics.h"
#include "cli/pass_runner.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile::cli {

struct BoardPass {
  std::string pass_id;
  std::string backend;
  std::string bucket;
  std::string paths;
  // "running", then the pass's outcome: "ok", "error" or "stopped".
  std::string state = "running";
  Clock::time_point started_at{};
  std::optional<Clock::time_point> finished_at;
  std::string error;
  PassCounts counts;  // so far, while it runs
};

struct BoardRun {
  std::string id;
  std::string kind;  // "serve" (a scheduled round) or "api"
  bool dry_run = false;
  PassSelection selection;
  // "queued", "running", then "done" (every pass ended; each says how) or
  // "failed" (no pass could start: `error` says why).
  std::string state = "queued";
  Clock::time_point requested_at{};
  std::optional<Clock::time_point> finished_at;
  std::string error;
  std::vector<BoardPass> passes;
};

class PassBoard final : public BackendClaims {
 public:
  // `metrics` (optional) hears of every pass too. The board keeps the
  // latest `keep` runs.
  explicit PassBoard(Metrics* metrics, std::size_t keep = 200) : metrics_(metrics), keep_(keep) {}
  ~PassBoard() override;

  // A new run, queued; returns its id (a pass id: new_pass_id()).
  std::string add_run(std::string kind, bool dry_run, PassSelection selection);
  // What follows the passes of run `id`: give it to run_passes.
  std::unique_ptr<PassWatcher> watch(const std::string& id);
  void run_started(const std::string& id);
  void run_ended(const std::string& id, const PassRun& run);

  // The run of that id, or the run holding a pass of that id.
  std::optional<BoardRun> find(const std::string& id) const;
  std::vector<BoardRun> runs() const;
  std::vector<BoardPass> in_flight() const;
  // Waits until run `id` ended (or is gone) or `timeout` passed; true when
  // it ended.
  bool wait_for_end(const std::string& id, std::chrono::milliseconds timeout) const;

  bool try_claim(const std::string& backend) override;
  void release(const std::string& backend) override;
  // Claims every one of `backends`, or none: returns the first that is
  // already claimed, if any.
  std::optional<std::string> try_claim_all(const std::vector<std::string>& backends);
  void release_all(const std::vector<std::string>& backends);

 private:
  class Watcher;
  BoardRun* run_of(const std::string& id) S3R_REQUIRES(mu_);

  Metrics* const metrics_;
  const std::size_t keep_;
  mutable Mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<BoardRun> runs_ S3R_GUARDED_BY(mu_);
  std::set<std::string> claimed_ S3R_GUARDED_BY(mu_);
};

}  // namespace s3reconcile::cli
