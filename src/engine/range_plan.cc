#include "s3reconcile/range_plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"

namespace s3reconcile {
namespace {

// How many single-prefix levels the listing fallback descends through
// ("bucket/data/2024/...") looking for names to split at.
constexpr int kMaxDescent = 4;

// Up to parts - 1 names spread evenly over `names` (ascending), never the
// first: each boundary is the name that starts the next range. A folder's
// name ("b/2024/") sorts before every key in it, so cutting there keeps the
// folder whole in the range after the cut.
std::vector<std::string> spread(const std::vector<std::string>& names, std::size_t parts) {
  std::vector<std::string> picked;
  if (names.size() < 2) return picked;
  for (std::size_t j = 1; j < parts; ++j) {
    const std::size_t at = j * names.size() / parts;
    if (at == 0 || at > names.size() - 1) continue;
    const std::string& name = names[at];
    if (picked.empty() || compare_keys(picked.back(), name) < 0) picked.push_back(name);
  }
  return picked;
}

}  // namespace

std::vector<KeyInterval> intervals_between(const std::vector<std::string>& boundaries) {
  std::vector<KeyInterval> ranges;
  std::string after;
  for (const auto& b : boundaries) {
    ranges.push_back(KeyInterval{after, b});
    after = b;
  }
  ranges.push_back(KeyInterval{after, ""});
  return ranges;
}

std::string_view range_source_name(RangePlan::Source source) {
  switch (source) {
    case RangePlan::Source::kWhole:
      return "whole";
    case RangePlan::Source::kIndex:
      return "index";
    case RangePlan::Source::kListing:
      return "listing";
  }
  return "?";
}

StatusOr<RangePlan> plan_ranges(IndexStore& store, ObjectLister& lister, std::string_view backend,
                                std::string_view paths, std::size_t parts, std::stop_token stop) {
  RangePlan plan;
  plan.ranges = intervals_between({});
  if (parts <= 1) return plan;
  const std::string prefix(paths);

  auto split = store.split_keys(backend, KeyRange{prefix, prefix_successor(prefix)}, parts);
  if (!split.ok() && split.status().code() != StatusCode::kUnimplemented) {
    return split.status().with_context(fmt::format("splitting paths {} at the index's keys", quote_key(prefix)));
  }
  // Rows sharing a path may repeat a boundary: a path is never split.
  if (split.ok()) split->erase(std::unique(split->begin(), split->end()), split->end());
  if (split.ok() && !split->empty()) {
    plan.ranges = intervals_between(*split);
    plan.source = RangePlan::Source::kIndex;
    return plan;
  }

  std::string under = prefix;
  for (int level = 0; level < kMaxDescent; ++level) {
    auto names = lister.list_top_level(under, '/', stop);
    if (!names.ok()) {
      if (names.status().code() == StatusCode::kUnimplemented) return plan;
      return names.status().with_context(fmt::format("splitting paths {} at the listing's names", quote_key(prefix)));
    }
    if (names->size() == 1 && names->front().ends_with('/') && names->front().size() > under.size()) {
      under = names->front();  // one folder holds everything: look inside it
      continue;
    }
    std::vector<std::string> boundaries = spread(*names, parts);
    if (!boundaries.empty()) {
      plan.ranges = intervals_between(boundaries);
      plan.source = RangePlan::Source::kListing;
    }
    return plan;
  }
  return plan;
}

}  // namespace s3reconcile
