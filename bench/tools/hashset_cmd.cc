// The upstream design, for comparison: load every listed key and every index
// row into hash sets, diff the sets, then apply the same changes a pass makes
// (imports; removals confirmed absent with a HEAD first) in the same batches.
// Its memory grows with the number of keys; the product's merge does not.
#include <cstdio>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands.h"
#include "common.h"

namespace s3r_bench {
namespace {

using s3reconcile::IndexChange;

struct Applied {
  std::uint64_t imported = 0, removed = 0;
};

void flush(s3reconcile::IndexStore& store, const std::string& backend, std::vector<IndexChange>& batch,
           s3reconcile::Clock::time_point cutoff, bool dry_run, Applied& applied) {
  if (batch.empty()) return;
  if (dry_run) {
    for (const auto& c : batch) ++(c.kind == IndexChange::Kind::kImport ? applied.imported : applied.removed);
  } else {
    auto results = store.apply_changes(backend, batch, cutoff);
    check(results.status(), "applying a batch");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& r = (*results)[i];
      if (!r.status.ok()) continue;
      if (batch[i].kind == IndexChange::Kind::kImport) {
        applied.imported += r.inserted ? 1 : 0;
      } else {
        applied.removed += r.removal == s3reconcile::RemoveOutcome::kRemoved ? 1 : 0;
      }
    }
  }
  batch.clear();
}

}  // namespace

int hashset_command(const Args& args) {
  auto backend = open_s3(args);
  auto store = open_index(args);
  const std::string backend_name = args.required("backend");
  const std::string prefix = args.required("vbucket") + "/";
  const bool dry_run = args.num("dry-run", 0) != 0;
  const auto batch_size = static_cast<std::size_t>(args.num("batch-size", 500));
  const auto cutoff = s3reconcile::Clock::now();
  Stopwatch clock;

  // Side 1: every key of the bucket, in memory at once.
  std::unordered_map<std::string, s3reconcile::ListedObject> listed;
  check(backend->list(
            {prefix, "", /*read_ahead=*/true},
            [&](std::vector<s3reconcile::ListedObject>& page, bool) {
              for (auto& o : page) {
                std::string key = o.key;
                listed.emplace(std::move(key), std::move(o));
              }
              return true;
            },
            std::stop_token{}),
        "listing");

  // Side 2: every index row of the backend under the bucket, in memory at once.
  std::unordered_map<std::string, s3reconcile::IndexRow> rows;
  const auto range = prefix_range(prefix);
  s3reconcile::RowPosition after;
  for (;;) {
    auto page = list_rows_by_storage_key(*store, backend_name, after, 1000, range);
    check(page.status(), "paging the index");
    for (auto& r : *page) {
      after = s3reconcile::RowPosition{r.storage_key, r.object_key};
      std::string key = r.storage_key;
      rows.emplace(std::move(key), std::move(r));
    }
    if (page->size() < 1000) break;
  }
  const double loaded_seconds = clock.seconds();

  // The diff, and the same writes a pass makes.
  Applied applied;
  std::vector<IndexChange> batch;
  for (const auto& [key, o] : listed) {
    if (rows.count(key)) continue;
    IndexChange c;
    c.kind = IndexChange::Kind::kImport;
    c.entry = {key, key, o.size, o.last_modified};
    c.created_at = o.last_modified.value_or(s3reconcile::Clock::now());
    batch.push_back(std::move(c));
    if (batch.size() >= batch_size) flush(*store, backend_name, batch, cutoff, dry_run, applied);
  }
  for (const auto& [key, r] : rows) {
    if (listed.count(key)) continue;
    auto probe = backend->probe(r.storage_key, std::stop_token{});
    check(probe.status(), "probing " + r.storage_key);
    if (probe->has_value()) continue;  // the object is there after all
    IndexChange c;
    c.kind = IndexChange::Kind::kRemove;
    c.entry = {key, r.storage_key, r.size_bytes, std::nullopt};
    batch.push_back(std::move(c));
    if (batch.size() >= batch_size) flush(*store, backend_name, batch, cutoff, dry_run, applied);
  }
  flush(*store, backend_name, batch, cutoff, dry_run, applied);
  const double seconds = clock.seconds();
  std::printf("listed=%zu rows=%zu imported=%llu removed=%llu load_seconds=%.3f seconds=%.3f peak_rss_kib=%ld\n",
              listed.size(), rows.size(), static_cast<unsigned long long>(applied.imported),
              static_cast<unsigned long long>(applied.removed), loaded_seconds, seconds, peak_rss_kib());
  return 0;
}

}  // namespace s3r_bench
