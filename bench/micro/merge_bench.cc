// The merge alone (s3reconcile::sorted) over in-memory sides: what a pass
// costs in CPU per key once both streams are in memory, with 1% of keys only
// on the listing side and 1% only on the index side, as in the end-to-end
// benchmark (bench/run).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
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

// Hands out prepared entries a page (1000) at a time, in place, as the real
// sources hand out the pages their producers built: building an entry is the
// producer's cost (the parser's, the index cursor's), measured with them.
class VectorSource final : public KeySource {
 public:
  explicit VectorSource(const std::vector<Entry>& entries) : entries_(entries) {}
  StatusOr<std::span<const Entry>> next_batch() override {
    const std::size_t n = std::min<std::size_t>(1000, entries_.size() - at_);
    const std::span<const Entry> batch(entries_.data() + at_, n);
    at_ += n;
    return batch;
  }
  void release() override {}

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
  std::uint64_t imports = 0, removals = 0, mismatches = 0;
  for (auto _ : state) {
    VectorSource listing(sides.listing), index(sides.index);
    imports = removals = 0;
    // As a pass calls it: sizes compared at every matched path.
    s3reconcile::MergeCallbacks callbacks{[&](const Entry&) {
                                            ++imports;
                                            return Status();
                                          },
                                          [&](const Entry&) {
                                            ++removals;
                                            return Status();
                                          },
                                          [&](const Entry& listed, const Entry& row) {
                                            mismatches += listed.size != row.size;
                                            return Status();
                                          }};
    Status s = s3reconcile::sorted(listing, index, callbacks);
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
    benchmark::DoNotOptimize(imports + removals + mismatches);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(sides.listing.size() + sides.index.size()));
  state.counters["imports"] = static_cast<double>(imports);
  state.counters["removals"] = static_cast<double>(removals);
}
BENCHMARK(BM_SortedMerge)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
