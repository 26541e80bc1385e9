// The record of every pass (s3reconcile_pass_records, migration 4) on the
// PostgreSQL index. It shares the store's connection (PgSession).
#pragma once

#include "s3reconcile/pass_records.h"
#include "store/postgres/pg_session.h"

namespace s3reconcile::postgres {

class PostgresPassRecords final : public PassRecords {
 public:
  explicit PostgresPassRecords(PgSession& session) : session_(session) {}

  Status begin(const PassRecord& record) override;
  Status finish(const PassRecord& record) override;
  StatusOr<std::vector<PassRecord>> recent(std::string_view backend, std::size_t limit) override;
  StatusOr<std::size_t> prune(Clock::time_point finished_before) override;

 private:
  Status write(const PassRecord& record, std::string_view doing);

  PgSession& session_;
};

}  // namespace s3reconcile::postgres
