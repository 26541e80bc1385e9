#include "s3reconcile/reconcile.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "engine/range_pass.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/pass_records.h"
#include "s3reconcile/range_plan.h"

namespace s3reconcile {
namespace {

using internal::Pass;

Status check_wiring(const BackendRef& backend, const PassScope& scope) {
  if (backend.lister == nullptr || backend.prober == nullptr) {
    return internal_error(fmt::format("backend \"{}\" has no lister or prober", backend.name));
  }
  if (!scope.bucket.empty() &&
      std::find(backend.buckets.begin(), backend.buckets.end(), scope.bucket) == backend.buckets.end()) {
    return invalid_argument_error(
        fmt::format("bucket \"{}\" is not stored on backend \"{}\"", scope.bucket, backend.name));
  }
  return ok_status();
}

// The first failure of the ranges that is not just another range's stop.
Status first_cause(const std::vector<Status>& statuses) {
  for (const auto& s : statuses) {
    if (!s.ok() && s.code() != StatusCode::kCancelled) return s;
  }
  for (const auto& s : statuses) {
    if (!s.ok()) return s;
  }
  return ok_status();
}

// Runs the planned ranges, each on a thread and a connection of its own,
// all writing through one batcher. A failing range stops the others.
Status run_ranges(Pass& pass, const std::vector<KeyInterval>& ranges, internal::ChangeBatcher& batcher) {
  std::vector<Status> statuses(ranges.size());
  std::mutex cause_mu;
  Status cause;  // guarded by cause_mu
  std::vector<std::thread> threads;
  threads.reserve(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    threads.emplace_back([&, i] {
      auto store = pass.options.open_store();
      if (!store.ok()) {
        statuses[i] = store.status().with_context("opening an index connection for a key range");
      } else {
        statuses[i] = internal::run_range(pass, ranges[i], **store, batcher);
      }
      if (!statuses[i].ok()) {
        // The first range to fail before any stop is the cause: the others
        // then fail because the stop cancelled their statements.
        std::lock_guard lock(cause_mu);
        if (cause.ok() && !pass.stop.stop_requested()) cause = statuses[i];
        pass.stop.request_stop();
      }
    });
  }
  for (auto& t : threads) t.join();
  return cause.ok() ? first_cause(statuses) : cause;
}

Status run_pass(Pass& pass, IndexStore& store) {
  const PassOptions& options = pass.options;
  std::unique_ptr<IndexStore> writer_store;
  // batch_size 1 writes each change on its own as it is found, in one range.
  const bool pipelined = static_cast<bool>(options.open_store) && options.batch_size > 1;
  pass.index_read_ahead = !pipelined                 ? IndexReadAhead::kNone
                          : options.index_read_ahead ? IndexReadAhead::kThread
                                                     : IndexReadAhead::kAnnounce;
  pass.probe_concurrency = pipelined ? options.probe_concurrency : 1;
  if (pipelined) {
    auto opened = options.open_store();
    if (!opened.ok()) return opened.status().with_context("opening the index connection for the writer");
    writer_store = std::move(*opened);
  }

  RangePlan plan;
  plan.ranges = intervals_between({});
  // A budget is spent in key order: a budgeted pass walks one range, from
  // where the last one stopped.
  const bool budgeted = options.max_list_requests != 0;
  pass.max_pages = options.max_list_requests;
  plan.ranges.front().after = options.resume_after;
  if (!options.resume_after.empty()) {
    // The guard's "empty listing" judges the whole paths, not the slice
    // after the resume point, which may rightly list nothing.
    auto has_keys = internal::listing_has_keys(*pass.backend.lister, pass.paths, pass.stop.get_token());
    if (!has_keys.ok()) return has_keys.status().with_context("checking that the backend lists keys");
    ++pass.api_pages;
    // That request is part of the budget; the walk still gets one page.
    if (pass.max_pages > 1) --pass.max_pages;
    pass.listing_has_keys = *has_keys;
  }
  if (pipelined && options.parallelism > 1 && !budgeted && options.resume_after.empty()) {
    auto has_keys = internal::listing_has_keys(*pass.backend.lister, pass.paths, pass.stop.get_token());
    if (!has_keys.ok()) return has_keys.status().with_context("checking that the backend lists keys");
    // An empty listing runs as one range, so that the empty-listing guard
    // judges the whole listing, as it would without ranges.
    if (*has_keys) {
      pass.listing_has_keys = true;
      auto planned = plan_ranges(store, *pass.backend.lister, pass.backend.name, pass.paths, options.parallelism,
                                 pass.stop.get_token());
      if (!planned.ok()) return planned.status();
      plan = std::move(*planned);
    }
  }
  pass.result.ranges = plan.ranges.size();
  if (plan.ranges.size() > 1) {
    pass.log.info("pass split", {{"ranges", plan.ranges.size()}, {"by", range_source_name(plan.source)}});
  }

  IndexStore& writes = pipelined ? *writer_store : store;
  // A stop cancels the writer's statement in flight too (a slow
  // pending-delete query, a lock wait).
  std::stop_callback cancel_writes(pass.stop.get_token(), [&writes] { writes.cancel(); });
  internal::ChangeBatcher batcher(writes, pass.backend.name, options.batch_size, pass.started_at, options.dry_run,
                                  pass.recorder, pipelined);
  Status status = plan.ranges.size() == 1 ? internal::run_range(pass, plan.ranges.front(), store, batcher)
                                          : run_ranges(pass, plan.ranges, batcher);
  // Removals admitted before a guard tripped were sound; after a failure of
  // the listing or the index they are not written.
  if (!status.ok() && !pass.guard.tripped()) batcher.drop_removals();
  Status flushed = batcher.flush();
  return status.ok() ? flushed : status;
}

}  // namespace

EventLog pass_log(const EventLog& base, const std::string& pass_id, const std::string& backend,
                  const PassScope& scope) {
  return base.with(
      {{"pass_id", pass_id}, {"backend", backend}, {"bucket", scope.bucket}, {"paths", key_text(scope.paths())}});
}

Result reconcile_backend(const BackendRef& backend, const std::vector<std::string>& known_buckets, IndexStore& store,
                         const PassOptions& options, const PassScope& scope) {
  const auto began = std::chrono::steady_clock::now();
  Result result;
  result.pass_id = options.pass_id;
  result.backend = backend.name;
  result.bucket = scope.bucket;
  result.prefix = scope.paths();
  result.status = check_wiring(backend, scope);
  if (!result.status.ok()) return result;

  const Clock::time_point started_at = options.started_at == Clock::time_point{} ? Clock::now() : options.started_at;
  result.pass_id = options.pass_id.empty() ? new_pass_id() : options.pass_id;
  const EventLog log = pass_log(options.logger, result.pass_id, backend.name, scope);
  log.info("pass started", {{"dry_run", options.dry_run}});

  {
    Pass pass(backend, scope, known_buckets, options, result, log, started_at);
    result.status = run_pass(pass, store);
    result.api_pages = pass.api_pages.load();
    result.started_after = options.resume_after;
    if (result.status.ok() && pass.listing_cut) {
      result.stopped_at_budget = true;
      result.resume_after = *pass.listing_cut;
    }
  }

  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  if (result.status.ok()) {
    for (const auto& [bucket, c] : result.buckets) {
      log.info("bucket done", {{"bucket", bucket.empty() ? "-" : bucket},
                               {"listed", c.listed},
                               {"rows", c.rows},
                               {"imported", c.imported},
                               {"removed", c.removed},
                               {"already_present", c.already_present},
                               {"collisions", c.collisions},
                               {"pending_delete", c.pending_delete},
                               {"orphans_reported", c.orphans_reported}});
    }
    log.info("pass done", {{"listed", result.listed},
                           {"rows", result.rows},
                           {"imported", result.imported},
                           {"removed", result.removed},
                           {"already_present", result.already_present},
                           {"import_failed", result.import_failed},
                           {"delete_failed", result.delete_failed},
                           {"raced", result.raced},
                           {"collisions", result.collisions},
                           {"pending_delete", result.pending_delete},
                           {"orphans_reported", result.orphans_reported},
                           {"size_mismatch", result.size_mismatch},
                           {"resized", result.resized},
                           {"api_pages", result.api_pages},
                           {"ranges", result.ranges},
                           {"duration_ms", result.duration.count()},
                           {"dry_run", options.dry_run}});
    if (result.stopped_at_budget) {
      log.info("pass stopped at its request budget",
               {{"max_list_requests", options.max_list_requests}, {"resume_after", key_text(result.resume_after)}});
    }
  } else {
    log.error("pass failed", {{"error", result.status.to_string()}});
  }
  return result;
}

}  // namespace s3reconcile
