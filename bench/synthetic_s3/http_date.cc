#include "http_date.h"

#include <chrono>

#include <fmt/format.h>

#include "s3/list_xml.h"  // parse_iso8601

namespace s3r_synthetic {

using namespace std::chrono;

std::string iso8601(s3reconcile::Clock::time_point when) {
  const auto ms = floor<milliseconds>(when);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string rfc1123_from_iso8601(std::string_view iso) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto when = s3reconcile::s3::parse_iso8601(iso);
  if (!when.ok()) return "Thu, 01 Jan 2026 00:00:00 GMT";  // only our own strings reach here
  const auto s = floor<seconds>(*when);
  const auto day = floor<days>(s);
  const year_month_day ymd{day};
  const hh_mm_ss hms{s - day};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[weekday(day).c_encoding()],
                     static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                     static_cast<int>(ymd.year()), hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

}  // namespace s3r_synthetic
