#include "s3/retry.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace s3reconcile::s3 {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, std::mt19937_64& rng) {
  const int doublings = std::clamp(retry - 1, 0, 30);
  const long long base = std::max<long long>(policy.base_delay.count(), 0);
  const long long cap = std::min<long long>(policy.max_delay.count(), base << doublings);
  std::uniform_int_distribution<long long> pick(0, std::max<long long>(cap, 0));
  return std::chrono::milliseconds(pick(rng));
}

bool sleep_unless_stopped(std::chrono::milliseconds delay, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  return !cv.wait_for(lock, stop, delay, [] { return false; }) && !stop.stop_requested();
}

}  // namespace s3reconcile::s3
