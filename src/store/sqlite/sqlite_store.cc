#include "s3reconcile/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a shipped
// step: add a new one.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE IF NOT EXISTS object_locations (
  object_key   TEXT    NOT NULL,
  backend_name TEXT    NOT NULL,
  storage_key  TEXT    NOT NULL,
  size_bytes   INTEGER NOT NULL,
  created_at   TEXT    NOT NULL,
  PRIMARY KEY (object_key, backend_name)
);
CREATE INDEX IF NOT EXISTS object_locations_backend_key
  ON object_locations (backend_name, object_key);
)sql",
};

constexpr std::array<std::string_view, 5> kRequiredColumns = {
    "object_key", "backend_name", "storage_key", "size_bytes", "created_at"};


struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

// Resets a statement when a use of it ends, however it ends.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* s) : s_(s) {}
  ~StatementUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* s_;
};

class SqliteStore final : public IndexStore {
 public:
  SqliteStore(std::unique_ptr<sqlite3, DbCloser> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  Status init(std::chrono::milliseconds busy_timeout) {
    sqlite3_busy_timeout(db_.get(), static_cast<int>(busy_timeout.count()));
    S3R_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL"));
    S3R_RETURN_IF_ERROR(exec("PRAGMA synchronous=NORMAL"));
    S3R_RETURN_IF_ERROR(migrate());
    S3R_RETURN_IF_ERROR(check_columns());
    S3R_RETURN_IF_ERROR(prepare(list_, R"sql(
SELECT object_key, storage_key, size_bytes FROM object_locations
 WHERE backend_name = ?1 AND object_key > ?2 AND object_key >= ?3
 ORDER BY object_key LIMIT ?4)sql"));
    S3R_RETURN_IF_ERROR(prepare(list_bounded_, R"sql(
SELECT object_key, storage_key, size_bytes FROM object_locations
 WHERE backend_name = ?1 AND object_key > ?2 AND object_key >= ?3 AND object_key < ?5
 ORDER BY object_key LIMIT ?4)sql"));
    // Every step-th key of the range, step = ceil(rows / parts), not the last.
    S3R_RETURN_IF_ERROR(prepare(split_, R"sql(
WITH n AS (SELECT count(*) AS n FROM object_locations
            WHERE backend_name = ?1 AND object_key >= ?2 AND (?3 = '' OR object_key < ?3))
SELECT object_key FROM (
  SELECT object_key, row_number() OVER (ORDER BY object_key) AS rn FROM object_locations
   WHERE backend_name = ?1 AND object_key >= ?2 AND (?3 = '' OR object_key < ?3)) AS k, n
 WHERE k.rn < n.n AND k.rn % max(1, (n.n + ?4 - 1) / ?4) = 0
 ORDER BY object_key)sql"));
    S3R_RETURN_IF_ERROR(prepare(insert_, R"sql(
INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at)
VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING)sql"));
    S3R_RETURN_IF_ERROR(prepare(remove_, R"sql(
DELETE FROM object_locations WHERE object_key = ?1 AND backend_name = ?2 AND created_at < ?3)sql"));
    S3R_RETURN_IF_ERROR(prepare(exists_, R"sql(
SELECT 1 FROM object_locations WHERE object_key = ?1 AND backend_name = ?2)sql"));
    return ok_status();
  }

  StatusOr<std::vector<IndexRow>> list_by_backend_key_asc(std::string_view backend,
                                                          std::string_view after_key,
                                                          std::size_t limit,
                                                          const KeyRange& range) override {
    sqlite3_stmt* s = range.end.empty() ? list_.get() : list_bounded_.get();
    StatementUse use(s);
    bind_text(s, 1, backend);
    bind_text(s, 2, after_key);
    bind_text(s, 3, range.begin);
    sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(limit));
    if (!range.end.empty()) bind_text(s, 5, range.end);
    std::vector<IndexRow> rows;
    rows.reserve(limit);
    while (true) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error(rc, "listing index rows");
      rows.push_back(IndexRow{column_text(s, 0), column_text(s, 1), sqlite3_column_int64(s, 2)});
    }
    return rows;
  }

  StatusOr<std::vector<std::string>> split_keys(std::string_view backend, const KeyRange& range,
                                                std::size_t parts) override {
    std::vector<std::string> keys;
    if (parts <= 1) return keys;
    sqlite3_stmt* s = split_.get();
    StatementUse use(s);
    bind_text(s, 1, backend);
    bind_text(s, 2, range.begin);
    bind_text(s, 3, range.end);
    sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(parts));
    while (true) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error(rc, "splitting the key range");
      keys.push_back(column_text(s, 0));
    }
    if (keys.size() >= parts) keys.resize(parts - 1);
    return keys;
  }

  StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& entry,
                                  Clock::time_point created_at) override {
    sqlite3_stmt* s = insert_.get();
    StatementUse use(s);
    bind_text(s, 1, entry.key);
    bind_text(s, 2, backend);
    bind_text(s, 3, entry.storage_key);
    sqlite3_bind_int64(s, 4, entry.size);
    bind_text(s, 5, iso8601_utc_micros(created_at));
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return error(rc, fmt::format("importing key {}", quote_key(entry.key)));
    return sqlite3_changes(db_.get()) == 1;
  }

  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend,
                                                   std::string_view object_key,
                                                   Clock::time_point created_before) override {
    {
      sqlite3_stmt* s = remove_.get();
      StatementUse use(s);
      bind_text(s, 1, object_key);
      bind_text(s, 2, backend);
      bind_text(s, 3, iso8601_utc_micros(created_before));
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) return error(rc, fmt::format("removing key {}", quote_key(object_key)));
      if (sqlite3_changes(db_.get()) == 1) return RemoveOutcome::kRemoved;
    }
    sqlite3_stmt* s = exists_.get();
    StatementUse use(s);
    bind_text(s, 1, object_key);
    bind_text(s, 2, backend);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return RemoveOutcome::kTooNew;
    if (rc == SQLITE_DONE) return RemoveOutcome::kAlreadyGone;
    return error(rc, fmt::format("checking key {}", quote_key(object_key)));
  }

  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend, std::span<const IndexChange> changes,
                                                    Clock::time_point created_before) override {
    S3R_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Status failed;
    std::vector<ChangeResult> results;
    results.reserve(changes.size());
    for (const auto& change : changes) {
      ChangeResult r;
      if (change.kind == IndexChange::Kind::kImport) {
        auto inserted = insert_if_absent(backend, change.entry, change.created_at);
        if (inserted.ok()) r.inserted = *inserted;
        r.status = inserted.status();
      } else {
        auto removal = remove_if_created_before(backend, change.entry.key, created_before);
        if (removal.ok()) r.removal = *removal;
        r.status = removal.status();
      }
      if (!r.status.ok()) {
        failed = r.status;
        break;
      }
      results.push_back(std::move(r));
    }
    if (failed.ok()) failed = exec("COMMIT");
    if (failed.ok()) return results;
    exec("ROLLBACK").ignore_error();
    if (ends_pass(failed)) return failed;
    // One change spoiled the batch: apply them one by one so it fails alone.
    return apply_changes_one_by_one(*this, backend, changes, created_before);
  }

 private:
  Status migrate() {
    S3R_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));  // one migrator at a time
    Status status = migrate_locked();
    if (!status.ok()) {
      exec("ROLLBACK").ignore_error();
      return status;
    }
    return exec("COMMIT");
  }

  Status migrate_locked() {
    auto version = user_version();
    if (!version.ok()) return version.status();
    if (*version > static_cast<int>(kMigrations.size())) {
      return failed_precondition_error(fmt::format(
          "index \"{}\" has schema version {}, newer than this s3reconcile understands ({})", path_,
          *version, kMigrations.size()));
    }
    for (auto v = static_cast<std::size_t>(*version); v < kMigrations.size(); ++v) {
      S3R_RETURN_IF_ERROR(exec(kMigrations[v]).with_context(fmt::format("schema migration {}", v + 1)));
    }
    return exec(fmt::format("PRAGMA user_version = {}", kMigrations.size()));
  }

  StatusOr<int> user_version() {
    Statement s;
    S3R_RETURN_IF_ERROR(prepare(s, "PRAGMA user_version"));
    if (sqlite3_step(s.get()) != SQLITE_ROW) return error(sqlite3_errcode(db_.get()), "reading schema version");
    return sqlite3_column_int(s.get(), 0);
  }

  // An index table made by someone else must still have the columns we use.
  Status check_columns() {
    Statement s;
    S3R_RETURN_IF_ERROR(prepare(s, "PRAGMA table_info(object_locations)"));
    std::vector<std::string> present;
    while (sqlite3_step(s.get()) == SQLITE_ROW) present.push_back(column_text(s.get(), 1));
    for (auto column : kRequiredColumns) {
      if (std::find(present.begin(), present.end(), column) == present.end()) {
        return failed_precondition_error(fmt::format(
            "index \"{}\": table object_locations has no column {}", path_, column));
      }
    }
    return ok_status();
  }

  Status exec(std::string_view sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_.get(), std::string(sql).c_str(), nullptr, nullptr, &message);
    if (rc == SQLITE_OK) return ok_status();
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return code_for(rc, fmt::format("sqlite index \"{}\": {}", path_, text));
  }

  Status prepare(Statement& out, std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out.reset(s);
    if (rc != SQLITE_OK) return error(rc, "preparing a statement");
    return ok_status();
  }

  Status error(int rc, std::string_view doing) const {
    return code_for(rc, fmt::format("sqlite index \"{}\": {}: {}", path_, doing, sqlite3_errmsg(db_.get())));
  }

  static Status code_for(int rc, std::string message) {
    switch (rc & 0xFF) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
      case SQLITE_FULL:
      case SQLITE_INTERRUPT:
        return unavailable_error(std::move(message));
      case SQLITE_CONSTRAINT:
      case SQLITE_MISMATCH:
      case SQLITE_TOOBIG:
        return invalid_argument_error(std::move(message));
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return data_loss_error(std::move(message));
      default:
        return internal_error(std::move(message));
    }
  }

  static void bind_text(sqlite3_stmt* s, int index, std::string_view text) {
    sqlite3_bind_text64(s, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }

  static std::string column_text(sqlite3_stmt* s, int column) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
    const int bytes = sqlite3_column_bytes(s, column);
    return text ? std::string(text, static_cast<std::size_t>(bytes)) : std::string();
  }

  std::unique_ptr<sqlite3, DbCloser> db_;
  const std::string path_;
  // Statements must be finalized before the connection closes: declared after db_.
  Statement list_, list_bounded_, split_, insert_, remove_, exists_;
};

}  // namespace

int sqlite_schema_version() { return static_cast<int>(kMigrations.size()); }

StatusOr<std::unique_ptr<IndexStore>> open_sqlite_store(const SqliteStoreOptions& options) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw);
  if (rc != SQLITE_OK) {
    return unavailable_error(fmt::format("cannot open sqlite index \"{}\": {}", options.path,
                                         raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  auto store = std::make_unique<SqliteStore>(std::move(db), options.path);
  S3R_RETURN_IF_ERROR(store->init(options.busy_timeout));
  return std::unique_ptr<IndexStore>(std::move(store));
}

}  // namespace s3reconcile
