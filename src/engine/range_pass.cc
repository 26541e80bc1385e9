#include "engine/range_pass.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/removal_confirmer.h"
#include "s3reconcile/db_cursor_stream.h"
#include "s3reconcile/handlers.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/merge.h"
#include "s3reconcile/s3_key_stream.h"

namespace s3reconcile::internal {

// Where a pass logs when the caller gave no logger: stderr, never stdout,
// which belongs to the program's results.
std::shared_ptr<spdlog::logger> stderr_logger() {
  static const auto logger =
      std::make_shared<spdlog::logger>("s3reconcile", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return logger;
}

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

Status run_range(Pass& pass, const KeyInterval& range, IndexStore& rows_store, ChangeBatcher* batcher,
                 bool pipelined, const RangeCheckpoint* checkpoint) {
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
    std::optional<internal::RemovalConfirmer> confirmer;
    if (pipelined) confirmer.emplace(options.probe_concurrency, decide, stop);
    // After a change for `key` went in: every `checkpoint->every` keys merged,
    // wait until every change so far is written and record that.
    std::uint64_t merged_at_checkpoint = 0;
    auto maybe_checkpoint = [&](const std::string& key) -> Status {
      if (checkpoint == nullptr || checkpoint->every == 0) return ok_status();
      const std::uint64_t merged = listing.yielded() + rows.rows_scanned();
      if (merged - merged_at_checkpoint < checkpoint->every) return ok_status();
      merged_at_checkpoint = merged;
      if (confirmer) S3R_RETURN_IF_ERROR(confirmer->drain());
      S3R_RETURN_IF_ERROR(batcher->flush());
      return checkpoint->record(key);
    };
    auto on_import = [&](const Entry& entry) -> Status {
      S3R_RETURN_IF_ERROR(
          batcher->add(IndexChange{IndexChange::Kind::kImport, entry, entry.last_modified.value_or(Clock::now())}));
      return maybe_checkpoint(entry.key);
    };
    auto on_delete = [&](const Entry& entry) -> Status {
      internal::RemovalCandidate candidate{entry, listing_empty(), rows_scanned()};
      S3R_RETURN_IF_ERROR(confirmer ? confirmer->submit(std::move(candidate)) : decide(candidate));
      return maybe_checkpoint(entry.key);
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

}  // namespace s3reconcile::internal
