#include "cli/progress.h"

#include <fmt/format.h>

#include "cli/logging.h"
#include "config/config.h"

namespace s3reconcile::cli {

StatusOr<std::chrono::milliseconds> parse_progress_interval(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds(0);
  auto parsed = config::parse_duration(text);
  if (!parsed.ok()) return invalid_argument_error("--progress-interval " + text + ": " + parsed.status().message());
  return *parsed;
}

Progress::Progress(const MergeCounters& counters, ProgressOptions options)
    : counters_(counters), options_(std::move(options)) {
  if (options_.live_line || options_.log_interval.count() > 0) thread_ = std::thread([this] { run(); });
}

Progress::~Progress() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (options_.live_line) Stderr::set_status("");
}

void Progress::pass_started(EventLog log, std::string backend, std::string bucket) {
  MutexLock lock(mu_);
  pass_ = InFlight{std::move(log), std::move(backend), std::move(bucket), std::chrono::steady_clock::now(),
                   counters_.snapshot()};
}

void Progress::pass_ended() {
  MutexLock lock(mu_);
  pass_.reset();
  if (options_.live_line) Stderr::set_status("");
}

void Progress::run() {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  // The live line is redrawn twice a second; log lines come every interval.
  const milliseconds tick = options_.live_line ? milliseconds(500) : options_.log_interval;
  auto next_log = steady_clock::now() + options_.log_interval;
  MutexLock lock(mu_);
  while (!lock.wait_for(cv_, tick, [this]() S3R_REQUIRES(mu_) { return done_; })) {
    if (!pass_) continue;
    const bool log_due = options_.log_interval.count() > 0 && steady_clock::now() >= next_log;
    if (log_due) next_log = steady_clock::now() + options_.log_interval;
    report(*pass_, log_due);
  }
}

void Progress::report(const InFlight& pass, bool log_line) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - pass.started).count();
  const MergeCounts now = counters_.snapshot();
  const std::uint64_t listed = now.listed - pass.at_start.listed, rows = now.rows - pass.at_start.rows,
                      imported = now.imported - pass.at_start.imported, removed = now.removed - pass.at_start.removed;
  const double rate = seconds > 0 ? static_cast<double>(listed) / seconds : 0;
  if (log_line) {
    pass.log.info("pass progress", {{"listed", listed},
                                    {"rows", rows},
                                    {"imported", imported},
                                    {"removed", removed},
                                    {"keys_per_second", rate},
                                    {"elapsed_s", seconds}});
  }
  if (options_.live_line) {
    Stderr::set_status(fmt::format("{} {}: listed {} rows {} imported {} removed {} ({:.0f} keys/s) elapsed {:.0f}s",
                                   pass.backend, pass.bucket.empty() ? "*" : pass.bucket, listed, rows, imported,
                                   removed, rate, seconds));
  }
}

}  // namespace s3reconcile::cli
