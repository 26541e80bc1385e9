// The merge alone (s3reconcile::sorted) over in-memory sides: what a pass
// costs in CPU per key once both streams are in memory, with 1% of keys only
// on the listing side and 1% only on the index side, as in the end-to-end
// benchmark (bench/run).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "s3reconcile/key_source.h"
#include "s3reconcile/merge.h"

namespace {

using s3reconcile::Entry;
using s3reconcile::KeySource;
using s3reconcile::Status;
using s3reconcile::StatusOr;

// Keys as the synthetic endpoint names them: "vb/d00000/o000000000000".
std::string key_of(std::int64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "vb/d%05lld/o%012lld", static_cast<long long>(i / 10000), static_cast<long long>(i));
  return buf;
}

// Hands out prepared entries by copy, as the real sources hand out fresh
// entries: the copy is part of what a real pass pays per key.
class VectorSource final : public KeySource {
 public:
  explicit VectorSource(const std::vector<Entry>& entries) : entries_(entries) {}
  StatusOr<std::optional<Entry>> next() override {
    if (at_ == entries_.size()) return std::optional<Entry>();
    return std::optional<Entry>(entries_[at_++]);
  }
  void stop() override {}

 private:
  const std::vector<Entry>& entries_;
  std::size_t at_ = 0;
};

// The listing lacks nothing; the index lacks keys with i % 100 == 7 (orphans)
// and holds an extra row after each key with i % 100 == 3 (stale rows).
struct Sides {
  std::vector<Entry> listing, index;
};

Sides make_sides(std::int64_t n) {
  Sides s;
  s.listing.reserve(n);
  s.index.reserve(n + n / 100);
  for (std::int64_t i = 0; i < n; ++i) {
    Entry e{key_of(i), key_of(i), 1000 + i % 9000, std::nullopt};
    s.listing.push_back(e);
    if (i % 100 != 7) s.index.push_back(e);
    if (i % 100 == 3) {
      Entry stale = e;
      stale.key += "-stale";
      stale.storage_key = stale.key;
      s.index.push_back(std::move(stale));
    }
  }
  return s;
}

void BM_SortedMerge(benchmark::State& state) {
  const Sides sides = make_sides(state.range(0));
  std::uint64_t imports = 0, removals = 0;
  for (auto _ : state) {
    VectorSource listing(sides.listing), index(sides.index);
    imports = removals = 0;
    Status s = s3reconcile::sorted(
        listing, index,
        [&](const Entry&) {
          ++imports;
          return Status();
        },
        [&](const Entry&) {
          ++removals;
          return Status();
        });
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
    benchmark::DoNotOptimize(imports + removals);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(sides.listing.size() + sides.index.size()));
  state.counters["imports"] = static_cast<double>(imports);
  state.counters["removals"] = static_cast<double>(removals);
}
BENCHMARK(BM_SortedMerge)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
