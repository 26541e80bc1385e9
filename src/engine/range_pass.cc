#include "engine/range_pass.h"

#include <fmt/format.h>

#include "engine/removal_confirmer.h"
#include "s3reconcile/db_cursor_stream.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/s3_key_stream.h"

namespace s3reconcile::internal {

StatusOr<bool> listing_has_keys(ObjectLister& lister, const std::string& prefix, std::stop_token stop) {
  bool any = false;
  Status listed = lister.list(
      ListRequest{prefix, ""},
      [&](std::vector<ListedObject>& page, bool /*last*/) {
        any = !page.empty();
        return false;
      },
      stop);
  if (!listed.ok()) return listed;
  return any;
}

Status decide_resize(Pass& pass, const Entry& drift, StatusOr<std::optional<ObjectInfo>> probe,
                     ChangeBatcher& batcher) {
  if (!probe.ok()) {
    const Status asked =
        probe.status().with_context(fmt::format("asking the backend about {}", quote_key(drift.storage_key)));
    pass.recorder.resize_skipped(drift, asked.to_string());
    return ends_pass(asked) ? asked : ok_status();
  }
  // Gone, or rewritten since the listing: the next pass judges what is there then.
  if (!probe->has_value()) {
    pass.recorder.resize_skipped(drift, "the object is gone");
    return ok_status();
  }
  if ((*probe)->size != drift.size) {
    pass.recorder.resize_skipped(drift, fmt::format("the object's size changed again, to {}", (*probe)->size));
    return ok_status();
  }
  return batcher.add(IndexChange{IndexChange::Kind::kResize, drift, {}});
}

CheckpointPolicy& no_checkpoints() {
  class Never final : public CheckpointPolicy {
   public:
    bool due(std::uint64_t) override { return false; }
    Status record(const std::string&) override { return ok_status(); }
  };
  static Never never;
  return never;
}

bool EveryKeysCheckpoint::due(std::uint64_t keys_merged) {
  if (every_ == 0 || keys_merged - merged_at_last_ < every_) return false;
  merged_at_last_ = keys_merged;
  return true;
}

Status run_range(Pass& pass, const KeyInterval& range, IndexStore& rows_store, ChangeBatcher& batcher,
                 CheckpointPolicy& checkpoints) {
  const PassOptions& options = pass.options;
  const BackendRef& backend = pass.backend;
  const std::stop_token stop = pass.stop.get_token();

  S3KeyStreamOptions listing_options;
  listing_options.classifier = pass.classifier;
  listing_options.prefix = pass.paths;
  listing_options.queue_size = options.queue_size;
  listing_options.start_after = range.after;
  listing_options.through = range.through;
  listing_options.api_pages = &pass.api_pages;
  listing_options.live_counts = options.live_counts;
  listing_options.max_pages = pass.max_pages;
  S3KeyStream listing(*backend.lister, std::move(listing_options), stop);

  DBCursorOptions cursor_options;
  cursor_options.backend = backend.name;
  cursor_options.classifier = pass.classifier;
  cursor_options.prefix = pass.paths;
  cursor_options.page_size = options.page_size;
  cursor_options.start_after = range.after;
  cursor_options.through = range.through;
  cursor_options.read_ahead = pass.index_read_ahead;
  cursor_options.live_counts = options.live_counts;
  DBCursorStream rows(rows_store, std::move(cursor_options));
  // A stop reaches a query in flight, not only the next one.
  std::stop_callback cancel_rows(stop, [&rows_store] { rows_store.cancel(); });
  std::uint64_t rows_counted = 0;  // of this range, already added to pass.rows_scanned
  auto rows_scanned = [&] {
    const std::uint64_t now = rows.rows_scanned();
    if (now > rows_counted) pass.rows_scanned.fetch_add(now - rows_counted);
    rows_counted = now;
    return pass.rows_scanned.load();
  };
  // The guard's "empty listing" means the backend listed no path at all
  // where the pass looks (paths left out of the pass still show it is there).
  auto listing_empty = [&] { return !pass.listing_has_keys && listing.ended() && listing.listed_paths() == 0; };

  // One backend round trip per candidate, run pass.probe_concurrency at a time:
  //  - a removal goes only once the backend, asked again now, says the path
  //    is gone (the listing may be older than a write that just landed) and
  //    the guard admits it;
  //  - an unprefixed orphan is adopted only when "default/<path>" is not on
  //    the backend: the prefixed object wins whatever the listing order.
  // The key a candidate's question is about: an adopted orphan's prefixed
  // name, otherwise the path.
  auto asked_key = [](const RemovalCandidate& candidate) -> const std::string& {
    return candidate.adopt ? candidate.entry.key : candidate.entry.storage_key;
  };
  auto ask = [&](std::span<const RemovalCandidate> candidates) {
    std::vector<std::string> keys;
    keys.reserve(candidates.size());
    for (const RemovalCandidate& candidate : candidates) keys.push_back(asked_key(candidate));
    return backend.prober->probe_many(keys, stop);
  };
  auto decide = [&](const RemovalCandidate& candidate, RemovalConfirmer::Answer probe) -> Status {
    const Entry& entry = candidate.entry;
    if (candidate.resize) return decide_resize(pass, entry, std::move(probe), batcher);
    const std::string& asked = asked_key(candidate);
    if (!probe.ok()) {
      probe = probe.status().with_context(fmt::format("asking the backend about {}", quote_key(asked)));
    }
    if (candidate.adopt) {
      if (!probe.ok() || probe->has_value()) {
        pass.recorder.collision(entry, probe.status());
        return ends_pass(probe.status()) ? probe.status() : ok_status();
      }
      return batcher.add(IndexChange{IndexChange::Kind::kImport, entry, entry.last_modified.value_or(Clock::now())});
    }
    if (!probe.ok() || probe->has_value()) {
      pass.recorder.removal(entry, probe.status(), RemoveOutcome::kObjectPresent);
      return ends_pass(probe.status()) ? probe.status() : ok_status();
    }
    S3R_RETURN_IF_ERROR(pass.guard.admit(candidate.listing_empty, candidate.rows_scanned));
    return batcher.add(IndexChange{IndexChange::Kind::kRemove, entry, {}});
  };
  RemovalConfirmer confirmer(pass.probe_concurrency, backend.prober->probes_many_at_once(), ask, decide, stop);

  // When the policy says so, wait until every change so far is written and
  // record the greatest path whose every row is handled. An imported path is
  // done at once (no row shares it); a removal's path is done only once the
  // merge has moved past it, since more rows may share it.
  std::string done_through, last_removal_path;
  auto maybe_checkpoint = [&]() -> Status {
    if (done_through.empty() || !checkpoints.due(listing.yielded() + rows.rows_scanned())) return ok_status();
    S3R_RETURN_IF_ERROR(confirmer.drain());
    S3R_RETURN_IF_ERROR(batcher.flush());
    return checkpoints.record(done_through);
  };
  auto on_import = [&](const Entry& entry) -> Status {
    if (!backend.import_orphans) {
      pass.recorder.orphan_reported(entry);
    } else if (entry.adopted) {
      S3R_RETURN_IF_ERROR(confirmer.submit(RemovalCandidate{entry, true, false, 0}));
    } else {
      S3R_RETURN_IF_ERROR(
          batcher.add(IndexChange{IndexChange::Kind::kImport, entry, entry.last_modified.value_or(Clock::now())}));
    }
    done_through = entry.storage_key;
    return maybe_checkpoint();
  };
  // A row whose path is listed with another size: reported, or (fix_sizes)
  // fixed once the backend confirms the listed size.
  auto on_match = [&](const Entry& listed, const Entry& row) -> Status {
    if (listed.size == row.size) return ok_status();
    Entry drift = row;
    drift.index_size = row.size;
    drift.size = listed.size;
    pass.recorder.size_mismatch(drift, options.fix_sizes);
    if (!options.fix_sizes) return ok_status();
    return confirmer.submit(RemovalCandidate{std::move(drift), false, false, 0, true});
  };
  auto on_delete = [&](const Entry& entry) -> Status {
    S3R_RETURN_IF_ERROR(confirmer.submit(RemovalCandidate{entry, false, listing_empty(), rows_scanned()}));
    if (!last_removal_path.empty() && last_removal_path != entry.storage_key) done_through = last_removal_path;
    last_removal_path = entry.storage_key;
    return maybe_checkpoint();
  };
  Status status = sorted(listing, rows, MergeCallbacks{on_import, on_delete, on_match}, stop, options.counters);
  Status confirmed = confirmer.finish();
  if (status.ok()) status = confirmed;
  if (status.ok() && pass.max_pages != 0) pass.listing_cut = listing.cut_after();
  listing.stop();
  rows.stop();
  rows_scanned();
  pass.recorder.walked(listing.yielded(), rows.rows_scanned(), listing.listed_by_bucket(), rows.rows_by_bucket());
  return status;
}

}  // namespace s3reconcile::internal
