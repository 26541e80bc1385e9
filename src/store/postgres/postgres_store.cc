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
#include "store/postgres/pg_session.h"
#include "store/postgres/postgres_pass_ledger.h"
#include "store/postgres/postgres_pass_records.h"
#include "store/postgres/postgres_queries.h"

namespace s3reconcile {
namespace {

namespace sql = postgres;
using postgres::changed_one;
using postgres::one_line;
using postgres::Params;
using postgres::PgConn;
using postgres::PgResult;
using postgres::PgSession;
using postgres::text;
using postgres::value;

// Statements sent per round trip when a batch is pipelined: enough to hide
// the latency, few enough that neither side's socket buffer can fill while
// the other is not reading.
constexpr std::size_t kPipelineDepth = 128;

// The oldest server with INSERT ... ON CONFLICT and CREATE INDEX IF NOT EXISTS.
constexpr int kOldestServer = 90500;

struct ConninfoDeleter {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

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

// Belt and braces: no message leaves with the DSN's password in it.
std::string redact_password(std::string message, const std::string& password) {
  return redact(std::move(message), {password});
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

class PostgresStore final : public IndexStore {
 public:
  PostgresStore(PgConn conn, std::string where, std::string password)
      : session_(std::move(conn), std::move(where), std::move(password)) {}

  Status init(const PostgresStoreOptions& options) {
    if (PQserverVersion(session_.raw()) < kOldestServer) {
      return failed_precondition_error(
          fmt::format("PostgreSQL index {}: server version {} is too old (9.5 or newer needed)", session_.where(),
                      PQserverVersion(session_.raw())));
    }
    // Keys travel as UTF-8 and must come back with the same bytes.
    const char* encoding = PQparameterStatus(session_.raw(), "server_encoding");
    const std::string_view server_encoding = encoding ? encoding : "";
    if (server_encoding != "UTF8" && server_encoding != "SQL_ASCII") {
      return failed_precondition_error(
          fmt::format("PostgreSQL index {}: the database's encoding is {}; s3reconcile needs UTF8", session_.where(),
                      server_encoding));
    }
    S3R_RETURN_IF_ERROR(migrate(options.migration_lock_timeout));
    for (const auto& s : kStatements) {
      PgResult r(PQprepare(session_.raw(), s.name, std::string(s.text).c_str(), s.params, nullptr));
      S3R_RETURN_IF_ERROR(session_.check(std::move(r), "preparing a statement").status());
    }
    if (!options.pending_delete_query.empty()) {
      S3R_RETURN_IF_ERROR(prepare_pending_delete(options.pending_delete_query));
    }
    return ok_status();
  }

  Status list_by_storage_key(std::string_view backend, const RowPosition& after, std::size_t limit,
                             const KeyRange& range, std::vector<IndexRow>& rows) override {
    const std::string doing = fmt::format("listing index rows after path {}", quote_key(after.storage_key));
    Params p;
    const std::optional<Prepared> which = list_statement(backend, after, limit, range, p);
    if (!which) return session_.nul_byte(doing);
    const char* name = statement(*which).name;
    std::optional<StatusOr<PgResult>> sent = session_.take_ahead(name, p, doing);
    auto r = sent ? std::move(*sent) : session_.execute_prepared(name, p, doing);
    if (!r.ok()) return r.status();
    const PGresult* res = r->get();
    const auto count = static_cast<std::size_t>(PQntuples(res));
    rows.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      // assign(), not new strings: the rows' buffers are reused.
      IndexRow& row = rows[i];
      const int at = static_cast<int>(i);
      row.object_key.assign(value(res, at, 0));
      row.storage_key.assign(value(res, at, 1));
      const std::string_view size = value(res, at, 2);
      if (std::from_chars(size.data(), size.data() + size.size(), row.size_bytes).ec != std::errc()) {
        return data_loss_error(fmt::format("PostgreSQL index {}: {}: size_bytes \"{}\" of key {} is not a number",
                                           session_.where(), doing, size, quote_key(row.object_key)));
      }
    }
    return ok_status();
  }

  void list_by_storage_key_next(std::string_view backend, const RowPosition& after, std::size_t limit,
                                const KeyRange& range) override {
    Params p;
    // A value with a NUL byte is sent nothing: the call itself will say so.
    if (const std::optional<Prepared> which = list_statement(backend, after, limit, range, p)) {
      session_.send_ahead(statement(*which).name, p);
    }
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
    auto counted = session_.run(sql::kSplitCount, {std::string(backend), range.begin, range.end}, doing);
    if (!counted.ok()) return counted.status();
    const std::string rows = text(counted->get(), 0, 0);
    Params p;
    if (!p.add(backend) || !p.add(range.begin) || !p.add(range.end) || !p.add(std::to_string(parts)) || !p.add(rows)) {
      return session_.nul_byte(doing);
    }
    auto r = execute(Prepared::kSplitKeys, p, doing);
    if (!r.ok()) return r.status();
    const PGresult* res = r->get();
    for (int i = 0; i < PQntuples(res) && keys.size() + 1 < parts; ++i) keys.push_back(text(res, i, 0));
    return keys;
  }

  // Boundaries from a TABLESAMPLE SYSTEM sample of about kSamplePages pages
  // per part; none (so the exact split runs) when the table is small or not
  // yet analyzed, or when the sample holds too few of the range's rows.
  // SYSTEM sampling picks whole pages, and rows written in key order sit
  // together on a page: a page is one draw, however many rows it holds. The
  // sample is sized in pages so that each part's boundary stands on about a
  // hundred independent draws. Sized in rows (500 a part: about 6 pages), a
  // split of 1,000,000 rows into 8 left a part twice its share, and the pass
  // waited for it: 21.8 s against 12.9 s at 80 ms a listing page.
  StatusOr<std::vector<std::string>> split_keys_by_sample(std::string_view backend, const KeyRange& range,
                                                          std::size_t parts, std::string_view doing) {
    constexpr double kSamplePages = 100;
    constexpr double kSmallTable = 200000;
    std::vector<std::string> keys;
    auto estimate = session_.run(sql::kTableRows, {}, doing);
    if (!estimate.ok()) return estimate.status();
    const double rows = std::atof(PQgetvalue(estimate->get(), 0, 0));
    const double pages = std::atof(PQgetvalue(estimate->get(), 0, 1));
    if (rows < kSmallTable || pages < 1) return keys;
    const double percent = std::min(100.0, 100.0 * kSamplePages * static_cast<double>(parts) / pages);
    auto sample = session_.run(sql::kSampleKeys,
                               {std::string(backend), range.begin, range.end, fmt::format("{:.6f}", percent)}, doing);
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
    if (!insert_params(p, backend, entry, created_at)) return session_.nul_byte(importing(entry.key));
    auto r = execute(Prepared::kInsert, p, importing(entry.key));
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 1;
  }

  StatusOr<RemoveOutcome> remove_if_created_before(std::string_view backend, std::string_view object_key,
                                                   Clock::time_point created_before) override {
    Params p;
    if (!remove_params(p, backend, object_key, created_before)) return session_.nul_byte(removing(object_key));
    auto r = execute(Prepared::kRemove, p, removing(object_key));
    if (!r.ok()) return r.status();
    return removal_outcome(r->get());
  }

  StatusOr<RemoveOutcome> removal_outcome(std::string_view backend, std::string_view object_key,
                                          Clock::time_point created_before) override {
    auto r = session_.run(sql::kRemovalOutcome,
                          {std::string(object_key), std::string(backend), iso8601_utc_micros(created_before)},
                          removing(object_key));
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) == 0) return RemoveOutcome::kAlreadyGone;
    return text(r->get(), 0, 0) == "t" ? RemoveOutcome::kRemoved : RemoveOutcome::kTooNew;
  }

  StatusOr<ResizeOutcome> resize_if_unchanged(std::string_view backend, const Entry& entry,
                                              Clock::time_point created_before) override {
    const std::string doing = fmt::format("resizing key {}", quote_key(entry.key));
    auto r = session_.run(sql::kResize,
                          {entry.key, std::string(backend), entry.storage_key, std::to_string(entry.size),
                           std::to_string(entry.index_size.value_or(0)), iso8601_utc_micros(created_before)},
                          doing);
    if (!r.ok()) return r.status();
    if (PQntuples(r->get()) != 1) {
      return internal_error(
          fmt::format("PostgreSQL index {}: a resize answered {} rows", session_.where(), PQntuples(r->get())));
    }
    if (text(r->get(), 0, 0) != "0") return ResizeOutcome::kResized;
    return text(r->get(), 0, 1) == "t" ? ResizeOutcome::kTooNew : ResizeOutcome::kChanged;
  }

  StatusOr<std::string> resume_point(std::string_view backend, std::string_view paths) override {
    auto r = session_.run(sql::kResumePoint, {std::string(backend), std::string(paths)}, "reading the resume point");
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 0 ? std::string() : from_hex(text(r->get(), 0, 0));
  }

  Status set_resume_point(std::string_view backend, std::string_view paths, std::string_view after) override {
    return session_
        .run(sql::kSetResumePoint, {std::string(backend), std::string(paths), to_hex(after)},
             "recording the resume point")
        .status();
  }

  StatusOr<std::vector<ChangeResult>> apply_changes(std::string_view backend, std::span<const IndexChange> changes,
                                                    Clock::time_point created_before) override {
    if (changes.empty()) return std::vector<ChangeResult>();
    const bool any_resize = std::any_of(changes.begin(), changes.end(),
                                        [](const IndexChange& c) { return c.kind == IndexChange::Kind::kResize; });
    if (pending_delete_params_ < 0 && !any_resize) return apply_batch(backend, changes, created_before);
    // Imports of paths the service is deleting are held back first, resizes
    // made; the rest go as one batch.
    std::vector<ChangeResult> results(changes.size());
    std::vector<IndexChange> rest;
    std::vector<std::size_t> rest_at;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      // Resizes are rare and each is one guarded statement: made on their
      // own, outside the pipelined batch, which knows imports and removals.
      if (changes[i].kind == IndexChange::Kind::kResize) {
        results[i] = apply_change(*this, backend, changes[i], created_before);
        if (ends_pass(results[i].status)) return results[i].status;
        continue;
      }
      if (changes[i].kind == IndexChange::Kind::kImport && pending_delete_params_ >= 0) {
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
      if (!p.add(values[i])) return session_.nul_byte(doing);
    }
    if (session_.lost()) return session_.lost_error(doing);
    auto r = session_.check(
        PgResult(PQexecPrepared(session_.raw(), kPendingDeleteStatement, p.count(), p.pointers(), nullptr, nullptr, 0)),
        doing);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) > 0;
  }

  void cancel() override { session_.cancel(); }

  PassLedger* pass_ledger() override { return &ledger_; }
  PassRecords* pass_records() override { return &records_; }
  Status check_connection() override { return session_.run("SELECT 1", {}, "checking the connection").status(); }

  StatusOr<bool> try_lock_backend(std::string_view backend) override {
    return lock_call(Prepared::kTryLockBackend, backend, "taking the lock of backend");
  }

  Status unlock_backend(std::string_view backend) override {
    return lock_call(Prepared::kUnlockBackend, backend, "releasing the lock of backend").status();
  }

 private:
  StatusOr<bool> lock_call(Prepared id, std::string_view backend, std::string_view doing) {
    Params p;
    const std::string what = fmt::format("{} \"{}\"", doing, backend);
    if (!p.add(backend)) return session_.nul_byte(what);
    auto r = execute(id, p, what);
    if (!r.ok()) return r.status();
    return PQntuples(r->get()) == 1 && std::string_view(PQgetvalue(r->get(), 0, 0)) == "t";
  }

  // The changes in one transaction, or, when that fails, one by one so that
  // the change that spoiled it fails alone.
  StatusOr<std::vector<ChangeResult>> apply_batch(std::string_view backend, std::span<const IndexChange> changes,
                                                  Clock::time_point created_before) {
    auto batched = apply_in_one_transaction(backend, changes, created_before);
    if (batched.ok() || session_.lost()) return batched;
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
    PgResult prepared(PQprepare(session_.raw(), kPendingDeleteStatement, query.c_str(), 0, nullptr));
    if (auto r = session_.check(std::move(prepared), "preparing it"); !r.ok())
      return session_.lost() ? r.status() : refuse(r.status());
    PgResult described(PQdescribePrepared(session_.raw(), kPendingDeleteStatement));
    auto d = session_.check(std::move(described), "describing it");
    if (!d.ok()) return d.status();
    const int params = PQnparams(d->get());
    if (params > 2) {
      return refuse(invalid_argument_error("it may use only $1 (the path) and $2 (the backend name)"));
    }
    pending_delete_params_ = params;
    S3R_RETURN_IF_ERROR(session_.exec("BEGIN READ ONLY", "checking store.pending_delete_query"));
    auto tried = queued_for_deletion("", "");
    session_.rollback();
    if (!tried.ok()) {
      pending_delete_params_ = -1;
      return session_.lost() ? tried.status() : refuse(tried.status());
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
    if (session_.lost()) return session_.lost_error(batch);
    PGconn* c = session_.raw();
    if (PQenterPipelineMode(c) != 1) return session_.failure(nullptr, batch);
    std::vector<ChangeResult> results(changes.size());
    std::deque<Pending> pending;
    Status failed;
    auto send_failed = [&](std::string_view doing) {
      if (failed.ok()) failed = session_.failure(nullptr, doing);
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
          failed = session_.nul_byte(import ? importing(change.entry.key) : removing(change.entry.key));
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
      if (session_.lost()) return failed;
    }
    if (failed.ok()) {
      if (PQsendQueryParams(c, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1) {
        pending.push_back({Pending::Kind::kCommit});
      } else {
        send_failed(batch);
      }
    }
    if (session_.lost()) return failed.ok() ? session_.lost_error(batch) : failed;
    if (PQpipelineSync(c) != 1) {
      send_failed(batch);
      return failed;
    }
    read_pending(pending, changes, batch, results, failed);
    if (session_.lost()) return failed;
    PgResult sync(PQgetResult(c));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) return session_.lose("batch results out of step");
    if (PQexitPipelineMode(c) != 1) return session_.lose(one_line(PQerrorMessage(c)));
    if (failed.ok()) return results;
    // A failed statement leaves the transaction aborted until it is rolled back.
    if (PQtransactionStatus(c) != PQTRANS_IDLE) {
      PgResult rollback(PQexec(c, "ROLLBACK"));
      auto rolled_back = session_.check(std::move(rollback), "rolling back " + batch);
      if (!rolled_back.ok() && session_.lost()) return rolled_back.status();
    }
    return failed;
  }

  // Reads the results of everything in `pending`. The first failure goes to
  // `failed`; once a statement fails, the server skips the rest of the
  // pipeline (PGRES_PIPELINE_ABORTED) until the sync.
  void read_pending(std::deque<Pending>& pending, std::span<const IndexChange> changes, const std::string& batch,
                    std::vector<ChangeResult>& results, Status& failed) {
    PGconn* c = session_.raw();
    while (!pending.empty()) {
      const Pending p = pending.front();
      pending.pop_front();
      PgResult r(PQgetResult(c));
      if (!r && !session_.lost()) {
        failed = session_.lose("batch results out of step");
        return;
      }
      const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE) {
        std::string doing = batch;
        if (p.kind == Pending::Kind::kChange) {
          const IndexChange& change = changes[p.change];
          doing = change.kind == IndexChange::Kind::kImport ? importing(change.entry.key) : removing(change.entry.key);
        }
        if (failed.ok() || session_.lost()) failed = session_.failure(r.get(), doing);
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
      if (session_.lost()) {
        if (failed.ok()) failed = session_.lost_error(batch);
        return;
      }
      // Each statement's results end with a null.
      PgResult end(PQgetResult(c));
      if (end) {
        failed = session_.lose("batch results out of step");
        return;
      }
    }
  }

  // ---- the schema

  Status migrate(std::chrono::milliseconds lock_timeout) {
    S3R_RETURN_IF_ERROR(session_.exec("BEGIN", "starting the schema migration"));
    // SET LOCAL ends with the transaction; its value cannot be a parameter.
    Status status =
        session_.exec(fmt::format("SET LOCAL lock_timeout = {}", std::max<std::int64_t>(1, lock_timeout.count())),
                      "setting the migration's lock timeout");
    if (status.ok()) status = migrate_locked();
    if (!status.ok()) {
      session_.rollback();
      return status;
    }
    return session_.exec("COMMIT", "committing the schema migration");
  }

  Status migrate_locked() {
    // One migrator at a time per database; the lock ends with the transaction.
    {
      Params p;
      p.add(sql::kMigrationLockKey);
      PgResult r(PQexecParams(session_.raw(), "SELECT pg_advisory_xact_lock($1::bigint)", p.count(), nullptr,
                              p.pointers(), nullptr, nullptr, 0));
      S3R_RETURN_IF_ERROR(session_.check(std::move(r), "waiting for the schema migration lock").status());
    }
    int version = 0;
    {
      auto exists =
          session_.query("SELECT to_regclass('s3reconcile_schema') IS NOT NULL", "reading the schema version");
      if (!exists.ok()) return exists.status();
      if (text(exists->get(), 0, 0) == "t") {
        auto v =
            session_.query("SELECT coalesce(max(version), 0) FROM s3reconcile_schema", "reading the schema version");
        if (!v.ok()) return v.status();
        version = std::atoi(PQgetvalue(v->get(), 0, 0));
      } else {
        S3R_RETURN_IF_ERROR(session_.exec(sql::kCreateVersionTable, "creating the schema version table"));
      }
    }
    const int current = static_cast<int>(sql::kMigrations.size());
    if (version > current) {
      return failed_precondition_error(
          fmt::format("PostgreSQL index {}: schema version {} is newer than this s3reconcile understands ({})",
                      session_.where(), version, current));
    }
    for (int v = version; v < current; ++v) {
      S3R_RETURN_IF_ERROR(
          session_.exec(sql::kMigrations[static_cast<std::size_t>(v)], fmt::format("schema migration {}", v + 1)));
    }
    if (version != current) {
      Params p;
      p.add(std::to_string(current));
      PgResult r(PQexecParams(session_.raw(), std::string(sql::kSetVersion).c_str(), p.count(), nullptr, p.pointers(),
                              nullptr, nullptr, 0));
      S3R_RETURN_IF_ERROR(session_.check(std::move(r), "recording the schema version").status());
    }
    return check_columns();
  }

  // An index table made by someone else must still have the columns we use.
  Status check_columns() {
    auto r = session_.query(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('object_locations') "
        "AND attnum > 0 AND NOT attisdropped",
        "reading the columns of object_locations");
    if (!r.ok()) return r.status();
    std::vector<std::string> present;
    for (int i = 0; i < PQntuples(r->get()); ++i) present.push_back(text(r->get(), i, 0));
    for (std::string_view column : {"object_key", "backend_name", "storage_key", "size_bytes", "created_at"}) {
      if (std::find(present.begin(), present.end(), column) == present.end()) {
        return failed_precondition_error(
            fmt::format("PostgreSQL index {}: table object_locations has no column {}", session_.where(), column));
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
      return internal_error(
          fmt::format("PostgreSQL index {}: removal answered {} rows", session_.where(), PQntuples(r)));
    }
    if (text(r, 0, 0) != "0") return RemoveOutcome::kRemoved;
    return text(r, 0, 1) == "t" ? RemoveOutcome::kTooNew : RemoveOutcome::kAlreadyGone;
  }

  static std::string to_hex(std::string_view bytes) {
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) fmt::format_to(std::back_inserter(hex), "{:02x}", c);
    return hex;
  }
  static std::string from_hex(std::string_view hex) {
    std::string bytes;
    bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return bytes;
  }

  static std::string importing(std::string_view key) { return fmt::format("importing key {}", quote_key(key)); }
  static std::string removing(std::string_view key) { return fmt::format("removing key {}", quote_key(key)); }

  // The statement listing rows after `after`, its values added to `p`;
  // nullopt when a value holds a NUL byte.
  static std::optional<Prepared> list_statement(std::string_view backend, const RowPosition& after, std::size_t limit,
                                                const KeyRange& range, Params& p) {
    const bool bounded = !range.end.empty();
    if (!p.add(backend) || !p.add(after.storage_key) || !p.add(range.begin) || !p.add(std::to_string(limit)) ||
        (after.object_key && !p.add(*after.object_key)) || (bounded && !p.add(range.end))) {
      return std::nullopt;
    }
    return after.object_key ? (bounded ? Prepared::kListAfterRowBounded : Prepared::kListAfterRow)
                            : (bounded ? Prepared::kListAfterPathBounded : Prepared::kListAfterPath);
  }

  StatusOr<PgResult> execute(Prepared id, Params& p, std::string_view doing) {
    return session_.execute_prepared(statement(id).name, p, doing);
  }

  static constexpr const char* kPendingDeleteStatement = "s3r_pending_delete";

  PgSession session_;
  postgres::PostgresPassLedger ledger_{session_};
  postgres::PostgresPassRecords records_{session_};
  // Parameters the pending-delete query takes; -1 when there is none.
  int pending_delete_params_ = -1;
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
