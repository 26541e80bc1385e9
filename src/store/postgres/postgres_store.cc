#include "s3reconcile/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "s3reconcile/key_order.h"
#include "s3reconcile/pass_ledger.h"
#include "s3reconcile/printable.h"
#include "s3reconcile/time_format.h"
#include "store/postgres/postgres_queries.h"

namespace s3reconcile {
namespace {

namespace sql = postgres;

// Statements sent per round trip when a batch is pipelined: enough to hide
// the latency, few enough that neither side's socket buffer can fill while
// the other is not reading.
constexpr std::size_t kPipelineDepth = 128;

// The oldest server with INSERT ... ON CONFLICT and CREATE INDEX IF NOT EXISTS.
constexpr int kOldestServer = 90500;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConn = std::unique_ptr<PGconn, ConnDeleter>;

struct CancelDeleter {
  void operator()(PGcancel* c) const { PQfreeCancel(c); }
};

struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

// libpq's messages span lines ("FATAL: ...\nserver closed the connection
// unexpectedly\n\tThis probably means ..."): one line, without the guesswork.
std::string one_line(std::string_view text) {
  if (const auto guess = text.find("\n\tThis probably means"); guess != std::string_view::npos) {
    text = text.substr(0, guess);
  }
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Keyword values of a connection string, falling back to libpq's defaults
// (PGHOST and friends). Empty when the string does not parse.
struct ConnTarget {
  bool parsed = false;
  std::string host, port, dbname, password;
};

ConnTarget parse_target(const std::string& dsn) {
  ConnTarget t;
  char* error = nullptr;
  Conninfo given(PQconninfoParse(dsn.c_str(), &error));
  // libpq's parse error may quote the string, password included: not shown.
  if (error != nullptr) PQfreemem(error);
  if (!given) return t;
  t.parsed = true;
  Conninfo defaults(PQconndefaults());
  auto value = [&](std::string_view keyword) -> std::string {
    for (const auto* list : {given.get(), defaults.get()}) {
      for (const PQconninfoOption* o = list; o != nullptr && o->keyword != nullptr; ++o) {
        if (keyword == o->keyword && o->val != nullptr && o->val[0] != '\0') return o->val;
      }
    }
    return "";
  };
  t.host = value("host");
  if (t.host.empty()) t.host = value("hostaddr");
  t.port = value("port");
  t.dbname = value("dbname");
  for (const PQconninfoOption* o = given.get(); o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) t.password = o->val;
  }
  return t;
}

std::string describe(const ConnTarget& t) {
  if (!t.parsed) return "(unparseable connection string)";
  auto or_default = [](const std::string& v) { return v.empty() ? std::string("(default)") : v; };
  return fmt::format("host={} port={} dbname={}", or_default(t.host), or_default(t.port), or_default(t.dbname));
}

// Text parameters of one statement. libpq takes them as C strings, so a NUL
// byte would silently cut a value short: such a value is refused instead.
class Params {
 public:
  // False (nothing added) for a value with a NUL byte. At most kMost values.
  bool add(std::string_view value) {
    if (value.find('\0') != std::string_view::npos || count_ == kMost) return false;
    values_[count_++] = std::string(value);
    return true;
  }
  int count() const { return static_cast<int>(count_); }
  const char* const* pointers() {
    for (std::size_t i = 0; i < count_; ++i) pointers_[i] = values_[i].c_str();
    return pointers_.data();
  }

 private:
  static constexpr std::size_t kMost = 8;
  std::array<std::string, kMost> values_;
  std::array<const char*, kMost> pointers_{};
  std::size_t count_ = 0;
};

// Belt and braces: no message leaves with the DSN's password in it.
std::string redact_password(std::string message, const std::string& password) {
  return redact(std::move(message), {password});
}

bool connection_lost_state(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

// What a caller should do about a failed statement, from its SQLSTATE.
Status code_for(std::string_view sqlstate, std::string message) {
  const std::string_view cls = sqlstate.substr(0, std::min<std::size_t>(2, sqlstate.size()));
  if (cls == "40" || cls == "53" || cls == "57" || cls == "58" || sqlstate == "55P03") {
    return unavailable_error(std::move(message));  // transient: locks, resources, cancellation
  }
  if (cls == "22" || cls == "23") return invalid_argument_error(std::move(message));  // this row's data
  if (sqlstate == "XX001" || sqlstate == "XX002") return data_loss_error(std::move(message));
  if (cls == "42") return failed_precondition_error(std::move(message));  // missing table, no privilege
  return internal_error(std::move(message));
}

enum class Prepared {
  kListAfterPath,
  kListAfterPathBounded,
  kListAfterRow,
  kListAfterRowBounded,
  kInsert,
  kRemove,
  kTryLockBackend,
  kUnlockBackend,
  kSplitKeys
};

struct PreparedStatement {
  Prepared id;
  const char* name;
  std::string_view text;
  int params;
};

constexpr std::array<PreparedStatement, 9> kStatements = {{
    {Prepared::kListAfterPath, "s3r_list_after_path", sql::kListAfterPath, 4},
    {Prepared::kListAfterPathBounded, "s3r_list_after_path_bounded", sql::kListAfterPathBounded, 5},
    {Prepared::kListAfterRow, "s3r_list_after_row", sql::kListAfterRow, 5},
    {Prepared::kListAfterRowBounded, "s3r_list_after_row_bounded", sql::kListAfterRowBounded, 6},
    {Prepared::kInsert, "s3r_insert", sql::kInsert, 5},
    {Prepared::kRemove, "s3r_remove", sql::kRemove, 3},
    {Prepared::kTryLockBackend, "s3r_try_lock_backend", sql::kTryLockBackend, 1},
    {Prepared::kUnlockBackend, "s3r_unlock_backend", sql::kUnlockBackend, 1},
    {Prepared::kSplitKeys, "s3r_split_keys", sql::kSplitKeys, 5},
}};

const PreparedStatement& statement(Prepared id) { return kStatements[static_cast<std::size_t>(id)]; }

class PostgresStore final : public IndexStore, public PassLedger {
 public:
  PostgresStore(PgConn conn, std::string where, std::string password)
      : conn_(std::move(conn)), where_(std::move(where)), password_(std::move(password)) {}

  Status init(const PostgresStoreOptions& options) {
    if (PQserverVersion(conn_.get()) < kOldestServer) {
      return failed_precondition_error(
          fmt::format("PostgreSQL index {}: server version {} is too old (9.5 or newer needed)", where_,
                      PQserverVersion(conn_.get())));
    }
    // Keys travel as UTF-8 and must come back with the same bytes.
    const char* encoding = PQparameterStatus(conn_.get(), "server_encoding");
    const std::string_view server_encoding = encoding ? encoding : "";
    if (server_encoding != "UTF8" && server_encoding != "SQL_ASCII") {
      return failed_precondition_error(fmt::format(
          "PostgreSQL index {}: the database's encoding is {}; s3reconcile needs UTF8", where_, server_encoding));
    }
    cancel_.reset(PQgetCancel(conn_.get()));
    S3R_RETURN_IF_ERROR(migrate(options.migration_lock_timeout));
    for (const auto& s : kStatements) {
      PgResult r(PQprepare(conn_.get(), s.name, std::string(s.text).c_str(), s.params, nullptr));
      S3R_RETURN_IF_ERROR(check(std::move(r), "preparing a statement").status());
    }
    if (!options.pending_delete_query.empty()) {
      S3R_RETURN_IF_ERROR(prepare_pending_delete(options.pending_delete_query));
    }
    return ok_status();
  }

  StatusOr<std::vector<IndexRow>> list_by_storage_key(std::string_view backend, const RowPosition& after,
                                                      std::size_t limit, const KeyRange& range) override {
    const std::string doing = fmt::format("listing index rows after path {}", quote_key(after.storage_key));
    Params p;
    const bool bounded = !range.end.empty();
    if (!p.add(backend) || !p.add(after.storage_key) || !p.add(range.begin) || !p.add(std::to_string(limit)) ||
        (after.object_key && !p.add(*after.object_key)) || (bounded && !p.add(range.end))) {
      return nul_byte(doing);
    }
    const Prepared which = after.object_key ? (bounded ? Prepared::kListAfterRowBounded : Prepared::kListAfterRow)
                                            : (bounded ? Prepared::kListAfterPathBounded : Prepared::kListAfterPath);
    auto r = execute(which, p, doing);
    if (!r.ok()) return r.status();
    const PGresult* res = r->get();
    std::vector<IndexRow> rows;
    rows.reserve(static_cast<std::size_t>(PQntuples(res)));
    for (int i = 0; i < PQntuples(res); ++i) {
      IndexRow row{text(res, i, 0), text(res, i, 1), 0};
      const std::string size = text(res, i, 2);
      if (std::from_chars(size.data(), size.data() + size.size(), row.size_bytes).ec != std::errc()) {
        return data_loss_error(fmt::format("PostgreSQL index {}: {}: size_bytes \"{}\" of key {} is not a number",
                                           where_, doing, size, quote_key(row.object_key)));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  StatusOr<std::vector<std::string>> split_keys(std::string_view backend, const KeyRange& range,
                                                std::size_t parts) override {
    std::vector<std::string> keys;
    if (parts <= 1) return keys;
    const std::string doing =
        fmt::format("splitting the key range from {} into {} parts", quote_key(range.begin), parts);
    // A big table is split at quantiles of a sample of its pages: reading
    // every key to split billions of them would cost as much as a pass.
    auto sampled = split_keys_by_sample(backend, range, parts, doing);
    if (!sampled.ok() || !sampled->empty()) return sampled;
    auto counted = run(sql::kSplitCount, {std::string(backend), range.begin, range.end}, doing);
    if (!counted.ok()) return counted.status();
    const std::string rows = text(counted->get(), 0, 0);
    Params p;
    if (!p.add(backend) || !p.add(range.begin) || !p.add(range.end) || !p.add(std::to_string(parts)) || !p.add(rows)) {
      return nul_byte(doing);
    }
    auto r = execute(Prepared::kSplitKeys, p, doing);
    if (!r.ok()) return r.status();
    const PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res) && keys.size() + 1 < parts; ++i) keys.push_back(text(res, i, 0));
    return keys;
  }

  // Boundaries from a TABLESAMPLE SYSTEM sample of about kSampleRows rows
  // per part; none (so the exact split runs) when the table is small or not
  // yet analyzed, or when the sample holds too few of the range's rows.
  StatusOr<std::vector<std::string>> split_keys_by_sample(std::string_view backend, const KeyRange& range,
                                                          std::size_t parts, std::string_view doing) {
    constexpr double kSampleRows = 500;
    constexpr double kSmallTable = 200000;
    std::vector<std::string> keys;
    auto estimate = run(sql::kTableRows, {}, doing);
    if (!estimate.ok()) return estimate.status();
    const double rows = std::atof(PQgetvalue(estimate->get(), 0, 0));
    if (rows < kSmallTable) return keys;
    const double percent = std::min(100.0, 100.0 * kSampleRows * static_cast<double>(parts) / rows);
    auto sample =
        run(sql::kSampleKeys, {std::string(backend), range.begin, range.end, fmt::format("{:.6f}", percent)}, doing);
    if (!sample.ok()) return sample.status();
    std::vector<std::string> seen;
    seen.reserve(static_cast<std::size_t>(PQntuples(sample->get())));
    for (int i = 0; i < PQntuples(sample->get()); ++i) seen.push_back(text(sample->get(), i, 0));
    if (seen.size() < 20 * parts) return keys;
    std::sort(seen.begin(), seen.end(),
              [](const std::string& a, const std::string& b) { return compare_keys(a, b) < 0; });
    for (std::size_t j = 1; j < parts; ++j) {
      const std::string& key = seen[j * seen.size() / parts];
      if (keys.empty() || compare_keys(keys.back(), key) < 0) keys.push_back(key);
    }
    return keys;
  }

  StatusOr<bool> insert_if_absent(std::string_view backend, const Entry& entry, Clock::time_point created_at) override {
    Params p;
    if (!insert_params(p, backend, entry, created_at)) return nul_byte(importing(entry.key));
    auto r = execute(Prepared::kInsert, p, importing(entry.key));
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 1;
  }

  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend, std::string_view object_key,
                                                   Clock::time_point created_before) override {
    Params p;
    if (!remove_params(p, backend, object_key, created_before)) return nul_byte(removing(object_key));
    auto r = execute(Prepared::kRemove, p, removing(object_key));
    if (!r.ok()) return r.status();
    return removal_outcome(r->get());
  }

  StatusOr<RemoveOutcome> removal_outcome(std::string_view backend, std::string_view object_key,
                                          Clock::time_point created_before) override {
    auto r =
        run(sql::kRemovalOutcome, {std::string(object_key), std::string(backend), iso8601_utc_micros(created_before)},
            removing(object_key));
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) return RemoveOutcome::kAlreadyGone;
    return text(r->get(), 0, 0) == "t" ? RemoveOutcome::kRemoved : RemoveOutcome::kTooNew;
  }

  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend, std::span<const IndexChange> changes,
                                                    Clock::time_point created_before) override {
    if (changes.empty()) return std::vector<ChangeResult>();
    if (pending_delete_params_ < 0) return apply_batch(backend, changes, created_before);
    // Imports of paths the service is deleting are held back first; the rest
    // go as one batch.
    std::vector<ChangeResult> results(changes.size());
    std::vector<IndexChange> rest;
    std::vector<std::size_t> rest_at;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      if (changes[i].kind == IndexChange::Kind::kImport) {
        auto queued = queued_for_deletion(backend, changes[i].entry.storage_key);
        if (!queued.ok() && ends_pass(queued.status())) return queued.status();
        if (!queued.ok() || *queued) {
          results[i].status = queued.status();
          results[i].pending_delete = queued.ok();
          continue;
        }
      }
      rest.push_back(changes[i]);
      rest_at.push_back(i);
    }
    if (rest.empty()) return results;
    auto applied = apply_batch(backend, rest, created_before);
    if (!applied.ok()) return applied.status();
    for (std::size_t j = 0; j < rest_at.size(); ++j) results[rest_at[j]] = std::move((*applied)[j]);
    return results;
  }

  StatusOr<bool> queued_for_deletion(std::string_view backend, std::string_view storage_key) override {
    if (pending_delete_params_ < 0) return false;
    const std::string doing = fmt::format("store.pending_delete_query for path {}", quote_key(storage_key));
    Params p;
    const std::string_view values[] = {storage_key, backend};
    for (int i = 0; i < pending_delete_params_; ++i) {
      if (!p.add(values[i])) return nul_byte(doing);
    }
    if (lost()) return lost_error(doing);
    auto r = check(
        PgResult(PQexecPrepared(conn_.get(), kPendingDeleteStatement, p.count(), p.pointers(), nullptr, nullptr, 0)),
        doing);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) > 0;
  }

  // libpq's cancel request travels on a connection of its own and is safe
  // from any thread.
  void cancel() override {
    if (!cancel_) return;
    char why[256];
    PQcancel(cancel_.get(), why, sizeof why);
  }

  StatusOr<bool> try_lock_backend(std::string_view backend) override {
    return lock_call(Prepared::kTryLockBackend, backend, "taking the lock of backend");
  }

  Status unlock_backend(std::string_view backend) override {
    return lock_call(Prepared::kUnlockBackend, backend, "releasing the lock of backend").status();
  }

  // ---- PassLedger: shared passes

  PassLedger* pass_ledger() override { return this; }

  StatusOr<std::int64_t> open_pass(const std::string& backend, const std::string& bucket, Clock::time_point started_at,
                                   const Planner& plan) override {
    const std::string doing = fmt::format("opening the shared pass of backend \"{}\" bucket \"{}\"", backend, bucket);
    if (auto running = running_pass(backend, bucket, doing); !running.ok() || *running != 0) return running;
    auto ranges = plan();
    if (!ranges.ok()) return ranges.status();
    S3R_RETURN_IF_ERROR(exec("BEGIN", doing));
    auto inserted = [&]() -> StatusOr<std::int64_t> {
      auto r = run(sql::kInsertPass, {backend, bucket, iso8601_utc_micros(started_at), std::to_string(ranges->size())},
                   doing);
      if (!r.ok()) return r.status();
      if (PQntuples(r->get()) == 0) return std::int64_t{0};  // another instance's pass won
      const std::int64_t id = std::atoll(PQgetvalue(r->get(), 0, 0));
      for (std::size_t i = 0; i < ranges->size(); ++i) {
        const KeyInterval& k = (*ranges)[i];
        auto added = run(sql::kInsertRange, {std::to_string(id), std::to_string(i), k.after, k.through}, doing);
        if (!added.ok()) return added.status();
      }
      return id;
    }();
    if (!inserted.ok()) {
      if (!lost()) PgResult rollback(PQexec(conn_.get(), "ROLLBACK"));
      return inserted.status();
    }
    S3R_RETURN_IF_ERROR(exec("COMMIT", doing));
    if (*inserted != 0) return inserted;
    auto running = running_pass(backend, bucket, doing);
    if (running.ok() && *running == 0)
      return unavailable_error(doing + ": the running pass ended meanwhile; try again");
    return running;
  }

  StatusOr<std::optional<RangeClaim>> claim_range(std::int64_t pass_id, const std::string& owner,
                                                  std::chrono::milliseconds lease) override {
    auto r = run(sql::kClaimRange, {std::to_string(pass_id), owner, std::to_string(lease.count())},
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

  StatusOr<bool> heartbeat(std::int64_t pass_id, int range_no, const std::string& owner) override {
    return changed_one(run(sql::kHeartbeat, {std::to_string(pass_id), std::to_string(range_no), owner},
                           fmt::format("heartbeat of range {} of pass {}", range_no, pass_id)));
  }

  StatusOr<bool> record_progress(std::int64_t pass_id, int range_no, const std::string& owner,
                                 const std::string& applied_through, const RangeCounts& counts) override {
    return changed_one(
        run(sql::kRecordProgress,
            {std::to_string(pass_id), std::to_string(range_no), owner, applied_through, counts_json(counts)},
            fmt::format("recording the progress of range {} of pass {}", range_no, pass_id)));
  }

  StatusOr<bool> finish_range(std::int64_t pass_id, int range_no, const std::string& owner, const RangeCounts& counts,
                              const Status& outcome) override {
    return changed_one(run(sql::kFinishRange,
                           {std::to_string(pass_id), std::to_string(range_no), owner, outcome.ok() ? "done" : "failed",
                            counts_json(counts), outcome.ok() ? "" : outcome.to_string()},
                           fmt::format("finishing range {} of pass {}", range_no, pass_id)));
  }

  StatusOr<std::string> settle_pass(std::int64_t pass_id) override {
    const std::string doing = fmt::format("settling pass {}", pass_id);
    auto r = run(sql::kSettlePass, {std::to_string(pass_id)}, doing);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 1) return text(r->get(), 0, 0);
    auto now = run(sql::kPassStateOf, {std::to_string(pass_id)}, doing);
    if (!now.ok()) return now.status();
    if (PQntuples(now->get()) == 0) return not_found_error(fmt::format("{}: no such pass", doing));
    return text(now->get(), 0, 0);
  }

  StatusOr<std::vector<PassState>> recent_passes(std::size_t limit) override {
    auto r = run(sql::kRecentPasses, {std::to_string(limit)}, "reading the shared passes");
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
      auto ranges = run(sql::kRangesOf, {std::to_string(pass.pass_id)}, "reading the ranges of a shared pass");
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

 private:
  StatusOr<std::int64_t> running_pass(const std::string& backend, const std::string& bucket, std::string_view doing) {
    auto r = run(sql::kRunningPass, {backend, bucket}, doing);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 0 ? std::int64_t{0} : std::int64_t{std::atoll(PQgetvalue(r->get(), 0, 0))};
  }

  // A statement the ledger sends now and then: not prepared.
  StatusOr<PgResult> run(std::string_view text_sql, const std::vector<std::string>& values, std::string_view doing) {
    if (lost()) return lost_error(doing);
    Params p;
    for (const auto& v : values) {
      if (!p.add(v)) return nul_byte(doing);
    }
    return check(PgResult(PQexecParams(conn_.get(), std::string(text_sql).c_str(), p.count(), nullptr, p.pointers(),
                                       nullptr, nullptr, 0)),
                 doing);
  }

  static StatusOr<bool> changed_one(StatusOr<PgResult> r) {
    if (!r.ok()) return r.status();
    return std::string_view(PQcmdTuples(r->get())) == "1";
  }

  static Clock::time_point from_micros(std::int64_t micros) {
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(micros)));
  }

  static std::string counts_json(const RangeCounts& c) {
    std::string json = "{";
    c.for_each([&](std::string_view name, std::uint64_t v) {
      fmt::format_to(std::back_inserter(json), "{}\"{}\":{}", json.size() > 1 ? "," : "", name, v);
    });
    return json + "}";
  }

  // The counts from the jsonb text of column `column` (missing ones 0): a
  // flat object of numbers, as counts_json wrote it.
  static RangeCounts counts_at(const PGresult* r, int row, int column) {
    const std::string json = text(r, row, column);
    RangeCounts counts;
    for (const auto& [name, field] : kPassCountFields) {
      const std::string quoted = fmt::format("\"{}\":", name);
      const auto at = json.find(quoted);
      if (at == std::string::npos) continue;
      std::size_t from = at + quoted.size();
      while (from < json.size() && json[from] == ' ') ++from;
      std::from_chars(json.data() + from, json.data() + json.size(), counts.*field);
    }
    return counts;
  }

  StatusOr<bool> lock_call(Prepared id, std::string_view backend, std::string_view doing) {
    Params p;
    const std::string what = fmt::format("{} \"{}\"", doing, backend);
    if (!p.add(backend)) return nul_byte(what);
    auto r = execute(id, p, what);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 1 && std::string_view(PQgetvalue(r->get(), 0, 0)) == "t";
  }

  // The changes in one transaction, or, when that fails, one by one so that
  // the change that spoiled it fails alone.
  StatusOr<std::vector<ChangeResult>> apply_batch(std::string_view backend, std::span<const IndexChange> changes,
                                                  Clock::time_point created_before) {
    auto batched = apply_in_one_transaction(backend, changes, created_before);
    if (batched.ok() || lost()) return batched;
    return apply_changes_one_by_one(*this, backend, changes, created_before);
  }

  // The operator's query saying whether a path is queued for deletion:
  // prepared, then run once now in a read-only transaction, so that a wrong
  // one (syntax, a missing table, a write) is refused at open as a
  // configuration error, not at the first orphan.
  Status prepare_pending_delete(const std::string& query) {
    auto refuse = [&](const Status& why) {
      return invalid_argument_error(fmt::format("store.pending_delete_query {}: {}", quote_key(query), why.message()));
    };
    PgResult prepared(PQprepare(conn_.get(), kPendingDeleteStatement, query.c_str(), 0, nullptr));
    if (auto r = check(std::move(prepared), "preparing it"); !r.ok()) return lost() ? r.status() : refuse(r.status());
    PgResult described(PQdescribePrepared(conn_.get(), kPendingDeleteStatement));
    auto d = check(std::move(described), "describing it");
    if (!d.ok()) return d.status();
    const int params = PQnparams(d->get());
    if (params > 2) {
      return refuse(invalid_argument_error("it may use only $1 (the path) and $2 (the backend name)"));
    }
    pending_delete_params_ = params;
    S3R_RETURN_IF_ERROR(exec("BEGIN READ ONLY", "checking store.pending_delete_query"));
    auto tried = queued_for_deletion("", "");
    if (!lost()) PgResult rollback(PQexec(conn_.get(), "ROLLBACK"));
    if (!tried.ok()) {
      pending_delete_params_ = -1;
      return lost() ? tried.status() : refuse(tried.status());
    }
    return ok_status();
  }

  // ---- a batch: one transaction, pipelined (kPipelineDepth statements per round trip)

  // What the pipeline is waiting to read, in the order it was sent.
  struct Pending {
    enum class Kind { kBegin, kChange, kCommit } kind;
    std::size_t change = 0;  // kChange: its index
  };

  StatusOr<std::vector<ChangeResult>> apply_in_one_transaction(std::string_view backend,
                                                               std::span<const IndexChange> changes,
                                                               Clock::time_point created_before) {
    const std::string batch =
        fmt::format("a batch of {} changes from key {}", changes.size(), quote_key(changes.front().entry.key));
    if (lost()) return lost_error(batch);
    PGconn* c = conn_.get();
    if (PQenterPipelineMode(c) != 1) return failure(nullptr, batch);
    std::vector<ChangeResult> results(changes.size());
    std::deque<Pending> pending;
    Status failed;
    auto send_failed = [&](std::string_view doing) {
      if (failed.ok()) failed = failure(nullptr, doing);
    };

    if (PQsendQueryParams(c, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1) {
      pending.push_back({Pending::Kind::kBegin});
    } else {
      send_failed(batch);
    }
    for (std::size_t next = 0; next < changes.size() && failed.ok();) {
      const std::size_t end = std::min(changes.size(), next + kPipelineDepth);
      for (; next < end && failed.ok(); ++next) {
        const IndexChange& change = changes[next];
        Params p;
        const bool import = change.kind == IndexChange::Kind::kImport;
        const bool sendable = import ? insert_params(p, backend, change.entry, change.created_at)
                                     : remove_params(p, backend, change.entry.key, created_before);
        if (!sendable) {
          failed = nul_byte(import ? importing(change.entry.key) : removing(change.entry.key));
          break;
        }
        const auto& s = statement(import ? Prepared::kInsert : Prepared::kRemove);
        if (PQsendQueryPrepared(c, s.name, p.count(), p.pointers(), nullptr, nullptr, 0) != 1) {
          send_failed(batch);
          break;
        }
        pending.push_back({Pending::Kind::kChange, next});
      }
      if (!failed.ok()) break;
      if (PQsendFlushRequest(c) != 1 || PQflush(c) != 0) {
        send_failed(batch);
        break;
      }
      read_pending(pending, changes, batch, results, failed);
      if (lost()) return failed;
    }
    if (failed.ok()) {
      if (PQsendQueryParams(c, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1) {
        pending.push_back({Pending::Kind::kCommit});
      } else {
        send_failed(batch);
      }
    }
    if (lost()) return failed.ok() ? lost_error(batch) : failed;
    if (PQpipelineSync(c) != 1) {
      send_failed(batch);
      return failed;
    }
    read_pending(pending, changes, batch, results, failed);
    if (lost()) return failed;
    PgResult sync(PQgetResult(c));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) return lose("batch results out of step");
    if (PQexitPipelineMode(c) != 1) return lose(one_line(PQerrorMessage(c)));
    if (failed.ok()) return results;
    // A failed statement leaves the transaction aborted until it is rolled back.
    if (PQtransactionStatus(c) != PQTRANS_IDLE) {
      PgResult rollback(PQexec(c, "ROLLBACK"));
      auto rolled_back = check(std::move(rollback), "rolling back " + batch);
      if (!rolled_back.ok() && lost()) return rolled_back.status();
    }
    return failed;
  }

  // Reads the results of everything in `pending`. The first failure goes to
  // `failed`; once a statement fails, the server skips the rest of the
  // pipeline (PGRES_PIPELINE_ABORTED) until the sync.
  void read_pending(std::deque<Pending>& pending, std::span<const IndexChange> changes, const std::string& batch,
                    std::vector<ChangeResult>& results, Status& failed) {
    PGconn* c = conn_.get();
    while (!pending.empty()) {
      const Pending p = pending.front();
      pending.pop_front();
      PgResult r(PQgetResult(c));
      if (!r && !lost()) {
        failed = lose("batch results out of step");
        return;
      }
      const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE) {
        std::string doing = batch;
        if (p.kind == Pending::Kind::kChange) {
          const IndexChange& change = changes[p.change];
          doing = change.kind == IndexChange::Kind::kImport ? importing(change.entry.key) : removing(change.entry.key);
        }
        if (failed.ok() || lost()) failed = failure(r.get(), doing);
      } else if (status != PGRES_PIPELINE_ABORTED && p.kind == Pending::Kind::kChange) {
        ChangeResult& out = results[p.change];
        if (changes[p.change].kind == IndexChange::Kind::kImport) {
          out.inserted = PQntuples(r.get()) == 1;
        } else {
          auto removal = removal_outcome(r.get());
          if (removal.ok())
            out.removal = *removal;
          else if (failed.ok())
            failed = removal.status();
        }
      }
      if (lost()) {
        if (failed.ok()) failed = lost_error(batch);
        return;
      }
      // Each statement's results end with a null.
      PgResult end(PQgetResult(c));
      if (end) {
        failed = lose("batch results out of step");
        return;
      }
    }
  }

  // ---- the schema

  Status migrate(std::chrono::milliseconds lock_timeout) {
    S3R_RETURN_IF_ERROR(exec("BEGIN", "starting the schema migration"));
    // SET LOCAL ends with the transaction; its value cannot be a parameter.
    Status status = exec(fmt::format("SET LOCAL lock_timeout = {}", std::max<std::int64_t>(1, lock_timeout.count())),
                         "setting the migration's lock timeout");
    if (status.ok()) status = migrate_locked();
    if (!status.ok()) {
      if (!lost()) PgResult rollback(PQexec(conn_.get(), "ROLLBACK"));
      return status;
    }
    return exec("COMMIT", "committing the schema migration");
  }

  Status migrate_locked() {
    // One migrator at a time per database; the lock ends with the transaction.
    {
      Params p;
      p.add(sql::kMigrationLockKey);
      PgResult r(PQexecParams(conn_.get(), "SELECT pg_advisory_xact_lock($1::bigint)", p.count(), nullptr, p.pointers(),
                              nullptr, nullptr, 0));
      S3R_RETURN_IF_ERROR(check(std::move(r), "waiting for the schema migration lock").status());
    }
    int version = 0;
    {
      auto exists = query("SELECT to_regclass('s3reconcile_schema') IS NOT NULL", "reading the schema version");
      if (!exists.ok()) return exists.status();
      if (text(exists->get(), 0, 0) == "t") {
        auto v = query("SELECT coalesce(max(version), 0) FROM s3reconcile_schema", "reading the schema version");
        if (!v.ok()) return v.status();
        version = std::atoi(PQgetvalue(v->get(), 0, 0));
      } else {
        S3R_RETURN_IF_ERROR(exec(sql::kCreateVersionTable, "creating the schema version table"));
      }
    }
    const int current = static_cast<int>(sql::kMigrations.size());
    if (version > current) {
      return failed_precondition_error(
          fmt::format("PostgreSQL index {}: schema version {} is newer than this s3reconcile understands ({})", where_,
                      version, current));
    }
    for (int v = version; v < current; ++v) {
      S3R_RETURN_IF_ERROR(
          exec(sql::kMigrations[static_cast<std::size_t>(v)], fmt::format("schema migration {}", v + 1)));
    }
    if (version != current) {
      Params p;
      p.add(std::to_string(current));
      PgResult r(PQexecParams(conn_.get(), std::string(sql::kSetVersion).c_str(), p.count(), nullptr, p.pointers(),
                              nullptr, nullptr, 0));
      S3R_RETURN_IF_ERROR(check(std::move(r), "recording the schema version").status());
    }
    return check_columns();
  }

  // An index table made by someone else must still have the columns we use.
  Status check_columns() {
    auto r = query(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('object_locations') "
        "AND attnum > 0 AND NOT attisdropped",
        "reading the columns of object_locations");
    if (!r.ok()) return r.status();
    std::vector<std::string> present;
    for (int i = 0; i < PQntuples(r->get()); ++i) present.push_back(text(r->get(), i, 0));
    for (std::string_view column : {"object_key", "backend_name", "storage_key", "size_bytes", "created_at"}) {
      if (std::find(present.begin(), present.end(), column) == present.end()) {
        return failed_precondition_error(
            fmt::format("PostgreSQL index {}: table object_locations has no column {}", where_, column));
      }
    }
    return ok_status();
  }

  // ---- statements

  static bool insert_params(Params& p, std::string_view backend, const Entry& entry, Clock::time_point created_at) {
    return p.add(entry.key) && p.add(backend) && p.add(entry.storage_key) && p.add(std::to_string(entry.size)) &&
           p.add(iso8601_utc_micros(created_at));
  }

  static bool remove_params(Params& p, std::string_view backend, std::string_view key, Clock::time_point before) {
    return p.add(key) && p.add(backend) && p.add(iso8601_utc_micros(before));
  }

  StatusOr<RemoveOutcome> removal_outcome(const PGresult* r) const {
    if (PQntuples(r) != 1 || PQnfields(r) != 2) {
      return internal_error(fmt::format("PostgreSQL index {}: removal answered {} rows", where_, PQntuples(r)));
    }
    if (text(r, 0, 0) != "0") return RemoveOutcome::kRemoved;
    return text(r, 0, 1) == "t" ? RemoveOutcome::kTooNew : RemoveOutcome::kAlreadyGone;
  }

  static std::string importing(std::string_view key) { return fmt::format("importing key {}", quote_key(key)); }
  static std::string removing(std::string_view key) { return fmt::format("removing key {}", quote_key(key)); }

  Status nul_byte(std::string_view doing) const {
    return invalid_argument_error(
        fmt::format("PostgreSQL index {}: {}: a NUL byte cannot be stored in a PostgreSQL text value", where_, doing));
  }

  StatusOr<PgResult> execute(Prepared id, Params& p, std::string_view doing) {
    if (lost()) return lost_error(doing);
    const auto& s = statement(id);
    return check(PgResult(PQexecPrepared(conn_.get(), s.name, p.count(), p.pointers(), nullptr, nullptr, 0)), doing);
  }

  StatusOr<PgResult> query(std::string_view text_sql, std::string_view doing) {
    return check(PgResult(PQexec(conn_.get(), std::string(text_sql).c_str())), doing);
  }

  Status exec(std::string_view text_sql, std::string_view doing) { return query(text_sql, doing).status(); }

  StatusOr<PgResult> check(PgResult r, std::string_view doing) {
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return StatusOr<PgResult>(std::move(r));
    return failure(r.get(), doing);
  }

  // ---- errors

  bool lost() const { return lost_ || PQstatus(conn_.get()) == CONNECTION_BAD; }

  // The connection is gone (or out of step, and so unusable): this call and
  // every later one fail with UNAVAILABLE, which ends the pass.
  Status lose(std::string why) {
    if (!lost_) {
      lost_ = true;
      lost_message_ = why.empty() ? "no answer from the server" : std::move(why);
    }
    return lost_error("");
  }

  Status lost_error(std::string_view doing) const {
    std::string why = lost_message_.empty() ? one_line(PQerrorMessage(conn_.get())) : lost_message_;
    if (why.empty()) why = "the connection is closed";
    return unavailable_error(redact(fmt::format("PostgreSQL connection lost: {}: {}{}", where_,
                                                doing.empty() ? "" : std::string(doing) + ": ", why)));
  }

  // The status for a failed statement (`r`, or the connection's error when
  // there is no result).
  Status failure(const PGresult* r, std::string_view doing) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string message = one_line(primary ? primary : PQerrorMessage(conn_.get()));
    if (lost() || connection_lost_state(sqlstate)) {
      // The first reason given (an administrator's command, a shutdown) stays.
      if (!lost_) lose(message).ignore_error();
      return lost_error(doing);
    }
    if (message.empty()) message = "failed without a message";
    return code_for(sqlstate, redact(fmt::format("PostgreSQL index {}: {}: {}{}", where_, doing, message,
                                                 sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")")));
  }

  std::string redact(std::string message) const { return redact_password(std::move(message), password_); }

  static std::string text(const PGresult* r, int row, int column) {
    return std::string(PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column)));
  }

  static constexpr const char* kPendingDeleteStatement = "s3r_pending_delete";

  PgConn conn_;
  std::unique_ptr<PGcancel, CancelDeleter> cancel_;  // after conn_: freed first
  const std::string where_;
  const std::string password_;
  // Parameters the pending-delete query takes; -1 when there is none.
  int pending_delete_params_ = -1;
  bool lost_ = false;
  std::string lost_message_;
};

}  // namespace

int postgres_schema_version() { return static_cast<int>(sql::kMigrations.size()); }

std::string describe_postgres_dsn(const std::string& dsn) { return describe(parse_target(dsn)); }

StatusOr<std::unique_ptr<IndexStore>> open_postgres_store(const PostgresStoreOptions& options) {
  const ConnTarget target = parse_target(options.dsn);
  if (!target.parsed) {
    // libpq's own message may quote the string, and the string the password.
    return invalid_argument_error(
        "the PostgreSQL connection string does not parse (expected keyword=value pairs, as in "
        "\"host=db dbname=index user=s3r\", or a postgresql:// URI)");
  }
  const std::string timeout = std::to_string(options.connect_timeout.count());
  // Our defaults come before the DSN (it may override them); the encoding
  // after it: keys must travel as UTF-8 bytes, unconverted.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "keepalives",
                            "keepalives_idle", "keepalives_interval",       "keepalives_count",
                            "dbname",          "client_encoding",           nullptr};
  const char* values[] = {timeout.c_str(), "s3reconcile", "1", "30", "10", "3", options.dsn.c_str(), "UTF8", nullptr};
  PgConn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (!conn) return unavailable_error("cannot connect to PostgreSQL: out of memory");
  // Server notices ("relation already exists, skipping") are not for stderr.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return unavailable_error(redact_password(
        fmt::format("cannot connect to PostgreSQL {}: {}", describe(target), one_line(PQerrorMessage(conn.get()))),
        target.password));
  }
  const char* host = PQhost(conn.get());
  const char* port = PQport(conn.get());
  const char* db = PQdb(conn.get());
  std::string where = fmt::format("host={} port={} dbname={}", host ? host : "", port ? port : "", db ? db : "");
  auto store = std::make_unique<PostgresStore>(std::move(conn), std::move(where), target.password);
  S3R_RETURN_IF_ERROR(store->init(options));
  return std::unique_ptr<IndexStore>(std::move(store));
}

}  // namespace s3reconcile
