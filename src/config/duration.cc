#include <cctype>

#include <fmt/format.h>

#include "config/config.h"

namespace s3reconcile::config {

StatusOr<std::chrono::milliseconds> parse_duration(const std::string& text) {
  auto bad = [&] {
    return invalid_argument_error(
        fmt::format("\"{}\" is not a duration (examples: 500ms, 30s, 10m, 24h, 1h30m)", text));
  };
  if (text.empty()) return bad();
  std::chrono::milliseconds total{0};
  std::size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad();
    long long amount = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      amount = amount * 10 + (text[i++] - '0');
      if (amount > 1'000'000'000LL) return bad();
    }
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    if (unit == "ms")
      total += std::chrono::milliseconds(amount);
    else if (unit == "s")
      total += std::chrono::seconds(amount);
    else if (unit == "m")
      total += std::chrono::minutes(amount);
    else if (unit == "h")
      total += std::chrono::hours(amount);
    else
      return bad();
    if (total > kMaxDuration) {
      return invalid_argument_error(
          fmt::format("\"{}\" is longer than the most accepted, {}h", text, kMaxDuration.count()));
    }
  }
  return total;
}

}  // namespace s3reconcile::config
