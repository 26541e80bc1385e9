#include "s3reconcile/time_format.h"

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace s3reconcile {

std::string iso8601_utc_micros(Clock::time_point t) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  long frac = static_cast<long>(micros % 1000000);
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

StatusOr<Clock::time_point> parse_iso8601_utc_micros(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  long micros = 0;
  int consumed = 0;
  if (s.size() != 27 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &micros, &consumed) != 7 ||
      consumed != 27) {
    return invalid_argument_error(fmt::format("\"{}\" is not a time as YYYY-MM-DDTHH:MM:SS.ffffffZ", s));
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = ::timegm(&tm);
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(secs) + std::chrono::microseconds(micros)));
}

}  // namespace s3reconcile
