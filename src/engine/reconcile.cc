#include "s3reconcile/reconcile.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/change_batcher.h"
#include "engine/outcomes.h"
#include "engine/removal_guard.h"
#include "s3reconcile/db_cursor_stream.h"
#include "s3reconcile/handlers.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/merge.h"
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
  const bool is_default_bucket = backend.buckets.front() == bucket;
  log->info("pass started backend={} bucket={}{}", result.backend, result.bucket,
            options.dry_run ? " dry_run=true" : "");

  std::atomic<std::uint64_t> api_pages{0};
  S3KeyStreamOptions listing_options;
  listing_options.bucket = std::string(bucket);
  listing_options.known_buckets = known_buckets;
  listing_options.adopt_unprefixed = backend.adopt_unprefixed && is_default_bucket;
  listing_options.queue_size = options.queue_size;
  listing_options.api_pages = &api_pages;
  listing_options.logger = log;
  S3KeyStream listing(*backend.lister, std::move(listing_options), options.stop);

  DBCursorStream rows(store, DBCursorOptions{backend.name, std::string(bucket), known_buckets,
                                             options.page_size, ""});

  // A row goes only once the backend, asked again now, says its bytes are
  // gone (the listing may be older than a write that just landed) and the
  // guard admits it.
  internal::RemovalGuard guard(options.limits, backend.name, std::string(bucket));
  auto confirm_absent = [&](const Entry& entry) -> StatusOr<bool> {
    auto probe = backend.prober->probe(entry.storage_key, options.stop);
    if (!probe.ok()) {
      return probe.status().with_context(
          fmt::format("confirming that storage key {} is absent", quote_key(entry.storage_key)));
    }
    return !probe->has_value();
  };
  auto admit = [&]() { return guard.admit(listing.ended() && listing.yielded() == 0, rows.rows_scanned()); };

  if (options.batch_size <= 1) {
    ImporterFn importer = [&](const Entry& entry, std::string_view name) -> StatusOr<bool> {
      if (options.dry_run) return true;
      return store.insert_if_absent(name, entry, entry.last_modified.value_or(Clock::now()));
    };
    DeleterFn deleter = [&](const Entry& entry, std::string_view name) -> StatusOr<RemoveOutcome> {
      auto absent = confirm_absent(entry);
      if (!absent.ok()) return absent.status();
      if (!*absent) return RemoveOutcome::kObjectPresent;
      S3R_RETURN_IF_ERROR(admit());
      if (options.dry_run) return RemoveOutcome::kRemoved;
      return store.remove_if_created_before(name, entry.key, started_at);
    };
    result.status = sorted(listing, rows, import_handler(log, backend.name, importer, result, options.on_change),
                           delete_handler(log, backend.name, deleter, result, options.on_change),
                           options.stop, options.counters);
  } else {
    internal::OutcomeRecorder recorder(result, log, backend.name, options.dry_run, options.on_change);
    internal::ChangeBatcher batcher(store, backend.name, options.batch_size, started_at, options.dry_run, recorder);
    auto on_import = [&](const Entry& entry) -> Status {
      return batcher.add(IndexChange{IndexChange::Kind::kImport, entry, entry.last_modified.value_or(Clock::now())});
    };
    auto on_delete = [&](const Entry& entry) -> Status {
      auto absent = confirm_absent(entry);
      if (!absent.ok() || !*absent) {
        recorder.removal(entry, absent.status(), RemoveOutcome::kObjectPresent);
        return ends_pass(absent.status()) ? absent.status() : ok_status();
      }
      S3R_RETURN_IF_ERROR(admit());
      return batcher.add(IndexChange{IndexChange::Kind::kRemove, entry, {}});
    };
    result.status = sorted(listing, rows, on_import, on_delete, options.stop, options.counters);
    // Removals admitted before a guard tripped were sound; after a failure of
    // the listing or the index they are not written.
    if (!result.status.ok() && !guard.tripped()) batcher.drop_removals();
    Status flushed = batcher.flush();
    if (result.status.ok()) result.status = flushed;
  }
  listing.stop();

  result.listed = listing.yielded();
  result.rows = rows.rows_scanned();
  result.collisions = listing.collisions();
  result.api_pages = api_pages.load();
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - began);
  if (result.status.ok()) {
    log->info(
        "pass done backend={} bucket={} listed={} rows={} imported={} removed={} "
        "already_present={} import_failed={} delete_failed={} raced={} duration_ms={}{}",
        result.backend, result.bucket, result.listed, result.rows, result.imported, result.removed,
        result.already_present, result.import_failed, result.delete_failed, result.raced,
        result.duration.count(), options.dry_run ? " dry_run=true" : "");
  } else {
    log->error("pass failed backend={} bucket={} error={}", result.backend, result.bucket,
               quote_key(result.status.to_string()));
  }
  return result;
}

}  // namespace s3reconcile
