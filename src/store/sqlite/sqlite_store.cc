#include "s3reconcile/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"
#include "s3reconcile/pass_records.h"
#include "s3reconcile/time_format.h"
#include "store/sqlite/sqlite_calls.h"
#include "store/sqlite/sqlite_pass_records.h"

namespace s3reconcile {
namespace {

using sqlite::bind_text;
using sqlite::column_text;
using sqlite::column_view;

// Each entry moves the schema from version i to i + 1. Never edit a shipped
// step: add a new one.
constexpr std::array<std::string_view, 4> kMigrations = {
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
    R"sql(
-- The cursor walks a backend's rows by the path their bytes live at; rows
-- sharing a path are ordered by object_key, so a page position is exact.
CREATE INDEX IF NOT EXISTS object_locations_backend_storage
  ON object_locations (backend_name, storage_key, object_key);
)sql",
    // The record of every pass (sqlite_pass_records.h).
    sqlite::kCreatePassRecords,
    R"sql(
-- Where a pass that spent its request budget (reconcile.max_list_requests)
-- stopped, per backend and paths ("" = the whole backend, "b/" a bucket,
-- or a --prefix): the next pass over them starts after resume_after.
CREATE TABLE IF NOT EXISTS s3reconcile_resume_points (
  backend_name TEXT NOT NULL,
  paths        TEXT NOT NULL,
  resume_after TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (backend_name, paths)
);
)sql",
};

constexpr std::array<std::string_view, 5> kRequiredColumns = {"object_key", "backend_name", "storage_key", "size_bytes",
                                                              "created_at"};

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
  SqliteStore(std::unique_ptr<sqlite3, DbCloser> db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  Status init(const SqliteStoreOptions& options) {
    sqlite3_busy_timeout(db_.get(), static_cast<int>(options.busy_timeout.count()));
    S3R_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL"));
    S3R_RETURN_IF_ERROR(exec("PRAGMA synchronous=NORMAL"));
    S3R_RETURN_IF_ERROR(migrate());
    S3R_RETURN_IF_ERROR(check_columns());
    S3R_RETURN_IF_ERROR(check_collation());
    // Pages of a backend's rows in (storage_key, object_key) order, after a
    // path (?2) or after one row (?2, ?6), inside [?3, ?5).
    constexpr std::string_view kSelect = R"sql(
SELECT object_key, storage_key, size_bytes FROM object_locations
 WHERE backend_name = ?1 AND storage_key >= ?3 )sql";
    constexpr std::string_view kOrder = " ORDER BY storage_key, object_key LIMIT ?4";
    const std::string after_path = "AND storage_key > ?2";
    const std::string after_row = "AND (storage_key, object_key) > (?2, ?6)";
    const std::string bounded = " AND storage_key < ?5";
    S3R_RETURN_IF_ERROR(prepare(list_after_path_, fmt::format("{}{}{}", kSelect, after_path, kOrder)));
    S3R_RETURN_IF_ERROR(
        prepare(list_after_path_bounded_, fmt::format("{}{}{}{}", kSelect, after_path, bounded, kOrder)));
    S3R_RETURN_IF_ERROR(prepare(list_after_row_, fmt::format("{}{}{}", kSelect, after_row, kOrder)));
    S3R_RETURN_IF_ERROR(prepare(list_after_row_bounded_, fmt::format("{}{}{}{}", kSelect, after_row, bounded, kOrder)));
    // The path of every step-th row of the range, step = ceil(rows / parts), not the last.
    S3R_RETURN_IF_ERROR(prepare(split_, R"sql(
WITH n AS (SELECT count(*) AS n FROM object_locations
            WHERE backend_name = ?1 AND storage_key >= ?2 AND (?3 = '' OR storage_key < ?3))
SELECT storage_key FROM (
  SELECT storage_key, row_number() OVER (ORDER BY storage_key, object_key) AS rn FROM object_locations
   WHERE backend_name = ?1 AND storage_key >= ?2 AND (?3 = '' OR storage_key < ?3)) AS k, n
 WHERE k.rn < n.n AND k.rn % max(1, (n.n + ?4 - 1) / ?4) = 0
 ORDER BY storage_key)sql"));
    if (!options.pending_delete_query.empty()) {
      S3R_RETURN_IF_ERROR(prepare_pending_delete(options.pending_delete_query));
    }
    S3R_RETURN_IF_ERROR(prepare(insert_, R"sql(
INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at)
VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (object_key, backend_name) DO NOTHING)sql"));
    // created_at is text here: only a row whose created_at reads as this
    // store's timestamps (text order is then time order) is compared.
    S3R_RETURN_IF_ERROR(prepare(remove_, R"sql(
DELETE FROM object_locations WHERE object_key = ?1 AND backend_name = ?2 AND created_at < ?3
   AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z')sql"));
    S3R_RETURN_IF_ERROR(prepare(exists_, R"sql(
SELECT created_at, created_at < ?3,
       created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'
  FROM object_locations WHERE object_key = ?1 AND backend_name = ?2)sql"));
    // Only the row the pass judged: same path and size as it read, and old
    // enough to be the pass's to fix.
    S3R_RETURN_IF_ERROR(prepare(resize_, R"sql(
UPDATE object_locations SET size_bytes = ?4
 WHERE object_key = ?1 AND backend_name = ?2 AND storage_key = ?3 AND size_bytes = ?5 AND created_at < ?6
   AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z')sql"));
    S3R_RETURN_IF_ERROR(prepare(unchanged_, R"sql(
SELECT storage_key = ?3 AND size_bytes = ?4 FROM object_locations WHERE object_key = ?1 AND backend_name = ?2)sql"));
    S3R_RETURN_IF_ERROR(prepare(get_resume_, R"sql(
SELECT resume_after FROM s3reconcile_resume_points WHERE backend_name = ?1 AND paths = ?2)sql"));
    S3R_RETURN_IF_ERROR(prepare(set_resume_, R"sql(
INSERT INTO s3reconcile_resume_points (backend_name, paths, resume_after, updated_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (backend_name, paths) DO UPDATE SET resume_after = excluded.resume_after, updated_at = excluded.updated_at)sql"));
    auto records = sqlite::open_sqlite_pass_records(db_.get(), path_);
    if (!records.ok()) return records.status();
    records_ = std::move(*records);
    return ok_status();
  }

  Status list_by_storage_key(std::string_view backend, const RowPosition& after, std::size_t limit,
                             const KeyRange& range, std::vector<IndexRow>& rows) override {
    const bool bounded = !range.end.empty();
    sqlite3_stmt* s = after.object_key ? (bounded ? list_after_row_bounded_ : list_after_row_).get()
                                       : (bounded ? list_after_path_bounded_ : list_after_path_).get();
    StatementUse use(s);
    bind_text(s, 1, backend);
    bind_text(s, 2, after.storage_key);
    bind_text(s, 3, range.begin);
    sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(limit));
    if (bounded) bind_text(s, 5, range.end);
    if (after.object_key) bind_text(s, 6, *after.object_key);
    std::size_t used = 0;
    while (true) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error(rc, "listing index rows");
      // assign(), not new strings: the rows' buffers are reused.
      if (used == rows.size()) rows.emplace_back();
      IndexRow& row = rows[used++];
      row.object_key.assign(column_view(s, 0));
      row.storage_key.assign(column_view(s, 1));
      row.size_bytes = sqlite3_column_int64(s, 2);
    }
    rows.resize(used);
    return ok_status();
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

  StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& entry, Clock::time_point created_at) override {
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

  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend, std::string_view object_key,
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
    return removal_outcome(backend, object_key, created_before);
  }

  StatusOr<RemoveOutcome> removal_outcome(std::string_view backend, std::string_view object_key,
                                          Clock::time_point created_before) override {
    sqlite3_stmt* s = exists_.get();
    StatementUse use(s);
    bind_text(s, 1, object_key);
    bind_text(s, 2, backend);
    bind_text(s, 3, iso8601_utc_micros(created_before));
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return RemoveOutcome::kAlreadyGone;
    if (rc != SQLITE_ROW) return error(rc, fmt::format("checking key {}", quote_key(object_key)));
    if (sqlite3_column_int(s, 2) == 0) {
      // Neither kept for ever as too new nor removed: an error of this row.
      return invalid_argument_error(fmt::format("row {}: created_at {} is not a time; the row is left alone",
                                                quote_key(object_key), quote_key(column_text(s, 0))));
    }
    return sqlite3_column_int(s, 1) != 0 ? RemoveOutcome::kRemoved : RemoveOutcome::kTooNew;
  }

  StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view backend, const Entry& entry,
                                              Clock::time_point created_before) override {
    const std::int64_t judged = entry.index_size.value_or(0);
    const std::string doing = fmt::format("resizing key {}", quote_key(entry.key));
    {
      sqlite3_stmt* s = resize_.get();
      StatementUse use(s);
      bind_text(s, 1, entry.key);
      bind_text(s, 2, backend);
      bind_text(s, 3, entry.storage_key);
      sqlite3_bind_int64(s, 4, entry.size);
      sqlite3_bind_int64(s, 5, judged);
      bind_text(s, 6, iso8601_utc_micros(created_before));
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) return error(rc, doing);
      if (sqlite3_changes(db_.get()) == 1) return ResizeOutcome::kResized;
    }
    sqlite3_stmt* s = unchanged_.get();
    StatementUse use(s);
    bind_text(s, 1, entry.key);
    bind_text(s, 2, backend);
    bind_text(s, 3, entry.storage_key);
    sqlite3_bind_int64(s, 4, judged);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return ResizeOutcome::kChanged;
    if (rc != SQLITE_ROW) return error(rc, doing);
    // The row is as judged, so only its age kept it.
    return sqlite3_column_int(s, 0) != 0 ? ResizeOutcome::kTooNew : ResizeOutcome::kChanged;
  }

  StatusOr<std::string> resume_point(std::string_view backend, std::string_view paths) override {
    sqlite3_stmt* s = get_resume_.get();
    StatementUse use(s);
    bind_text(s, 1, backend);
    bind_text(s, 2, paths);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::string();
    if (rc != SQLITE_ROW) return error(rc, "reading the resume point");
    return column_text(s, 0);
  }

  Status set_resume_point(std::string_view backend, std::string_view paths, std::string_view after) override {
    sqlite3_stmt* s = set_resume_.get();
    StatementUse use(s);
    bind_text(s, 1, backend);
    bind_text(s, 2, paths);
    bind_text(s, 3, after);
    bind_text(s, 4, iso8601_utc_micros(Clock::now()));
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return error(rc, "recording the resume point");
    return ok_status();
  }

  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend, std::span<const IndexChange> changes,
                                                    Clock::time_point created_before) override {
    S3R_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Status failed;
    std::vector<ChangeResult> results;
    results.reserve(changes.size());
    for (const auto& change : changes) {
      ChangeResult r = apply_change(*this, backend, change, created_before);
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

  PassRecords* pass_records() override { return records_.get(); }

  // sqlite3_interrupt is safe from any thread while the connection is open.
  void cancel() override { sqlite3_interrupt(db_.get()); }

  StatusOr<bool> queued_for_deletion(std::string_view backend, std::string_view storage_key) override {
    if (!pending_delete_) return false;
    sqlite3_stmt* s = pending_delete_.get();
    StatementUse use(s);
    bind_pending_delete(s, storage_key, backend);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return error(rc, fmt::format("store.pending_delete_query for path {}", quote_key(storage_key)));
  }

 private:
  // The operator's query saying whether a path is queued for deletion:
  // prepared and run once now, so that a wrong one is refused at open (as a
  // configuration error) and not at the first orphan.
  Status prepare_pending_delete(const std::string& query) {
    auto refuse = [&](std::string_view why) {
      return invalid_argument_error(fmt::format("store.pending_delete_query {}: {}", quote_key(query), why));
    };
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), query.data(), static_cast<int>(query.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    pending_delete_.reset(raw);
    if (rc != SQLITE_OK) return refuse(sqlite3_errmsg(db_.get()));
    if (raw == nullptr) return refuse("it is empty");
    if (tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      return refuse("it holds more than one statement");
    }
    if (!sqlite3_stmt_readonly(raw)) return refuse("it must only read (a SELECT)");
    if (sqlite3_bind_parameter_count(raw) > 2) {
      return refuse("it may use only $1 (the path) and $2 (the backend name)");
    }
    StatementUse use(raw);
    bind_pending_delete(raw, "", "");
    const int step = sqlite3_step(raw);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return refuse(sqlite3_errmsg(db_.get()));
    return ok_status();
  }

  // $1 (or ?1) is the path, $2 (or ?2) the backend's name.
  static void bind_pending_delete(sqlite3_stmt* s, std::string_view storage_key, std::string_view backend) {
    const std::string_view values[] = {storage_key, backend};
    for (int i = 1; i <= 2; ++i) {
      int at = sqlite3_bind_parameter_index(s, fmt::format("${}", i).c_str());
      if (at == 0) at = sqlite3_bind_parameter_index(s, fmt::format("?{}", i).c_str());
      if (at == 0 && sqlite3_bind_parameter_name(s, i) == nullptr && i <= sqlite3_bind_parameter_count(s)) at = i;
      if (at != 0) bind_text(s, at, values[i - 1]);
    }
  }

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
      return failed_precondition_error(
          fmt::format("index \"{}\" has schema version {}, newer than this s3reconcile understands ({})", path_,
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
        return failed_precondition_error(
            fmt::format("index \"{}\": table object_locations has no column {}", path_, column));
      }
    }
    return ok_status();
  }

  // Every comparison and order here is byte order; a key column declared
  // with another collation (NOCASE, RTRIM) would order pages otherwise and
  // fail every pass with "out of key order". Refused at open, saying why.
  Status check_collation() {
    Statement s;
    S3R_RETURN_IF_ERROR(prepare(s, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'object_locations'"));
    if (sqlite3_step(s.get()) != SQLITE_ROW) return ok_status();
    std::string sql = column_text(s.get(), 0);
    std::transform(sql.begin(), sql.end(), sql.begin(), [](unsigned char c) { return std::tolower(c); });
    for (std::string_view column : {"object_key", "storage_key", "backend_name"}) {
      const auto at = sql.find(column);
      if (at == std::string::npos) continue;
      // The column's definition runs to the next comma (or the end).
      const auto end = std::min(sql.find(',', at), sql.size());
      const std::string definition = sql.substr(at, end - at);
      const auto collate = definition.find("collate");
      if (collate == std::string::npos) continue;
      std::string name = definition.substr(collate + 7);
      name.erase(0, name.find_first_not_of(" \t\n\"'`["));
      name = name.substr(0, name.find_first_of(" \t\n\"'`])"));
      if (name != "binary") {
        return failed_precondition_error(fmt::format(
            "index \"{}\": column {} of object_locations is declared COLLATE {}; s3reconcile compares keys in byte "
            "order and needs the default BINARY collation",
            path_, column, name));
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
    return sqlite::status_for(rc, fmt::format("sqlite index \"{}\": {}", path_, text));
  }

  Status prepare(Statement& out, std::string_view sql) {
    sqlite3_stmt* s = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out.reset(s);
    if (rc != SQLITE_OK) return error(rc, "preparing a statement");
    return ok_status();
  }

  Status error(int rc, std::string_view doing) const { return sqlite::last_error(db_.get(), rc, path_, doing); }

  std::unique_ptr<sqlite3, DbCloser> db_;
  const std::string path_;
  // Statements must be finalized before the connection closes: declared after db_.
  Statement list_after_path_, list_after_path_bounded_, list_after_row_, list_after_row_bounded_, split_, insert_,
      remove_, exists_, pending_delete_, resize_, unchanged_, get_resume_, set_resume_;
  std::unique_ptr<PassRecords> records_;  // its statements too
};

}  // namespace

int sqlite_schema_version() { return static_cast<int>(kMigrations.size()); }

StatusOr<std::unique_ptr<IndexStore>> open_sqlite_store(const SqliteStoreOptions& options) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw);
  if (rc != SQLITE_OK) {
    return unavailable_error(fmt::format("cannot open sqlite index \"{}\": {}", options.path,
                                         raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  auto store = std::make_unique<SqliteStore>(std::move(db), options.path);
  S3R_RETURN_IF_ERROR(store->init(options));
  return std::unique_ptr<IndexStore>(std::move(store));
}

}  // namespace s3reconcile
