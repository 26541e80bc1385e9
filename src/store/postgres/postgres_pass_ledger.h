// The ledger of shared passes (s3reconcile_passes, s3reconcile_ranges) on
// the PostgreSQL index: opening a pass with its planned ranges, claiming
// ranges with FOR UPDATE SKIP LOCKED, heartbeats, progress, settling. It
// shares the store's connection (PgSession) and its schema.
#pragma once

#include "s3reconcile/pass_ledger.h"
#include "store/postgres/pg_session.h"

namespace s3reconcile::postgres {

class PostgresPassLedger final : public PassLedger {
 public:
  explicit PostgresPassLedger(PgSession& session) : session_(session) {}

  StatusOr<std::int64_t> open_pass(const std::string& backend, const std::string& bucket, Clock::time_point started_at,
                                   const Planner& plan) override;
  StatusOr<std::optional<RangeClaim>> claim_range(std::int64_t pass_id, const std::string& owner,
                                                  std::chrono::milliseconds lease) override;
  StatusOr<bool> heartbeat(std::int64_t pass_id, int range_no, const std::string& owner) override;
  StatusOr<bool> record_progress(std::int64_t pass_id, int range_no, const std::string& owner,
                                 const std::string& applied_through, const RangeCounts& counts) override;
  StatusOr<bool> finish_range(std::int64_t pass_id, int range_no, const std::string& owner, const RangeCounts& counts,
                              const Status& outcome) override;
  StatusOr<std::string> settle_pass(std::int64_t pass_id) override;
  StatusOr<std::vector<PassState>> recent_passes(std::size_t limit) override;
  StatusOr<std::size_t> prune(Clock::time_point finished_before) override;

 private:
  // The id of the running pass of (backend, bucket), 0 when none.
  StatusOr<std::int64_t> running_pass(const std::string& backend, const std::string& bucket, std::string_view doing);

  PgSession& session_;
};

}  // namespace s3reconcile::postgres
