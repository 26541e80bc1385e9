// Bounded retries with exponential backoff and full jitter.
#pragma once

#include <chrono>
#include <random>
#include <stop_token>

namespace s3reconcile::s3 {

struct RetryPolicy {
  int max_attempts = 5;                        // attempts in all, first included
  std::chrono::milliseconds base_delay{200};   // cap of the first backoff
  std::chrono::milliseconds max_delay{20000};  // no backoff is longer than this
};

// The wait before retry number `retry` (1 for the first retry): uniform in
// [0, min(max_delay, base_delay * 2^(retry-1))] ("full jitter"), so that
// many clients backing off from one overloaded server spread out.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

// Waits `delay`, returning early (false) when `stop` is requested.
bool sleep_unless_stopped(std::chrono::milliseconds delay, std::stop_token stop);

}  // namespace s3reconcile::s3
