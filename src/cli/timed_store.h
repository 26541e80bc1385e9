// Timing each call a pass makes of the index, for serve's metrics, without
// the stores knowing of metrics: a decorator of IndexStore.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "s3reconcile/index_store.h"

namespace s3reconcile::cli {

// Hears of each index statement: which call of the store it was
// ("list_by_storage_key", "apply_changes", ...), how long it took and
// whether it succeeded. Called from the pass's threads, several at once.
class IndexObserver {
 public:
  virtual ~IndexObserver() = default;
  virtual void statement(std::string_view name, std::chrono::nanoseconds took, bool ok) = 0;
};

// `store`, with every call that goes to the database timed and told to
// `observer` (which must outlive it). Everything else passes through.
std::unique_ptr<IndexStore> timed_store(std::unique_ptr<IndexStore> store, IndexObserver& observer);

}  // namespace s3reconcile::cli
