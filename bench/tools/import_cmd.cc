// Importing N orphans into PostgreSQL two ways: the product's batches
// (apply_changes: one transaction per batch, statements pipelined) and the
// upstream shape, one INSERT ... ON CONFLICT DO NOTHING per row, each its own
// transaction (insert_if_absent). Use a fresh --backend per run: rows that
// already exist would make the inserts no-ops.
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"

namespace s3r_bench {

int import_command(const Args& args) {
  auto store = open_index(args);
  const std::string backend = args.required("backend");
  const std::int64_t count = args.num("count", 100000);
  const std::string mode = args.str("mode", "batched");
  const auto batch_size = static_cast<std::size_t>(args.num("batch-size", 500));
  if (mode != "batched" && mode != "single") throw std::invalid_argument("--mode batched|single");
  const auto now = s3reconcile::Clock::now();

  std::vector<s3reconcile::IndexChange> changes(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    auto& c = changes[static_cast<std::size_t>(i)];
    const std::string key = synthetic_key("imp/", i);
    c.entry = {key, key, 1000 + i % 9000, std::nullopt};
    c.created_at = now;
  }

  std::uint64_t inserted = 0;
  Stopwatch clock;
  if (mode == "single") {
    for (const auto& c : changes) {
      auto r = store->insert_if_absent(backend, c.entry, c.created_at);
      check(r.status(), "insert " + c.entry.key);
      inserted += *r ? 1 : 0;
    }
  } else {
    std::span<const s3reconcile::IndexChange> all(changes);
    for (std::size_t at = 0; at < all.size(); at += batch_size) {
      auto part = all.subspan(at, std::min(batch_size, all.size() - at));
      auto results = store->apply_changes(backend, part, now);
      check(results.status(), "batch at " + std::to_string(at));
      for (const auto& r : *results) inserted += r.status.ok() && r.inserted ? 1 : 0;
    }
  }
  const double seconds = clock.seconds();
  std::printf("mode=%s rows=%lld inserted=%llu seconds=%.3f rows_per_s=%.0f\n", mode.c_str(),
              static_cast<long long>(count), static_cast<unsigned long long>(inserted), seconds,
              seconds > 0 ? count / seconds : 0.0);
  return inserted == static_cast<std::uint64_t>(count) ? 0 : 1;
}

}  // namespace s3r_bench
