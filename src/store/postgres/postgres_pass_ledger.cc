#include "store/postgres/postgres_pass_ledger.h"

#include <cstdlib>

#include <fmt/format.h>

#include "s3reconcile/time_format.h"
#include "store/postgres/postgres_queries.h"

namespace s3reconcile::postgres {
namespace {

namespace sql = ::s3reconcile::postgres;

Clock::time_point from_micros(std::int64_t micros) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(micros)));
}

std::string counts_json(const RangeCounts& c) { return pass_counts_json(c); }

RangeCounts counts_at(const PGresult* r, int row, int column) { return pass_counts_from_json(text(r, row, column)); }

}  // namespace

StatusOr<std::int64_t> PostgresPassLedger::open_pass(const std::string& backend, const std::string& bucket,
                                                     Clock::time_point started_at, const Planner& plan) {
  const std::string doing = fmt::format("opening the shared pass of backend \"{}\" bucket \"{}\"", backend, bucket);
  if (auto running = running_pass(backend, bucket, doing); !running.ok() || *running != 0) return running;
  auto ranges = plan();
  if (!ranges.ok()) return ranges.status();
  S3R_RETURN_IF_ERROR(session_.exec("BEGIN", doing));
  auto inserted = [&]() -> StatusOr<std::int64_t> {
    auto r = session_.run(sql::kInsertPass,
                          {backend, bucket, iso8601_utc_micros(started_at), std::to_string(ranges->size())}, doing);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) return std::int64_t{0};  // another instance's pass won
    const std::int64_t id = std::atoll(PQgetvalue(r->get(), 0, 0));
    for (std::size_t i = 0; i < ranges->size(); ++i) {
      const KeyInterval& k = (*ranges)[i];
      auto added = session_.run(sql::kInsertRange, {std::to_string(id), std::to_string(i), k.after, k.through}, doing);
      if (!added.ok()) return added.status();
    }
    return id;
  }();
  if (!inserted.ok()) {
    session_.rollback();
    return inserted.status();
  }
  S3R_RETURN_IF_ERROR(session_.exec("COMMIT", doing));
  if (*inserted != 0) return inserted;
  auto running = running_pass(backend, bucket, doing);
  if (running.ok() && *running == 0) return unavailable_error(doing + ": the running pass ended meanwhile; try again");
  return running;
}

StatusOr<std::optional<RangeClaim>> PostgresPassLedger::claim_range(std::int64_t pass_id, const std::string& owner,
                                                                    std::chrono::milliseconds lease) {
  auto r = session_.run(sql::kClaimRange, {std::to_string(pass_id), owner, std::to_string(lease.count())},
                        fmt::format("claiming a range of pass {}", pass_id));
  if (!r.ok()) return r.status();
  if (PQntuples(r->get()) == 0) return std::optional<RangeClaim>();
  const PGresult* res = r->get();
  RangeClaim claim;
  claim.pass_id = pass_id;
  claim.range_no = std::atoi(PQgetvalue(res, 0, 0));
  claim.range = KeyInterval{text(res, 0, 1), text(res, 0, 2)};
  claim.resume_after = text(res, 0, 3);
  claim.attempt = std::atoi(PQgetvalue(res, 0, 4));
  claim.pass_started_at = from_micros(std::atoll(PQgetvalue(res, 0, 5)));
  claim.counts = counts_at(res, 0, 6);
  return std::optional<RangeClaim>(std::move(claim));
}

StatusOr<bool> PostgresPassLedger::heartbeat(std::int64_t pass_id, int range_no, const std::string& owner) {
  return changed_one(session_.run(sql::kHeartbeat, {std::to_string(pass_id), std::to_string(range_no), owner},
                                  fmt::format("heartbeat of range {} of pass {}", range_no, pass_id)));
}

StatusOr<bool> PostgresPassLedger::record_progress(std::int64_t pass_id, int range_no, const std::string& owner,
                                                   const std::string& applied_through, const RangeCounts& counts) {
  return changed_one(
      session_.run(sql::kRecordProgress,
                   {std::to_string(pass_id), std::to_string(range_no), owner, applied_through, counts_json(counts)},
                   fmt::format("recording the progress of range {} of pass {}", range_no, pass_id)));
}

StatusOr<bool> PostgresPassLedger::finish_range(std::int64_t pass_id, int range_no, const std::string& owner,
                                                const RangeCounts& counts, const Status& outcome) {
  return changed_one(
      session_.run(sql::kFinishRange,
                   {std::to_string(pass_id), std::to_string(range_no), owner, outcome.ok() ? "done" : "failed",
                    counts_json(counts), outcome.ok() ? "" : outcome.to_string()},
                   fmt::format("finishing range {} of pass {}", range_no, pass_id)));
}

StatusOr<std::string> PostgresPassLedger::settle_pass(std::int64_t pass_id) {
  const std::string doing = fmt::format("settling pass {}", pass_id);
  auto r = session_.run(sql::kSettlePass, {std::to_string(pass_id)}, doing);
  if (!r.ok()) return r.status();
  if (PQntuples(r->get()) == 1) return text(r->get(), 0, 0);
  auto now = session_.run(sql::kPassStateOf, {std::to_string(pass_id)}, doing);
  if (!now.ok()) return now.status();
  if (PQntuples(now->get()) == 0) return not_found_error(fmt::format("{}: no such pass", doing));
  return text(now->get(), 0, 0);
}

StatusOr<std::size_t> PostgresPassLedger::prune(Clock::time_point finished_before) {
  return delete_in_batches(session_, sql::kPruneSettledPasses, iso8601_utc_micros(finished_before), kPruneBatch,
                           "deleting the shared passes settled before the history kept");
}

StatusOr<std::vector<PassState>> PostgresPassLedger::recent_passes(std::size_t limit) {
  auto r = session_.run(sql::kRecentPasses, {std::to_string(limit)}, "reading the shared passes");
  if (!r.ok()) return r.status();
  std::vector<PassState> passes;
  for (int i = 0; i < PQntuples(r->get()); ++i) {
    PassState pass;
    pass.pass_id = std::atoll(PQgetvalue(r->get(), i, 0));
    pass.backend = text(r->get(), i, 1);
    pass.bucket = text(r->get(), i, 2);
    pass.state = text(r->get(), i, 3);
    pass.started_at = from_micros(std::atoll(PQgetvalue(r->get(), i, 4)));
    if (const auto finished = std::atoll(PQgetvalue(r->get(), i, 5)); finished != 0) {
      pass.finished_at = from_micros(finished);
    }
    auto ranges = session_.run(sql::kRangesOf, {std::to_string(pass.pass_id)}, "reading the ranges of a shared pass");
    if (!ranges.ok()) return ranges.status();
    const PGresult* res = ranges->get();
    for (int j = 0; j < PQntuples(res); ++j) {
      RangeState range;
      range.range_no = std::atoi(PQgetvalue(res, j, 0));
      range.range = KeyInterval{text(res, j, 1), text(res, j, 2)};
      range.state = text(res, j, 3);
      range.owner = text(res, j, 4);
      if (const auto beat = std::atoll(PQgetvalue(res, j, 5)); beat != 0) range.heartbeat_at = from_micros(beat);
      range.resume_after = text(res, j, 6);
      range.attempts = std::atoi(PQgetvalue(res, j, 7));
      range.error = text(res, j, 8);
      range.counts = counts_at(res, j, 9);
      pass.ranges.push_back(std::move(range));
    }
    passes.push_back(std::move(pass));
  }
  return passes;
}

StatusOr<std::int64_t> PostgresPassLedger::running_pass(const std::string& backend, const std::string& bucket,
                                                        std::string_view doing) {
  auto r = session_.run(sql::kRunningPass, {backend, bucket}, doing);
  if (!r.ok()) return r.status();
  return PQntuples(r->get()) == 0 ? std::int64_t{0} : std::int64_t{std::atoll(PQgetvalue(r->get(), 0, 0))};
}

}  // namespace s3reconcile::postgres
