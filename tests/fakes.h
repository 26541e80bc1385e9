// Test doubles for the engine's interfaces. Real listers and stores are
// tested on their own; these let engine tests control every page and error.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "s3reconcile/db_key_lister.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/key_source.h"
#include "s3reconcile/object_lister.h"
#include "s3reconcile/object_prober.h"

namespace s3reconcile::testing {

// Byte order for std::set / std::map.
struct KeyLess {
  bool operator()(const std::string& a, const std::string& b) const { return compare_keys(a, b) < 0; }
};
using KeySet = std::set<std::string, KeyLess>;

inline std::string quote_for_test(const std::string& key) { return quote_key(key); }

inline Entry entry(std::string key, std::int64_t size = 0) {
  std::string storage = key;
  return Entry{std::move(key), std::move(storage), size, std::nullopt, {}, false};
}

// An entry whose path differs from the key it is known by.
inline Entry entry_at(std::string key, std::string path, std::int64_t size = 0) {
  return Entry{std::move(key), std::move(path), size, std::nullopt, {}, false};
}

// A KeySource over a fixed list, optionally failing at one position, handing
// out `batch_size` entries a batch (1 by default: one read per entry).
class VectorSource final : public KeySource {
 public:
  explicit VectorSource(std::vector<Entry> entries, std::size_t batch_size = 1)
      : entries_(std::move(entries)), batch_size_(batch_size) {}
  static VectorSource of(const std::vector<std::string>& keys, std::size_t batch_size = 1) {
    std::vector<Entry> entries;
    for (const auto& k : keys) entries.push_back(entry(k));
    return VectorSource(std::move(entries), batch_size);
  }
  // The read that would hand out the entry at `position` returns `error`
  // instead (the entries before it in the same batch come in a batch of their own).
  void fail_at(std::size_t position, Status error) {
    fail_at_ = position;
    error_ = std::move(error);
  }
  StatusOr<std::span<const Entry>> next_batch() override {
    ++calls_;
    if (fail_at_ && pos_ >= *fail_at_) return error_;
    std::size_t end = std::min(entries_.size(), pos_ + batch_size_);
    if (fail_at_) end = std::min(end, *fail_at_);
    const std::span<const Entry> batch(entries_.data() + pos_, end - pos_);
    pos_ = end;
    return batch;
  }
  void release() override { ++stops_; }
  int calls() const { return calls_; }
  int stops() const { return stops_; }

 private:
  std::vector<Entry> entries_;
  const std::size_t batch_size_;
  std::size_t pos_ = 0;
  std::optional<std::size_t> fail_at_;
  Status error_;
  int calls_ = 0;
  int stops_ = 0;
};

// An ObjectLister over a sorted key set, with faults on demand.
class FakeLister final : public ObjectLister {
 public:
  explicit FakeLister(std::map<std::string, std::int64_t, KeyLess> objects, std::size_t page_size = 1000)
      : objects_(std::move(objects)), page_size_(page_size) {}

  // The walk fails with `error` instead of delivering page number `page`
  // (0-based, counted across walks).
  void fail_at_page(std::size_t page, Status error) {
    fail_page_ = page;
    fail_error_ = std::move(error);
  }
  // The walk blocks before page `page` until a stop is requested.
  void hang_at_page(std::size_t page) { hang_page_ = page; }

  Status list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) override {
    ++walks_;
    std::vector<ListedObject> page;
    bool any_page = false;
    auto it = request.start_after.empty() ? objects_.begin() : objects_.upper_bound(request.start_after);
    auto deliver = [&](bool last) -> std::optional<Status> {
      any_page = true;
      const std::size_t number = pages_.fetch_add(1);
      if (fail_page_ && number == *fail_page_) return fail_error_;
      if (hang_page_ && number == *hang_page_) {
        std::mutex mu;
        std::condition_variable_any cv;
        std::unique_lock lock(mu);
        cv.wait(lock, stop, [] { return false; });
        return cancelled_error("fake listing cancelled while hanging");
      }
      delivered_ += page.size();
      if (!on_page(page, last)) return ok_status();
      page.clear();
      return std::nullopt;
    };
    for (; it != objects_.end(); ++it) {
      if (!it->first.starts_with(request.prefix)) continue;
      if (stop.stop_requested()) return cancelled_error("fake listing cancelled");
      page.push_back(ListedObject{it->first, it->second, std::nullopt});
      if (page.size() == page_size_) {
        const bool last = std::none_of(std::next(it), objects_.end(),
                                       [&](const auto& object) { return object.first.starts_with(request.prefix); });
        if (auto done = deliver(last)) return *done;
        if (last) return ok_status();
      }
    }
    if (!page.empty() || !any_page) {  // an empty listing is one empty page
      if (auto done = deliver(/*last=*/true)) return *done;
    }
    return ok_status();
  }

  std::size_t pages() const { return pages_.load(); }
  std::size_t delivered() const { return delivered_.load(); }
  int walks() const { return walks_.load(); }

 private:
  std::map<std::string, std::int64_t, KeyLess> objects_;
  std::size_t page_size_;
  std::optional<std::size_t> fail_page_;
  Status fail_error_;
  std::optional<std::size_t> hang_page_;
  std::atomic<std::size_t> pages_{0};
  std::atomic<std::size_t> delivered_{0};
  std::atomic<int> walks_{0};
};

// An IndexStore in memory: rows per (backend, key), with query counting and
// an optional error on the n-th list call.
class FakeStore final : public IndexStore {
 public:
  struct Row {
    std::string storage_key;
    std::int64_t size = 0;
    Clock::time_point created_at;
  };

  void put(const std::string& backend, const std::string& key, std::int64_t size = 0, std::string storage_key = "",
           Clock::time_point created_at = Clock::time_point{}) {
    rows_[backend][key] = Row{storage_key.empty() ? key : storage_key, size, created_at};
  }
  bool has(const std::string& backend, const std::string& key) const {
    auto b = rows_.find(backend);
    return b != rows_.end() && b->second.count(key) != 0;
  }
  KeySet keys(const std::string& backend) const {
    KeySet out;
    auto b = rows_.find(backend);
    if (b != rows_.end())
      for (const auto& kv : b->second) out.insert(kv.first);
    return out;
  }
  const Row& row(const std::string& backend, const std::string& key) const { return rows_.at(backend).at(key); }

  // Paths the service has queued for deletion (queued_for_deletion says so).
  KeySet queued;

  StatusOr<bool> queued_for_deletion(std::string_view, std::string_view storage_key) override {
    return queued.count(std::string(storage_key)) != 0;
  }

  void fail_list_call(std::size_t call, Status error) {
    fail_call_ = call;
    fail_error_ = std::move(error);
  }
  // When set, list calls ignore the key range (to test the cursor's own filter).
  void ignore_range(bool ignore) { ignore_range_ = ignore; }

  Status list_by_storage_key(std::string_view backend, const RowPosition& after, std::size_t limit,
                             const KeyRange& range, std::vector<IndexRow>& out) override {
    const std::size_t call = list_calls_++;
    limits_.push_back(limit);
    if (fail_call_ && call == *fail_call_) return fail_error_;
    out.clear();
    auto b = rows_.find(std::string(backend));
    if (b == rows_.end()) return ok_status();
    std::vector<IndexRow> all;
    for (const auto& [key, row] : b->second) all.push_back(IndexRow{key, row.storage_key, row.size});
    std::sort(all.begin(), all.end(), [](const IndexRow& x, const IndexRow& y) {
      const int by_path = compare_keys(x.storage_key, y.storage_key);
      return by_path != 0 ? by_path < 0 : compare_keys(x.object_key, y.object_key) < 0;
    });
    for (auto& row : all) {
      if (out.size() == limit) break;
      const int by_path = compare_keys(row.storage_key, after.storage_key);
      const bool from_start = after.storage_key.empty() && !after.object_key;
      const bool past =
          by_path > 0 || (by_path == 0 && after.object_key && compare_keys(row.object_key, *after.object_key) > 0);
      if (!from_start && !past) continue;
      if (!ignore_range_) {
        if (compare_keys(row.storage_key, range.begin) < 0) continue;
        if (!range.end.empty() && compare_keys(row.storage_key, range.end) >= 0) continue;
      }
      out.push_back(std::move(row));
    }
    return ok_status();
  }

  StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& e, Clock::time_point created_at) override {
    auto& rows = rows_[std::string(backend)];
    if (rows.count(e.key)) return false;
    rows[e.key] = Row{e.storage_key, e.size, created_at};
    return true;
  }

  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend, std::string_view key,
                                                   Clock::time_point cutoff) override {
    auto& rows = rows_[std::string(backend)];
    auto it = rows.find(std::string(key));
    if (it == rows.end()) return RemoveOutcome::kAlreadyGone;
    if (it->second.created_at >= cutoff) return RemoveOutcome::kTooNew;
    rows.erase(it);
    return RemoveOutcome::kRemoved;
  }

  StatusOr<RemoveOutcome> removal_outcome(std::string_view backend, std::string_view key,
                                          Clock::time_point cutoff) override {
    auto& rows = rows_[std::string(backend)];
    auto it = rows.find(std::string(key));
    if (it == rows.end()) return RemoveOutcome::kAlreadyGone;
    return it->second.created_at >= cutoff ? RemoveOutcome::kTooNew : RemoveOutcome::kRemoved;
  }

  StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view backend, const Entry& e,
                                              Clock::time_point cutoff) override {
    auto& rows = rows_[std::string(backend)];
    auto it = rows.find(e.key);
    if (it == rows.end() || it->second.storage_key != e.storage_key || it->second.size != e.index_size.value_or(0)) {
      return ResizeOutcome::kChanged;
    }
    if (it->second.created_at >= cutoff) return ResizeOutcome::kTooNew;
    it->second.size = e.size;
    return ResizeOutcome::kResized;
  }

  StatusOr<std::string> resume_point(std::string_view backend, std::string_view paths) override {
    auto it = resume_points_.find(std::string(backend) + '\0' + std::string(paths));
    return it == resume_points_.end() ? std::string() : it->second;
  }
  Status set_resume_point(std::string_view backend, std::string_view paths, std::string_view after) override {
    resume_points_[std::string(backend) + '\0' + std::string(paths)] = std::string(after);
    return ok_status();
  }

  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend, std::span<const IndexChange> changes,
                                                    Clock::time_point created_before) override {
    ++batches_;
    return apply_changes_one_by_one(*this, backend, changes, created_before);
  }
  int batches() const { return batches_; }

  std::size_t list_calls() const { return list_calls_; }
  const std::vector<std::size_t>& limits() const { return limits_; }

 private:
  std::map<std::string, std::map<std::string, Row, KeyLess>> rows_;
  std::size_t list_calls_ = 0;
  std::vector<std::size_t> limits_;
  std::optional<std::size_t> fail_call_;
  Status fail_error_;
  bool ignore_range_ = false;
  int batches_ = 0;
  std::map<std::string, std::string> resume_points_;
};

// An IndexStore that forwards everything to another (after leveldb's
// EnvWrapper): a test overrides just the call it wants to break.
class ForwardingStore : public IndexStore {
 public:
  explicit ForwardingStore(IndexStore& inner) : inner_(inner) {}
  Status list_by_storage_key(std::string_view b, const RowPosition& a, std::size_t l, const KeyRange& r,
                             std::vector<IndexRow>& rows) override {
    return inner_.list_by_storage_key(b, a, l, r, rows);
  }
  void list_by_storage_key_next(std::string_view b, const RowPosition& a, std::size_t l, const KeyRange& r) override {
    inner_.list_by_storage_key_next(b, a, l, r);
  }
  StatusOr<bool> queued_for_deletion(std::string_view b, std::string_view p) override {
    return inner_.queued_for_deletion(b, p);
  }
  void cancel() override { inner_.cancel(); }
  Status check_connection() override { return inner_.check_connection(); }
  StatusOr<RemoveOutcome> removal_outcome(std::string_view b, std::string_view k, Clock::time_point t) override {
    return inner_.removal_outcome(b, k, t);
  }
  StatusOr<bool> insert_if_absent(std::string_view b, const Entry& e, Clock::time_point t) override {
    return inner_.insert_if_absent(b, e, t);
  }
  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view b, std::string_view k,
                                                   Clock::time_point t) override {
    return inner_.remove_if_created_before(b, k, t);
  }
  StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view b, const Entry& e, Clock::time_point t) override {
    return inner_.resize_if_unchanged(b, e, t);
  }
  StatusOr<std::string> resume_point(std::string_view b, std::string_view p) override {
    return inner_.resume_point(b, p);
  }
  Status set_resume_point(std::string_view b, std::string_view p, std::string_view a) override {
    return inner_.set_resume_point(b, p, a);
  }
  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view b, std::span<const IndexChange> c,
                                                    Clock::time_point t) override {
    return inner_.apply_changes(b, c, t);
  }

 protected:
  IndexStore& inner_;
};

// An ObjectProber answering from a set of present storage keys.
class FakeProber final : public ObjectProber {
 public:
  KeySet present;
  // The size answered for a present key (1 when not given).
  std::map<std::string, std::int64_t> sizes;
  std::optional<Status> error;
  std::atomic<int> calls{0};
  StatusOr<std::optional<ObjectInfo>> probe(std::string_view key, std::stop_token) override {
    ++calls;
    if (error) return *error;
    if (present.count(std::string(key))) {
      auto size = sizes.find(std::string(key));
      return std::optional<ObjectInfo>(ObjectInfo{size == sizes.end() ? 1 : size->second});
    }
    return std::optional<ObjectInfo>();
  }
};

}  // namespace s3reconcile::testing
