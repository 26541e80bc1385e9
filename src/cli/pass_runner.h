// Runs reconcile passes for the (backend, bucket) pairs a config names.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "cli/progress.h"
#include "cli/timed_store.h"
#include "config/config.h"
#include "s3reconcile/event_log.h"
#include "s3reconcile/live_counts.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/pass_records.h"
#include "s3reconcile/result.h"
#include "s3reconcile/s3_backend.h"

namespace s3reconcile::cli {

struct PassSelection {
  std::vector<std::string> backends;  // empty = every backend
  // A pass per named bucket, over its paths only; empty = one pass over
  // each whole backend (which alone reconciles unprefixed keys).
  std::vector<std::string> buckets;
  // One pass per backend over the paths starting with this; "" = all.
  // Not together with `buckets`.
  std::string prefix;
};

// This process as it signs its records and its ranges in a shared pass's
// ledger: "host:pid".
std::string instance_name();

// OK when every named backend and bucket exists in the config (and buckets
// and a prefix are not both given); otherwise an INVALID_ARGUMENT naming
// the problem.
Status check_selection(const config::Config& config, const PassSelection& selection);

// Told of each pass as it starts, joins a shared pass (taking the ledger's
// id) and ends: how serve's metrics, passes API and status page follow
// passes. Called from the thread running the passes.
class PassWatcher {
 public:
  virtual ~PassWatcher() = default;
  // Returns where the pass's counts go as it makes them (null: nowhere).
  virtual LiveCounts* pass_started(const PassRecord& record) = 0;
  virtual void pass_joined(const std::string& /*pass_id*/) {}
  virtual void pass_ended(const PassRecord& record, const Result& result) = 0;
};

// The backends passes of this process are running on: a pass of a backend
// already claimed is not started (serve's rounds and passes on demand
// never walk one backend twice at once).
class BackendClaims {
 public:
  virtual ~BackendClaims() = default;
  virtual bool try_claim(const std::string& backend) = 0;
  virtual void release(const std::string& backend) = 0;
};

struct PassRun {
  // Why no pass could start (the store did not open); OK otherwise.
  Status setup;
  std::vector<Result> results;
};

struct PassRequest {
  PassSelection selection;
  // What asks for the passes, as their records in the index say ("run",
  // "diff", "check", "serve").
  std::string kind = "run";
  bool dry_run = false;
  RemovalLimits limits;
  std::stop_token stop;
  EventLog log;
  // Take the index's per-backend lock (PostgreSQL advisory lock) before a
  // backend's passes, and skip a backend another instance holds (serve).
  bool lock_backends = false;
  // Key ranges per pass walked at once; 0 = the config's reconcile.parallelism.
  std::size_t parallelism = 0;
  // Join (or start) each pass as a shared pass of the PostgreSQL index,
  // which instances work range by range (reconcile.ranges, reconcile.lease).
  bool join = false;
  // Optional: live counts across all passes, for a progress display.
  MergeCounters* counters = nullptr;
  // Optional: told of each pass as it starts and ends.
  Progress* progress = nullptr;
  // Optional: each import and removal done (or that would be), with its pass.
  // An error fails the pass (see ChangeObserver).
  std::function<Status(const std::string& backend, const std::string& bucket, ChangeAction, const Entry&)> on_change;
  // Optional, for serve: passes followed, backends claimed, index calls
  // timed, S3 requests counted.
  PassWatcher* watcher = nullptr;
  BackendClaims* claims = nullptr;
  IndexObserver* index_observer = nullptr;
  std::function<std::shared_ptr<S3RequestObserver>(const std::string& backend)> s3_observer;
};

// Opens the store, then runs one pass per selected backend (or per selected
// bucket of it) in config order. A failed pass does not stop the next; a
// stop request does. Each pass gets a pass id (a shared pass: its ledger's)
// and is recorded in the index's PassRecords as it starts and as it ends
// (a backend that could not be set up: as an error); a record that cannot
// be written is logged as a warning and changes nothing else.
PassRun run_passes(const config::Config& config, const PassRequest& request);

}  // namespace s3reconcile::cli
