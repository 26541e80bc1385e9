#include "cli/timed_store.h"

#include <type_traits>
#include <utility>

namespace s3reconcile::cli {
namespace {

bool succeeded(const Status& s) { return s.ok(); }
template <typename T>
bool succeeded(const StatusOr<T>& s) {
  return s.ok();
}

// Every virtual of IndexStore (and DBKeyLister) is forwarded here: one left
// out would silently fall back to the interface's default in serve alone.
class TimedIndexStore final : public IndexStore {
 public:
  TimedIndexStore(std::unique_ptr<IndexStore> store, IndexObserver& observer)
      : store_(std::move(store)), observer_(observer) {}

  Status list_by_storage_key(std::string_view backend, const RowPosition& after, std::size_t limit,
                             const KeyRange& range, std::vector<IndexRow>& rows) override {
    return timed("list_by_storage_key",
                 [&] { return store_->list_by_storage_key(backend, after, limit, range, rows); });
  }
  // Not timed: it only sends, and its answer is timed in the call it serves.
  void list_by_storage_key_next(std::string_view backend, const RowPosition& after, std::size_t limit,
                                const KeyRange& range) override {
    store_->list_by_storage_key_next(backend, after, limit, range);
  }
  StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& entry, Clock::time_point created_at) override {
    return timed("insert_if_absent", [&] { return store_->insert_if_absent(backend, entry, created_at); });
  }
  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend, std::string_view object_key,
                                                   Clock::time_point created_before) override {
    return timed("remove_if_created_before",
                 [&] { return store_->remove_if_created_before(backend, object_key, created_before); });
  }
  StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view backend, const Entry& entry,
                                              Clock::time_point created_before) override {
    return timed("resize_if_unchanged", [&] { return store_->resize_if_unchanged(backend, entry, created_before); });
  }
  StatusOr<bool> queued_for_deletion(std::string_view backend, std::string_view storage_key) override {
    return timed("queued_for_deletion", [&] { return store_->queued_for_deletion(backend, storage_key); });
  }
  StatusOr<RemoveOutcome> removal_outcome(std::string_view backend, std::string_view object_key,
                                          Clock::time_point created_before) override {
    return timed("removal_outcome", [&] { return store_->removal_outcome(backend, object_key, created_before); });
  }
  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend, std::span<const IndexChange> changes,
                                                    Clock::time_point created_before) override {
    return timed("apply_changes", [&] { return store_->apply_changes(backend, changes, created_before); });
  }
  StatusOr<std::vector<std::string>> split_keys(std::string_view backend, const KeyRange& range,
                                                std::size_t parts) override {
    return timed("split_keys", [&] { return store_->split_keys(backend, range, parts); });
  }
  void cancel() override { store_->cancel(); }
  Status check_connection() override { return store_->check_connection(); }
  PassLedger* pass_ledger() override { return store_->pass_ledger(); }
  PassRecords* pass_records() override { return store_->pass_records(); }
  StatusOr<std::string> resume_point(std::string_view backend, std::string_view paths) override {
    return timed("resume_point", [&] { return store_->resume_point(backend, paths); });
  }
  Status set_resume_point(std::string_view backend, std::string_view paths, std::string_view after) override {
    return timed("set_resume_point", [&] { return store_->set_resume_point(backend, paths, after); });
  }
  StatusOr<bool> try_lock_backend(std::string_view backend) override {
    return timed("try_lock_backend", [&] { return store_->try_lock_backend(backend); });
  }
  Status unlock_backend(std::string_view backend) override {
    return timed("unlock_backend", [&] { return store_->unlock_backend(backend); });
  }

 private:
  template <typename F>
  std::invoke_result_t<F&> timed(std::string_view name, F&& call) {
    const auto start = std::chrono::steady_clock::now();
    auto result = call();
    observer_.statement(name, std::chrono::steady_clock::now() - start, succeeded(result));
    return result;
  }

  std::unique_ptr<IndexStore> store_;
  IndexObserver& observer_;
};

}  // namespace

std::unique_ptr<IndexStore> timed_store(std::unique_ptr<IndexStore> store, IndexObserver& observer) {
  return std::make_unique<TimedIndexStore>(std::move(store), observer);
}

}  // namespace s3reconcile::cli
