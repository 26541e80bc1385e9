#include "s3reconcile/result.h"

#include <charconv>
#include <iterator>

#include <fmt/format.h>

namespace s3reconcile {

PassCounts& PassCounts::operator+=(const PassCounts& o) {
  for (const auto& [name, field] : kPassCountFields) this->*field += o.*field;
  return *this;
}

void Result::add(const Result& o) {
  totals() += o.totals();
  for (const auto& [bucket, counts] : o.buckets) buckets[bucket] += counts;
  api_pages += o.api_pages;
}

std::string pass_counts_json(const PassCounts& counts) {
  std::string json = "{";
  counts.for_each([&](std::string_view name, std::uint64_t v) {
    fmt::format_to(std::back_inserter(json), "{}\"{}\":{}", json.size() > 1 ? "," : "", name, v);
  });
  return json + "}";
}

// A flat object of numbers is all it reads: what pass_counts_json writes,
// or PostgreSQL's jsonb text of it (which adds a space after each colon).
PassCounts pass_counts_from_json(std::string_view json) {
  PassCounts counts;
  for (const auto& [name, field] : kPassCountFields) {
    const std::string quoted = fmt::format("\"{}\":", name);
    const auto at = json.find(quoted);
    if (at == std::string_view::npos) continue;
    std::size_t from = at + quoted.size();
    while (from < json.size() && json[from] == ' ') ++from;
    std::from_chars(json.data() + from, json.data() + json.size(), counts.*field);
  }
  return counts;
}

}  // namespace s3reconcile
