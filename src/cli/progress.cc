#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace s3reconcile::cli {

ProgressLine::ProgressLine(const MergeCounters& counters, bool enabled) : counters_(counters) {
  if (enabled && ::isatty(STDERR_FILENO)) thread_ = std::thread([this] { run(); });
}

ProgressLine::~ProgressLine() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::fputs("\r\033[K", stderr);  // erase the line
  std::fflush(stderr);
}

void ProgressLine::run() {
  MutexLock lock(mu_);
  while (!lock.wait_for(cv_, std::chrono::milliseconds(500), [this]() S3R_REQUIRES(mu_) { return done_; })) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const auto listed = counters_.listed.load(std::memory_order_relaxed);
    const auto rows = counters_.rows.load(std::memory_order_relaxed);
    const double rate = seconds > 0 ? static_cast<double>(listed) / seconds : 0;
    const std::string line =
        fmt::format("\r\033[Klisted {} rows {} ({:.0f} keys/s) elapsed {:.0f}s", listed, rows, rate, seconds);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace s3reconcile::cli
