// A live progress line on stderr while passes run, only on a terminal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "s3reconcile/merge.h"
#include "s3reconcile/mutex.h"

namespace s3reconcile::cli {

class ProgressLine {
 public:
  // Starts redrawing "listed N rows M (R keys/s) elapsed T" every half second
  // when stderr is a terminal and `enabled`; otherwise does nothing.
  ProgressLine(const MergeCounters& counters, bool enabled);
  // Stops and erases the line.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void run();

  const MergeCounters& counters_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  Mutex mu_;
  std::condition_variable cv_;
  bool done_ S3R_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace s3reconcile::cli
