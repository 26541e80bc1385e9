#include "s3reconcile/index_store.h"

namespace s3reconcile {

ChangeResult apply_change(IndexStore& store, std::string_view backend, const IndexChange& change,
                          Clock::time_point created_before) {
  ChangeResult r;
  if (change.kind == IndexChange::Kind::kImport) {
    auto queued = store.queued_for_deletion(backend, change.entry.storage_key);
    if (!queued.ok() || *queued) {
      r.status = queued.status();
      r.pending_delete = queued.ok();
      return r;
    }
    auto inserted = store.insert_if_absent(backend, change.entry, change.created_at);
    if (inserted.ok()) r.inserted = *inserted;
    r.status = inserted.status();
  } else if (change.kind == IndexChange::Kind::kResize) {
    auto resized = store.resize_if_unchanged(backend, change.entry, created_before);
    if (resized.ok()) r.resize = *resized;
    r.status = resized.status();
  } else {
    auto removal = store.remove_if_created_before(backend, change.entry.key, created_before);
    if (removal.ok()) r.removal = *removal;
    r.status = removal.status();
  }
  return r;
}

StatusOr<std::vector<ChangeResult>> apply_changes_one_by_one(IndexStore& store, std::string_view backend,
                                                             std::span<const IndexChange> changes,
                                                             Clock::time_point created_before) {
  std::vector<ChangeResult> results;
  results.reserve(changes.size());
  for (const auto& change : changes) {
    ChangeResult r = apply_change(store, backend, change, created_before);
    if (ends_pass(r.status)) return r.status;
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace s3reconcile
