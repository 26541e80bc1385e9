// ReadAhead: the next page of a walk fetched on one long-lived thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "s3reconcile/mutex.h"

namespace s3reconcile {

// One thread, started with the first job and kept for the walk: a walk of a
// million keys fetches a thousand pages, and a thread started for each
// (std::async) is a thousand thread creations and an unbounded count of
// threads alive at once when pages come fast. A pass holds a bounded number
// of these: one per stream.
//
// Jobs run one at a time, in the order started: start() a job, then take()
// its result before the next start(). The owner's thread and the job never
// use the same state at once, so jobs need no locks of their own.
//
// The destructor waits for a job in flight (its result is dropped), then
// ends the thread. Declare a ReadAhead after everything its jobs use.
template <typename Result>
class ReadAhead {
 public:
  ReadAhead() = default;
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  ~ReadAhead() {
    {
      MutexLock lock(mu_);
      lock.wait(done_, [this]() S3R_REQUIRES(mu_) { return !running_; });
      closing_ = true;
    }
    work_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  // Runs `job` on the thread. The result of the previous job must have
  // been taken.
  void start(std::function<Result()> job) {
    {
      MutexLock lock(mu_);
      job_ = std::move(job);
      running_ = true;
      result_.reset();
      pending_ = true;
    }
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { run(); });
    } else {
      work_.notify_one();
    }
  }

  // Whether a job was started and its result not yet taken (the owner's
  // thread only, as start() and take()).
  bool pending() const { return pending_; }

  // Waits until no job runs, leaving its result to take(). Any thread.
  void wait() {
    MutexLock lock(mu_);
    lock.wait(done_, [this]() S3R_REQUIRES(mu_) { return !running_; });
  }

  // Waits for the job started last and returns its result.
  Result take() {
    MutexLock lock(mu_);
    lock.wait(done_, [this]() S3R_REQUIRES(mu_) { return result_.has_value(); });
    pending_ = false;
    Result result = std::move(*result_);
    result_.reset();
    return result;
  }

 private:
  void run() {
    MutexLock lock(mu_);
    while (true) {
      lock.wait(work_, [this]() S3R_REQUIRES(mu_) { return running_ || closing_; });
      if (!running_) return;  // closing, nothing left to run
      std::function<Result()> job = std::move(job_);
      lock.unlock();
      Result result = job();
      lock.lock();
      result_.emplace(std::move(result));
      running_ = false;
      done_.notify_all();
    }
  }

  Mutex mu_;
  std::condition_variable work_;                      // a job or the close, for the thread
  std::condition_variable done_;                      // a result, for take(), wait() and the destructor
  std::function<Result()> job_ S3R_GUARDED_BY(mu_);   // the job to run
  bool running_ S3R_GUARDED_BY(mu_) = false;          // from start() until the job's result is in
  std::optional<Result> result_ S3R_GUARDED_BY(mu_);  // the last job's, until taken
  bool closing_ S3R_GUARDED_BY(mu_) = false;
  bool pending_ = false;  // the owner's thread only
  std::thread thread_;    // last: its first use comes after everything else exists
};

}  // namespace s3reconcile
