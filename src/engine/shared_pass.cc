#include "s3reconcile/shared_pass.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "engine/range_pass.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/pass_ledger.h"

namespace s3reconcile {

namespace {

// A ledger on a connection of its own, shared by a worker's heartbeat
// thread and its merge (progress records), one call at a time.
class GuardedLedger {
 public:
  explicit GuardedLedger(std::unique_ptr<IndexStore> store) : store_(std::move(store)) {}
  PassLedger* get() { return store_ ? store_->pass_ledger() : nullptr; }
  template <typename F>
  auto call(F&& f) {
    MutexLock lock(mu_);
    return f(*get());
  }

 private:
  std::unique_ptr<IndexStore> store_;
  Mutex mu_;  // one call on the connection at a time
};

// Heartbeats a claimed range every lease / 3 until stopped; stops the range
// (through `lost`) when the ledger says it is no longer ours.
class Heartbeat {
 public:
  Heartbeat(GuardedLedger& ledger, const RangeClaim& claim, const std::string& owner, std::chrono::milliseconds every,
            std::stop_source lost)
      : thread_([&ledger, &claim, owner, every, lost, this](std::stop_token stop) mutable {
          std::mutex mu;
          std::condition_variable_any cv;
          std::unique_lock lock(mu);
          while (true) {
            // Returns early (false) on a stop, too: check it.
            cv.wait_for(lock, stop, every, [] { return false; });
            if (stop.stop_requested()) return;
            auto ours = ledger.call([&](PassLedger& l) { return l.heartbeat(claim.pass_id, claim.range_no, owner); });
            if (ours.ok() && !*ours) {
              taken_over_ = true;
              lost.request_stop();
              return;
            }
          }
        }) {}

  bool taken_over() const { return taken_over_.load(); }

 private:
  std::atomic<bool> taken_over_{false};
  std::jthread thread_;  // last: stopped and joined first
};

struct Shared {
  const BackendRef& backend;
  const PassScope scope;
  const std::vector<std::string>& known_buckets;
  const PassOptions& options;
  const SharedPassOptions& shared;
  EventLog log;  // with the pass's context, once the ledger named it
  std::int64_t pass_id = 0;
  bool listing_has_keys = true;
  std::stop_source stop;  // the caller's stop
  Mutex mu;
  Result& total;                          // guarded by mu (a reference: not checked)
  Status first_error S3R_GUARDED_BY(mu);  // this instance's own failures
};

// Works one claimed range to its end, or until it is taken over or stopped.
Status work_range(Shared& s, const RangeClaim& claim, IndexStore& reader, IndexStore& writer, GuardedLedger& ledger) {
  Result range_result;
  range_result.backend = s.backend.name;
  range_result.bucket = s.scope.bucket;
  internal::Pass pass(s.backend, s.scope, s.known_buckets, s.options, range_result, s.log, claim.pass_started_at);
  // A shared range has connections of its own to read and to write.
  pass.index_read_ahead = s.options.index_read_ahead ? IndexReadAhead::kThread : IndexReadAhead::kAnnounce;
  pass.probe_concurrency = s.options.probe_concurrency;
  pass.listing_has_keys = s.listing_has_keys;
  std::stop_callback on_caller_stop(s.stop.get_token(), [&pass] { pass.stop.request_stop(); });
  KeyInterval todo = claim.range;
  if (!claim.resume_after.empty()) todo.after = claim.resume_after;
  s.log.info("range claimed", {{"range", claim.range_no},
                               {"attempt", claim.attempt},
                               {"after", key_text(claim.range.after)},
                               {"through", key_text(claim.range.through)},
                               {"resume_after", key_text(claim.resume_after)}});

  std::stop_callback cancel_writes(pass.stop.get_token(), [&writer] { writer.cancel(); });
  internal::ChangeBatcher batcher(writer, s.backend.name, s.options.batch_size, claim.pass_started_at,
                                  s.options.dry_run, pass.recorder, true);
  bool taken_over = false;
  internal::EveryKeysCheckpoint checkpoint(
      s.shared.checkpoint_every, [&](const std::string& applied_through) -> Status {
        RangeCounts counts = claim.counts;
        counts += range_result.totals();
        auto ours = ledger.call([&](PassLedger& l) {
          return l.record_progress(claim.pass_id, claim.range_no, s.shared.owner, applied_through, counts);
        });
        if (!ours.ok()) return ours.status();
        if (!*ours) {
          taken_over = true;
          return aborted_error(
              fmt::format("range {} of pass {} was taken over by another instance", claim.range_no, claim.pass_id));
        }
        return ok_status();
      });
  Status status;
  {
    Heartbeat heartbeat(ledger, claim, s.shared.owner, std::max(s.shared.lease / 3, std::chrono::milliseconds(10)),
                        pass.stop);
    status = internal::run_range(pass, todo, reader, batcher, checkpoint);
    if (!status.ok() && !pass.guard.tripped()) batcher.drop_removals();
    Status flushed = batcher.flush();
    if (status.ok()) status = flushed;
    taken_over = taken_over || heartbeat.taken_over();
  }
  range_result.api_pages = pass.api_pages.load();
  RangeCounts counts = claim.counts;
  counts += range_result.totals();
  if (!taken_over) {
    auto ours = ledger.call(
        [&](PassLedger& l) { return l.finish_range(claim.pass_id, claim.range_no, s.shared.owner, counts, status); });
    if (!ours.ok() && status.ok()) status = ours.status();
    if (ours.ok() && !*ours) taken_over = true;
  }
  if (taken_over) {
    s.log.warn("range taken over", {{"range", claim.range_no}, {"attempt", claim.attempt}});
    status = ok_status();  // its new owner finishes it
  } else {
    s.log.write(status.ok() ? LogLevel::kInfo : LogLevel::kWarn, status.ok() ? "range done" : "range failed",
                {{"range", claim.range_no},
                 {"attempt", claim.attempt},
                 {"listed", range_result.listed},
                 {"rows", range_result.rows},
                 {"imported", range_result.imported},
                 {"removed", range_result.removed},
                 {"error", status.ok() ? "" : status.to_string()}});
  }
  MutexLock lock(s.mu);
  s.total.add(range_result);
  ++s.total.ranges;
  return status;
}

// Claims and works ranges until none is left to claim and none is running.
void worker(Shared& s) {
  auto fail = [&](Status st) {
    MutexLock lock(s.mu);
    if (s.first_error.ok()) s.first_error = std::move(st);
  };
  auto open = [&](std::string_view what) -> std::unique_ptr<IndexStore> {
    auto opened = s.options.open_store();
    if (!opened.ok()) {
      fail(opened.status().with_context(fmt::format("opening an index connection for the {}", what)));
      return nullptr;
    }
    return std::move(*opened);
  };
  GuardedLedger ledger(open("ledger"));
  auto reader = open("cursor");
  auto writer = open("writer");
  if (ledger.get() == nullptr || !reader || !writer) return;
  const std::stop_token stop = s.stop.get_token();
  while (!stop.stop_requested()) {
    auto claim = ledger.call([&](PassLedger& l) { return l.claim_range(s.pass_id, s.shared.owner, s.shared.lease); });
    if (!claim.ok()) return fail(claim.status());
    if (*claim) {
      Status worked = work_range(s, **claim, *reader, *writer, ledger);
      if (!worked.ok()) {
        fail(worked);
        if (ends_pass(worked) && worked.code() != StatusCode::kAborted) return;
      }
      continue;
    }
    auto state = ledger.call([&](PassLedger& l) { return l.settle_pass(s.pass_id); });
    if (!state.ok()) return fail(state.status());
    if (*state != "running") return;
    // Others hold the remaining ranges: look again, to take over a range
    // whose owner dies.
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait_for(lock, stop, s.shared.poll, [] { return false; });
  }
  fail(cancelled_error("shared pass stopped"));
}

}  // namespace

Result join_shared_pass(const BackendRef& backend, const std::vector<std::string>& known_buckets, IndexStore& store,
                        const PassOptions& options, const SharedPassOptions& shared, const PassScope& scope) {
  const auto began = std::chrono::steady_clock::now();
  Result result;
  result.pass_id = options.pass_id;
  result.backend = backend.name;
  result.bucket = scope.bucket;
  result.prefix = scope.paths();
  result.ranges = 0;
  PassLedger* ledger = store.pass_ledger();
  if (ledger == nullptr) {
    result.status = failed_precondition_error("a shared pass needs an index that keeps a pass ledger (PostgreSQL)");
    return result;
  }
  if (!options.open_store || backend.lister == nullptr || backend.prober == nullptr) {
    result.status = internal_error("a shared pass needs open_store, a lister and a prober");
    return result;
  }
  // A range cut at a budget would be marked done with its tail unjudged.
  if (options.max_list_requests != 0 || !options.resume_after.empty()) {
    result.status = invalid_argument_error(
        "reconcile.max_list_requests does not apply to shared passes: a budget is spent in key order by one walk");
    return result;
  }
  Shared s{backend, scope, known_buckets, options, shared, pass_log(options.logger, "", backend.name, scope), 0, true,
           {},      {},    result,        {}};
  std::optional<std::stop_callback<std::function<void()>>> caller_stop;
  if (options.stop.stop_possible()) {
    caller_stop.emplace(options.stop, std::function<void()>([&s] { s.stop.request_stop(); }));
  }
  const std::string paths = scope.paths();
  auto has_keys = internal::listing_has_keys(*backend.lister, paths, s.stop.get_token());
  if (!has_keys.ok()) {
    result.status = has_keys.status().with_context("checking that the backend lists keys");
    return result;
  }
  s.listing_has_keys = *has_keys;
  // The ledger's pass is per backend and the paths it covers ("" = all).
  auto pass_id = ledger->open_pass(backend.name, paths, Clock::now(), [&]() -> StatusOr<std::vector<KeyInterval>> {
    auto plan = plan_ranges(store, *backend.lister, backend.name, paths, shared.ranges, s.stop.get_token());
    if (!plan.ok()) return plan.status();
    return plan->ranges;
  });
  if (!pass_id.ok()) {
    result.status = pass_id.status();
    return result;
  }
  s.pass_id = *pass_id;
  // The ledger's id names the pass in every instance's logs and records.
  result.pass_id = std::to_string(s.pass_id);
  if (shared.on_joined) shared.on_joined(result.pass_id);
  s.log = pass_log(options.logger, result.pass_id, backend.name, scope);
  s.log.info("shared pass joined", {{"owner", shared.owner}, {"dry_run", options.dry_run}});
  {
    std::vector<std::jthread> workers;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options.parallelism); ++i) {
      workers.emplace_back([&s] { worker(s); });
    }
  }
  {
    MutexLock lock(s.mu);  // the workers are gone; the lock states the rule
    result.status = s.first_error;
  }
  if (result.status.ok()) {
    auto state = ledger->settle_pass(s.pass_id);
    if (!state.ok()) {
      result.status = state.status();
    } else if (*state == "failed") {
      result.status = aborted_error(fmt::format(
          "shared pass {} of backend \"{}\" paths {} failed: a range failed (s3reconcile status shows which)",
          s.pass_id, backend.name, quote_key(paths)));
    }
  }
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  s.log.info("shared pass left", {{"ranges_worked", result.ranges},
                                  {"listed", result.listed},
                                  {"imported", result.imported},
                                  {"removed", result.removed},
                                  {"error", result.status.ok() ? "" : result.status.to_string()}});
  return result;
}

}  // namespace s3reconcile
