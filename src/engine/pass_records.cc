#include "s3reconcile/pass_records.h"

#include <ctime>
#include <random>

#include <fmt/format.h>

namespace s3reconcile {

std::string new_pass_id() {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:06}Z-{:016x}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, micros % 1000000, rng());
}

std::string_view pass_outcome(const Status& status) {
  if (status.ok()) return "ok";
  return status.code() == StatusCode::kCancelled ? "stopped" : "error";
}

std::string_view pass_outcome(const Result& result) {
  return result.status.ok() && result.stopped_at_budget ? "stopped_at_budget" : pass_outcome(result.status);
}

}  // namespace s3reconcile
