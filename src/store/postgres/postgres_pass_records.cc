#include "store/postgres/postgres_pass_records.h"

#include <cstdlib>

#include "s3reconcile/time_format.h"
#include "store/postgres/postgres_queries.h"

namespace s3reconcile::postgres {
namespace {

Clock::time_point from_micros(std::int64_t micros) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(micros)));
}

}  // namespace

Status PostgresPassRecords::begin(const PassRecord& record) { return write(record, "recording a pass's start"); }

Status PostgresPassRecords::finish(const PassRecord& record) { return write(record, "recording a pass's end"); }

Status PostgresPassRecords::write(const PassRecord& r, std::string_view doing) {
  return session_
      .run(kUpsertPassRecord,
           {r.pass_id, r.instance, r.backend, r.bucket, r.paths, r.kind, r.shared ? "true" : "false",
            r.dry_run ? "true" : "false", iso8601_utc_micros(r.started_at),
            r.finished_at ? iso8601_utc_micros(*r.finished_at) : "", r.outcome, r.error, pass_counts_json(r.counts)},
           doing)
      .status();
}

StatusOr<std::size_t> PostgresPassRecords::prune(Clock::time_point finished_before) {
  return delete_in_batches(session_, kPrunePassRecords, iso8601_utc_micros(finished_before), kPruneBatch,
                           "deleting the pass records older than the history kept");
}

StatusOr<std::vector<PassRecord>> PostgresPassRecords::recent(std::string_view backend, std::size_t limit) {
  auto q = session_.run(kRecentPassRecords, {std::string(backend), std::to_string(limit)}, "reading the pass records");
  if (!q.ok()) return q.status();
  const PGresult* res = q->get();
  std::vector<PassRecord> records;
  for (int i = 0; i < PQntuples(res); ++i) {
    PassRecord r;
    r.pass_id = text(res, i, 0);
    r.instance = text(res, i, 1);
    r.backend = text(res, i, 2);
    r.bucket = text(res, i, 3);
    r.paths = text(res, i, 4);
    r.kind = text(res, i, 5);
    r.shared = text(res, i, 6) == "t";
    r.dry_run = text(res, i, 7) == "t";
    r.started_at = from_micros(std::atoll(PQgetvalue(res, i, 8)));
    if (const auto finished = std::atoll(PQgetvalue(res, i, 9)); finished != 0) r.finished_at = from_micros(finished);
    r.outcome = text(res, i, 10);
    r.error = text(res, i, 11);
    r.counts = pass_counts_from_json(text(res, i, 12));
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace s3reconcile::postgres
