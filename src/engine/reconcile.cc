#include "s3reconcile/reconcile.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/change_batcher.h"
#include "engine/outcomes.h"
#include "engine/removal_confirmer.h"
#include "engine/removal_guard.h"
#include "s3reconcile/buckets.h"
#include "s3reconcile/db_cursor_stream.h"
#include "s3reconcile/handlers.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/range_plan.h"
#include "s3reconcile/s3_key_stream.h"

namespace s3reconcile {
namespace {

Status check_wiring(const BackendRef& backend, std::string_view bucket) {
  if (backend.lister == nullptr || backend.prober == nullptr) {
    return internal_error(fmt::format("backend \"{}\" has no lister or prober", backend.name));
  }
  if (std::find(backend.buckets.begin(), backend.buckets.end(), bucket) == backend.buckets.end()) {
    return invalid_argument_error(
        fmt::format("bucket \"{}\" is not stored on backend \"{}\"", bucket, backend.name));
  }
  return ok_status();
}

// Where a pass logs when the caller gave no logger: stderr, never stdout,
// which belongs to the program's results.
std::shared_ptr<spdlog::logger> stderr_logger() {
  static const auto logger =
      std::make_shared<spdlog::logger>("s3reconcile", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return logger;
}

// What every range of one pass shares.
struct Pass {
  Pass(const BackendRef& backend, std::string_view bucket, const std::vector<std::string>& known_buckets,
       const PassOptions& options, Result& result, std::shared_ptr<spdlog::logger> log,
       Clock::time_point started_at)
      : backend(backend),
        bucket(bucket),
        known_buckets(known_buckets),
        options(options),
        result(result),
        log(std::move(log)),
        started_at(started_at),
        guard(options.limits, backend.name, std::string(bucket)),
        recorder(result, this->log, backend.name, options.dry_run, options.on_change) {
    if (options.stop.stop_possible()) {
      caller_stop.emplace(options.stop, std::function<void()>([this] { stop.request_stop(); }));
    }
  }

  const BackendRef& backend;
  const std::string bucket;
  const std::vector<std::string>& known_buckets;
  const PassOptions& options;
  Result& result;
  const std::shared_ptr<spdlog::logger> log;
  const Clock::time_point started_at;
  internal::RemovalGuard guard;
  internal::OutcomeRecorder recorder;
  std::atomic<std::uint64_t> api_pages{0};
  std::atomic<std::uint64_t> rows_scanned{0};  // by every range, for the ratio guard
  // Set when the bucket's listing is known to hold keys (a parallel pass
  // checks before splitting), so no range's empty slice looks like an empty bucket.
  bool listing_has_keys = false;
  // Ends every range: the caller's stop, or one range failing.
  std::stop_source stop;
  std::optional<std::stop_callback<std::function<void()>>> caller_stop;
  std::mutex mu;  // guards the Result's listing and index counts
};

// Whether the bucket's own prefix lists at least one key: one page.
StatusOr<bool> listing_has_keys(ObjectLister& lister, const std::string& prefix, std::stop_token stop) {
  bool any = false;
  Status listed = lister.list(
      ListRequest{prefix, ""},
      [&](std::vector<ListedObject>& page) {
        any = !page.empty();
        return false;
      },
      stop);
  if (!listed.ok()) return listed;
  return any;
}

// One sorted merge over `range`. `rows_store` serves the index cursor (and,
// with no batcher thread, the per-row writes); `batcher` writes batches.
// With a `confirmer`, removal candidates are confirmed concurrently.
Status run_range(Pass& pass, const KeyInterval& range, IndexStore& rows_store,
                 internal::ChangeBatcher* batcher, bool pipelined) {
  const PassOptions& options = pass.options;
  const BackendRef& backend = pass.backend;
  const bool is_default_bucket = backend.buckets.front() == pass.bucket;
  const std::stop_token stop = pass.stop.get_token();

  S3KeyStreamOptions listing_options;
  listing_options.bucket = pass.bucket;
  listing_options.known_buckets = pass.known_buckets;
  listing_options.adopt_unprefixed = backend.adopt_unprefixed && is_default_bucket;
  listing_options.queue_size = options.queue_size;
  listing_options.start_after = range.after;
  listing_options.through = range.through;
  listing_options.api_pages = &pass.api_pages;
  listing_options.logger = pass.log;
  S3KeyStream listing(*backend.lister, std::move(listing_options), stop);

  DBCursorOptions cursor_options;
  cursor_options.backend = backend.name;
  cursor_options.bucket = pass.bucket;
  cursor_options.known_buckets = pass.known_buckets;
  cursor_options.page_size = options.page_size;
  cursor_options.start_after = range.after;
  cursor_options.through = range.through;
  cursor_options.prefetch = pipelined;
  DBCursorStream rows(rows_store, std::move(cursor_options));
  std::uint64_t rows_counted = 0;  // of this range, already added to pass.rows_scanned
  auto rows_scanned = [&] {
    const std::uint64_t now = rows.rows_scanned();
    if (now > rows_counted) pass.rows_scanned.fetch_add(now - rows_counted);
    rows_counted = now;
    return pass.rows_scanned.load();
  };

  // A row goes only once the backend, asked again now, says its bytes are
  // gone (the listing may be older than a write that just landed) and the
  // guard admits it.
  auto confirm_absent = [&](const Entry& entry) -> StatusOr<bool> {
    auto probe = backend.prober->probe(entry.storage_key, stop);
    if (!probe.ok()) {
      return probe.status().with_context(
          fmt::format("confirming that storage key {} is absent", quote_key(entry.storage_key)));
    }
    return !probe->has_value();
  };
  auto listing_empty = [&] { return !pass.listing_has_keys && listing.ended() && listing.yielded() == 0; };
  // Decides one candidate: kept (raced or failed), or admitted and queued.
  auto decide = [&](const internal::RemovalCandidate& candidate) -> Status {
    auto absent = confirm_absent(candidate.entry);
    if (!absent.ok() || !*absent) {
      pass.recorder.removal(candidate.entry, absent.status(), RemoveOutcome::kObjectPresent);
      return ends_pass(absent.status()) ? absent.status() : ok_status();
    }
    S3R_RETURN_IF_ERROR(pass.guard.admit(candidate.listing_empty, candidate.rows_scanned));
    return batcher->add(IndexChange{IndexChange::Kind::kRemove, candidate.entry, {}});
  };

  Status status;
  if (batcher == nullptr) {
    // The seed's shape: each change written on its own as it is found.
    IndexStore& store = rows_store;
    ImporterFn importer = [&](const Entry& entry, std::string_view name) -> StatusOr<bool> {
      if (options.dry_run) return true;
      return store.insert_if_absent(name, entry, entry.last_modified.value_or(Clock::now()));
    };
    DeleterFn deleter = [&](const Entry& entry, std::string_view name) -> StatusOr<RemoveOutcome> {
      auto absent = confirm_absent(entry);
      if (!absent.ok()) return absent.status();
      if (!*absent) return RemoveOutcome::kObjectPresent;
      S3R_RETURN_IF_ERROR(pass.guard.admit(listing_empty(), rows_scanned()));
      if (options.dry_run) return RemoveOutcome::kRemoved;
      return store.remove_if_created_before(name, entry.key, pass.started_at);
    };
    status = sorted(listing, rows, import_handler(pass.log, backend.name, importer, pass.result, options.on_change),
                    delete_handler(pass.log, backend.name, deleter, pass.result, options.on_change), stop,
                    options.counters);
  } else {
    auto on_import = [&](const Entry& entry) -> Status {
      return batcher->add(IndexChange{IndexChange::Kind::kImport, entry, entry.last_modified.value_or(Clock::now())});
    };
    std::optional<internal::RemovalConfirmer> confirmer;
    if (pipelined) confirmer.emplace(options.probe_concurrency, decide, stop);
    auto on_delete = [&](const Entry& entry) -> Status {
      internal::RemovalCandidate candidate{entry, listing_empty(), rows_scanned()};
      if (confirmer) return confirmer->submit(std::move(candidate));
      return decide(candidate);
    };
    status = sorted(listing, rows, on_import, on_delete, stop, options.counters);
    if (confirmer) {
      Status confirmed = confirmer->finish();
      if (status.ok()) status = confirmed;
    }
  }
  listing.stop();
  rows_scanned();
  {
    std::lock_guard lock(pass.mu);
    pass.result.listed += listing.yielded();
    pass.result.rows += rows.rows_scanned();
    pass.result.collisions += listing.collisions();
  }
  return status;
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
  std::vector<std::thread> threads;
  threads.reserve(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    threads.emplace_back([&, i] {
      auto store = pass.options.open_store();
      if (!store.ok()) {
        statuses[i] = store.status().with_context("opening an index connection for a key range");
      } else {
        statuses[i] = run_range(pass, ranges[i], **store, &batcher, true);
      }
      if (!statuses[i].ok()) pass.stop.request_stop();
    });
  }
  for (auto& t : threads) t.join();
  return first_cause(statuses);
}

Status run_pass(Pass& pass, IndexStore& store) {
  const PassOptions& options = pass.options;
  const bool batched = options.batch_size > 1;
  if (!batched) return run_range(pass, KeyInterval{}, store, nullptr, false);

  std::unique_ptr<IndexStore> writer_store;
  const bool pipelined = static_cast<bool>(options.open_store);
  if (pipelined) {
    auto opened = options.open_store();
    if (!opened.ok()) return opened.status().with_context("opening the index connection for the writer");
    writer_store = std::move(*opened);
  }

  RangePlan plan;
  plan.ranges = intervals_between({});
  if (pipelined && options.parallelism > 1) {
    const std::string prefix = bucket_prefix(pass.bucket);
    auto has_keys = listing_has_keys(*pass.backend.lister, prefix, pass.stop.get_token());
    if (!has_keys.ok()) return has_keys.status().with_context("checking that the bucket lists keys");
    // An empty bucket runs as one range, so that the empty-listing guard
    // judges the whole listing, as it would without ranges.
    if (*has_keys) {
      pass.listing_has_keys = true;
      auto planned = plan_ranges(store, *pass.backend.lister, pass.backend.name, pass.bucket, options.parallelism,
                                 pass.stop.get_token());
      if (!planned.ok()) return planned.status();
      plan = std::move(*planned);
    }
  }
  pass.result.ranges = plan.ranges.size();
  if (plan.ranges.size() > 1) {
    pass.log->info("pass split backend={} bucket={} ranges={} by={}", pass.backend.name, pass.bucket,
                   plan.ranges.size(), range_source_name(plan.source));
  }

  internal::ChangeBatcher batcher(pipelined ? *writer_store : store, pass.backend.name, options.batch_size,
                                  pass.started_at, options.dry_run, pass.recorder, pipelined);
  Status status = plan.ranges.size() == 1 ? run_range(pass, plan.ranges.front(), store, &batcher, pipelined)
                                          : run_ranges(pass, plan.ranges, batcher);
  // Removals admitted before a guard tripped were sound; after a failure of
  // the listing or the index they are not written.
  if (!status.ok() && !pass.guard.tripped()) batcher.drop_removals();
  Status flushed = batcher.flush();
  return status.ok() ? flushed : status;
}

}  // namespace

Result reconcile_backend(const BackendRef& backend, std::string_view bucket,
                         const std::vector<std::string>& known_buckets, IndexStore& store,
                         const PassOptions& options) {
  const auto began = std::chrono::steady_clock::now();
  Result result;
  result.backend = backend.name;
  result.bucket = std::string(bucket);
  result.status = check_wiring(backend, bucket);
  if (!result.status.ok()) return result;

  auto log = options.logger ? options.logger : stderr_logger();
  const Clock::time_point started_at =
      options.started_at == Clock::time_point{} ? Clock::now() : options.started_at;
  log->info("pass started backend={} bucket={}{}", result.backend, result.bucket,
            options.dry_run ? " dry_run=true" : "");

  {
    Pass pass(backend, bucket, known_buckets, options, result, log, started_at);
    result.status = run_pass(pass, store);
    result.api_pages = pass.api_pages.load();
  }

  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - began);
  if (result.status.ok()) {
    log->info(
        "pass done backend={} bucket={} listed={} rows={} imported={} removed={} "
        "already_present={} import_failed={} delete_failed={} raced={} ranges={} duration_ms={}{}",
        result.backend, result.bucket, result.listed, result.rows, result.imported, result.removed,
        result.already_present, result.import_failed, result.delete_failed, result.raced, result.ranges,
        result.duration.count(), options.dry_run ? " dry_run=true" : "");
  } else {
    log->error("pass failed backend={} bucket={} error={}", result.backend, result.bucket,
               quote_key(result.status.to_string()));
  }
  return result;
}

}  // namespace s3reconcile
