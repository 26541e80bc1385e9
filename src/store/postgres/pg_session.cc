#include "store/postgres/pg_session.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "s3reconcile/printable.h"

namespace s3reconcile::postgres {
namespace {

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

}  // namespace

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

std::string_view value(const PGresult* r, int row, int column) {
  return {PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column))};
}

std::string text(const PGresult* r, int row, int column) { return std::string(value(r, row, column)); }

StatusOr<std::size_t> changed_rows(StatusOr<PgResult> r) {
  if (!r.ok()) return r.status();
  return static_cast<std::size_t>(std::strtoull(PQcmdTuples(r->get()), nullptr, 10));
}

StatusOr<std::size_t> delete_in_batches(PgSession& session, std::string_view sql, const std::string& cutoff,
                                        std::size_t batch, std::string_view doing) {
  std::size_t total = 0;
  while (true) {
    auto deleted = changed_rows(session.run(sql, {cutoff, std::to_string(batch)}, doing));
    if (!deleted.ok()) return deleted.status();
    total += *deleted;
    if (*deleted < batch) return total;
  }
}

StatusOr<bool> changed_one(StatusOr<PgResult> r) {
  auto changed = changed_rows(std::move(r));
  if (!changed.ok()) return changed.status();
  return *changed == 1;
}

PgSession::PgSession(PgConn conn, std::string where, std::string password)
    : conn_(std::move(conn)), where_(std::move(where)), password_(std::move(password)) {
  cancel_.reset(PQgetCancel(conn_.get()));
}

PgSession::~PgSession() = default;

StatusOr<PgResult> PgSession::run(std::string_view sql, const std::vector<std::string>& values,
                                  std::string_view doing) {
  settle();
  if (lost()) return lost_error(doing);
  Params p;
  for (const auto& v : values) {
    if (!p.add(v)) return nul_byte(doing);
  }
  return check(PgResult(PQexecParams(conn_.get(), std::string(sql).c_str(), p.count(), nullptr, p.pointers(), nullptr,
                                     nullptr, 0)),
               doing);
}

StatusOr<PgResult> PgSession::execute_prepared(const char* name, Params& p, std::string_view doing) {
  settle();
  if (lost()) return lost_error(doing);
  return check(PgResult(PQexecPrepared(conn_.get(), name, p.count(), p.pointers(), nullptr, nullptr, 0)), doing);
}

void PgSession::send_ahead(const char* name, Params& p) {
  settle();
  if (lost()) return;
  if (PQsendQueryPrepared(conn_.get(), name, p.count(), p.pointers(), nullptr, nullptr, 0) == 1) {
    sent_ahead_ = p.identity(name);
  }
}

std::optional<StatusOr<PgResult>> PgSession::take_ahead(const char* name, const Params& p, std::string_view doing) {
  if (sent_ahead_.empty()) return std::nullopt;
  if (sent_ahead_ != p.identity(name)) {
    settle();
    return std::nullopt;
  }
  return check(read_ahead_answer(), doing);
}

PgResult PgSession::read_ahead_answer() {
  sent_ahead_.clear();
  // One statement, one result, then null; a lost connection may end it early.
  PgResult answer(PQgetResult(conn_.get()));
  while (PGresult* more = PQgetResult(conn_.get())) PQclear(more);
  return answer;
}

void PgSession::settle() {
  if (!sent_ahead_.empty()) read_ahead_answer();
}

StatusOr<PgResult> PgSession::query(std::string_view sql, std::string_view doing) {
  settle();
  return check(PgResult(PQexec(conn_.get(), std::string(sql).c_str())), doing);
}

StatusOr<PgResult> PgSession::check(PgResult r, std::string_view doing) {
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return StatusOr<PgResult>(std::move(r));
  return failure(r.get(), doing);
}

void PgSession::rollback() {
  settle();
  if (!lost()) PgResult rolled_back(PQexec(conn_.get(), "ROLLBACK"));
}

bool PgSession::lost() const { return lost_ || PQstatus(conn_.get()) == CONNECTION_BAD; }

Status PgSession::lose(std::string why) {
  if (!lost_) {
    lost_ = true;
    lost_message_ = why.empty() ? "no answer from the server" : std::move(why);
  }
  return lost_error("");
}

Status PgSession::lost_error(std::string_view doing) const {
  std::string why = lost_message_.empty() ? one_line(PQerrorMessage(conn_.get())) : lost_message_;
  if (why.empty()) why = "the connection is closed";
  return unavailable_error(redact(fmt::format("PostgreSQL connection lost: {}: {}{}", where_,
                                              doing.empty() ? "" : std::string(doing) + ": ", why)));
}

Status PgSession::failure(const PGresult* r, std::string_view doing) {
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

Status PgSession::nul_byte(std::string_view doing) const {
  return invalid_argument_error(
      fmt::format("PostgreSQL index {}: {}: a NUL byte cannot be stored in a PostgreSQL text value", where_, doing));
}

void PgSession::cancel() {
  if (!cancel_) return;
  char why[256];
  PQcancel(cancel_.get(), why, sizeof why);
}

std::string PgSession::redact(std::string message) const {
  return s3reconcile::redact(std::move(message), {password_});
}

}  // namespace s3reconcile::postgres
