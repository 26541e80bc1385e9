// serve's timed_store(): every call of IndexStore reaches the store it wraps
// (one left out would fall back to the interface's default in serve alone,
// where no other test would see it), and every call that goes to the
// database is told to the observer, by name, with whether it succeeded.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cli/timed_store.h"
#include "s3reconcile/index_store.h"

namespace s3reconcile::cli {
namespace {

// Answers every call with what the interface's default never answers, and
// notes the call: a call the wrapper failed to forward gives itself away
// both ways.
class NonDefaultStore final : public IndexStore {
 public:
  std::vector<std::string> calls;
  // Pointers never read: only compared with what the wrapper hands back.
  int ledger_marker = 0;
  int records_marker = 0;

  Status list_by_storage_key(std::string_view, const RowPosition&, std::size_t, const KeyRange&,
                             std::vector<IndexRow>& rows) override {
    calls.emplace_back("list_by_storage_key");
    rows.assign(1, IndexRow{"a/k", "a/k", 7});
    return ok_status();
  }
  void list_by_storage_key_next(std::string_view backend, const RowPosition& after, std::size_t limit,
                                const KeyRange& range) override {
    calls.push_back(fmt::format("list_by_storage_key_next {} {} {} {}", backend, after.storage_key, limit, range.end));
  }
  StatusOr<bool> insert_if_absent(std::string_view, const Entry&, Clock::time_point) override {
    calls.emplace_back("insert_if_absent");
    return false;
  }
  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view, std::string_view, Clock::time_point) override {
    calls.emplace_back("remove_if_created_before");
    return RemoveOutcome::kTooNew;
  }
  StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view, const Entry&, Clock::time_point) override {
    calls.emplace_back("resize_if_unchanged");
    return ResizeOutcome::kTooNew;
  }
  StatusOr<bool> queued_for_deletion(std::string_view, std::string_view) override {
    calls.emplace_back("queued_for_deletion");
    return true;
  }
  StatusOr<RemoveOutcome> removal_outcome(std::string_view, std::string_view, Clock::time_point) override {
    calls.emplace_back("removal_outcome");
    return RemoveOutcome::kAlreadyGone;
  }
  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view, std::span<const IndexChange> changes,
                                                    Clock::time_point) override {
    calls.emplace_back("apply_changes");
    std::vector<ChangeResult> results(changes.size());
    for (auto& r : results) r.removal = RemoveOutcome::kAlreadyGone;
    return results;
  }
  StatusOr<std::vector<std::string>> split_keys(std::string_view, const KeyRange&, std::size_t) override {
    calls.emplace_back("split_keys");
    return std::vector<std::string>{"m"};
  }
  void cancel() override { calls.emplace_back("cancel"); }
  Status check_connection() override {
    calls.emplace_back("check_connection");
    return unavailable_error("index down");
  }
  PassLedger* pass_ledger() override {
    calls.emplace_back("pass_ledger");
    return reinterpret_cast<PassLedger*>(&ledger_marker);
  }
  PassRecords* pass_records() override {
    calls.emplace_back("pass_records");
    return reinterpret_cast<PassRecords*>(&records_marker);
  }
  StatusOr<std::string> resume_point(std::string_view, std::string_view) override {
    calls.emplace_back("resume_point");
    return std::string("photos/m");
  }
  Status set_resume_point(std::string_view, std::string_view, std::string_view) override {
    calls.emplace_back("set_resume_point");
    return ok_status();
  }
  StatusOr<bool> try_lock_backend(std::string_view) override {
    calls.emplace_back("try_lock_backend");
    return false;
  }
  Status unlock_backend(std::string_view) override {
    calls.emplace_back("unlock_backend");
    return data_loss_error("lock lost");
  }
};

class StatementLog final : public IndexObserver {
 public:
  std::vector<std::pair<std::string, bool>> heard;
  void statement(std::string_view name, std::chrono::nanoseconds took, bool ok) override {
    EXPECT_GE(took.count(), 0) << name;
    heard.emplace_back(std::string(name), ok);
  }
};

TEST(TimedStore, EveryCallReachesTheStoreAndEveryStatementIsTold) {
  auto owned = std::make_unique<NonDefaultStore>();
  NonDefaultStore& inner = *owned;
  StatementLog log;
  const std::unique_ptr<IndexStore> store = timed_store(std::move(owned), log);
  const Clock::time_point now = Clock::now();
  Entry entry;
  entry.key = "photos/a";
  entry.storage_key = "photos/a";

  std::vector<IndexRow> rows;
  store->list_by_storage_key_next("b", RowPosition{"a/j", std::nullopt}, 10, KeyRange{"", "a/z"});
  ASSERT_TRUE(store->list_by_storage_key("b", RowPosition{}, 10, KeyRange{}, rows).ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].size_bytes, 7);
  EXPECT_EQ(*store->insert_if_absent("b", entry, now), false);
  EXPECT_EQ(*store->remove_if_created_before("b", "photos/a", now), RemoveOutcome::kTooNew);
  EXPECT_EQ(*store->resize_if_unchanged("b", entry, now), ResizeOutcome::kTooNew);
  EXPECT_EQ(*store->queued_for_deletion("b", "photos/a"), true);
  EXPECT_EQ(*store->removal_outcome("b", "photos/a", now), RemoveOutcome::kAlreadyGone);
  const std::vector<IndexChange> changes(2);
  auto applied = store->apply_changes("b", changes, now);
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(applied->size(), 2u);
  EXPECT_EQ((*applied)[1].removal, RemoveOutcome::kAlreadyGone);
  EXPECT_EQ(*store->split_keys("b", KeyRange{}, 2), std::vector<std::string>{"m"});
  store->cancel();
  EXPECT_EQ(store->check_connection().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->pass_ledger(), reinterpret_cast<PassLedger*>(&inner.ledger_marker));
  EXPECT_EQ(store->pass_records(), reinterpret_cast<PassRecords*>(&inner.records_marker));
  EXPECT_EQ(*store->resume_point("b", ""), "photos/m");
  EXPECT_TRUE(store->set_resume_point("b", "", "photos/n").ok());
  EXPECT_EQ(*store->try_lock_backend("b"), false);
  EXPECT_EQ(store->unlock_backend("b").code(), StatusCode::kDataLoss);

  EXPECT_EQ(inner.calls,
            (std::vector<std::string>{"list_by_storage_key_next b a/j 10 a/z", "list_by_storage_key",
                                      "insert_if_absent", "remove_if_created_before", "resize_if_unchanged",
                                      "queued_for_deletion", "removal_outcome", "apply_changes", "split_keys", "cancel",
                                      "check_connection", "pass_ledger", "pass_records", "resume_point",
                                      "set_resume_point", "try_lock_backend", "unlock_backend"}));
  // Statements only: the announcement, cancel, the connection check and the
  // two accessors go through untimed. A statement that failed is told as failed.
  const std::vector<std::pair<std::string, bool>> statements = {
      {"list_by_storage_key", true}, {"insert_if_absent", true},    {"remove_if_created_before", true},
      {"resize_if_unchanged", true}, {"queued_for_deletion", true}, {"removal_outcome", true},
      {"apply_changes", true},       {"split_keys", true},          {"resume_point", true},
      {"set_resume_point", true},    {"try_lock_backend", true},    {"unlock_backend", false}};
  EXPECT_EQ(log.heard, statements);
}

}  // namespace
}  // namespace s3reconcile::cli
