#include "store/sqlite/sqlite_pass_records.h"

#include <fmt/format.h>

#include "s3reconcile/time_format.h"
#include "store/sqlite/sqlite_calls.h"

namespace s3reconcile::sqlite {
namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// begin and finish both write the whole record: a finish without its begin
// (the begin failed) still leaves one.
constexpr std::string_view kUpsert = R"sql(
INSERT INTO s3reconcile_pass_records (pass_id, instance, backend_name, bucket, paths, kind, shared, dry_run,
                                      started_at, finished_at, outcome, error, counts)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT (pass_id, instance) DO UPDATE SET
  backend_name = excluded.backend_name, bucket = excluded.bucket, paths = excluded.paths, kind = excluded.kind,
  shared = excluded.shared, dry_run = excluded.dry_run, started_at = excluded.started_at,
  finished_at = excluded.finished_at, outcome = excluded.outcome, error = excluded.error, counts = excluded.counts)sql";

// ?1 the backend ("" = all), ?2 the limit. Fixed-width UTC text sorts as time.
constexpr std::string_view kRecent = R"sql(
SELECT pass_id, instance, backend_name, bucket, paths, kind, shared, dry_run, started_at, finished_at, outcome,
       error, counts
  FROM s3reconcile_pass_records WHERE ?1 = '' OR backend_name = ?1
 ORDER BY started_at DESC, pass_id DESC, instance DESC LIMIT ?2)sql";

// ?1 the cutoff. A running record has no finished_at, and NULL < ?1 is not
// true: it stays.
constexpr std::string_view kPrune = R"sql(
DELETE FROM s3reconcile_pass_records WHERE finished_at < ?1)sql";

class SqlitePassRecords final : public PassRecords {
 public:
  SqlitePassRecords(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  Status init() {
    S3R_RETURN_IF_ERROR(prepare(upsert_, kUpsert));
    S3R_RETURN_IF_ERROR(prepare(prune_, kPrune));
    return prepare(recent_, kRecent);
  }

  Status begin(const PassRecord& record) override { return write(record, "recording a pass's start"); }
  Status finish(const PassRecord& record) override { return write(record, "recording a pass's end"); }

  StatusOr<std::size_t> prune(Clock::time_point finished_before) override {
    sqlite3_stmt* s = prune_.get();
    Reset reset{s};
    bind_text(s, 1, iso8601_utc_micros(finished_before));
    if (sqlite3_step(s) != SQLITE_DONE) return error("deleting the pass records older than the history kept");
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

  StatusOr<std::vector<PassRecord>> recent(std::string_view backend, std::size_t limit) override {
    sqlite3_stmt* s = recent_.get();
    Reset reset{s};
    bind_text(s, 1, backend);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(limit));
    std::vector<PassRecord> records;
    while (true) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error("reading the pass records");
      PassRecord r;
      r.pass_id = column_text(s, 0);
      r.instance = column_text(s, 1);
      r.backend = column_text(s, 2);
      r.bucket = column_text(s, 3);
      r.paths = column_text(s, 4);
      r.kind = column_text(s, 5);
      r.shared = sqlite3_column_int(s, 6) != 0;
      r.dry_run = sqlite3_column_int(s, 7) != 0;
      auto started = parse_iso8601_utc_micros(column_text(s, 8));
      if (!started.ok()) return started.status().with_context("pass record " + r.pass_id + " started_at");
      r.started_at = *started;
      if (sqlite3_column_type(s, 9) != SQLITE_NULL) {
        auto finished = parse_iso8601_utc_micros(column_text(s, 9));
        if (!finished.ok()) return finished.status().with_context("pass record " + r.pass_id + " finished_at");
        r.finished_at = *finished;
      }
      r.outcome = column_text(s, 10);
      r.error = column_text(s, 11);
      r.counts = pass_counts_from_json(column_text(s, 12));
      records.push_back(std::move(r));
    }
    return records;
  }

 private:
  // Resets a statement when a use of it ends, however it ends.
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  };

  Status write(const PassRecord& r, std::string_view doing) {
    sqlite3_stmt* s = upsert_.get();
    Reset reset{s};
    bind_text(s, 1, r.pass_id);
    bind_text(s, 2, r.instance);
    bind_text(s, 3, r.backend);
    bind_text(s, 4, r.bucket);
    bind_text(s, 5, r.paths);
    bind_text(s, 6, r.kind);
    sqlite3_bind_int(s, 7, r.shared ? 1 : 0);
    sqlite3_bind_int(s, 8, r.dry_run ? 1 : 0);
    bind_text(s, 9, iso8601_utc_micros(r.started_at));
    if (r.finished_at) bind_text(s, 10, iso8601_utc_micros(*r.finished_at));
    bind_text(s, 11, r.outcome);
    bind_text(s, 12, r.error);
    bind_text(s, 13, pass_counts_json(r.counts));
    if (sqlite3_step(s) != SQLITE_DONE) return error(doing);
    return ok_status();
  }

  Status prepare(Statement& out, std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out.reset(s);
    if (rc != SQLITE_OK) return error("preparing the pass records' statements");
    return ok_status();
  }

  Status error(std::string_view doing) const { return last_error(db_, sqlite3_errcode(db_), path_, doing); }

  sqlite3* db_;
  const std::string path_;
  Statement upsert_, prune_, recent_;
};

}  // namespace

StatusOr<std::unique_ptr<PassRecords>> open_sqlite_pass_records(sqlite3* db, std::string path) {
  auto records = std::make_unique<SqlitePassRecords>(db, std::move(path));
  S3R_RETURN_IF_ERROR(records->init());
  return std::unique_ptr<PassRecords>(std::move(records));
}

}  // namespace s3reconcile::sqlite
