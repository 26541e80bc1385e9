// Progress of the pass in flight, for the two places operators look:
//   - a log line every `log_interval` (cron, journald, Kubernetes logs):
//     `pass progress` with the pass's id, backend, bucket and paths, the
//     keys listed, rows scanned, changes so far, the rate and elapsed time;
//   - on a terminal, a live status line naming backend and bucket, which
//     log lines never land inside (cli/logging.h's Stderr).
#pragma once

#include <chrono>
#include <condition_variable>
#include <optional>
#include <string>
#include <thread>

#include "s3reconcile/event_log.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/status.h"

namespace s3reconcile::cli {

// --progress-interval: a duration ("30s", "1m") or 0 for none.
StatusOr<std::chrono::milliseconds> parse_progress_interval(const std::string& text);

struct ProgressOptions {
  bool live_line = false;                  // on a terminal only
  std::chrono::milliseconds log_interval;  // 0: no progress log lines
  EventLog log;
};

class Progress {
 public:
  Progress(const MergeCounters& counters, ProgressOptions options);
  // Stops and erases the live line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // The pass now in flight (passes of one process run one at a time), and
  // its end. `log` carries the pass's context (pass_id, backend, bucket).
  void pass_started(EventLog log, std::string backend, std::string bucket);
  void pass_ended();

 private:
  struct InFlight {
    EventLog log;
    std::string backend;
    std::string bucket;
    std::chrono::steady_clock::time_point started;
    MergeCounts at_start;
  };
  void run();
  void report(const InFlight& pass, bool log_line) S3R_REQUIRES(mu_);

  const MergeCounters& counters_;
  const ProgressOptions options_;
  Mutex mu_;
  std::condition_variable cv_;
  bool done_ S3R_GUARDED_BY(mu_) = false;
  std::optional<InFlight> pass_ S3R_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace s3reconcile::cli
