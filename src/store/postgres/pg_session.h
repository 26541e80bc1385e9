// One libpq connection as the PostgreSQL store and its pass ledger use it:
// statements and their results, errors that name the index (never the
// password) and map SQLSTATEs to codes, and the rule that a lost connection
// fails this call and every later one. Used from one thread at a time,
// except cancel(), which any thread may call.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3reconcile/status.h"

namespace s3reconcile::postgres {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConn = std::unique_ptr<PGconn, ConnDeleter>;

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
  // The statement `name` with these values, as one string that tells any
  // two apart (a value holds no NUL byte, so NULs can join them).
  std::string identity(std::string_view name) const {
    std::string out(name);
    for (std::size_t i = 0; i < count_; ++i) (out += '\0') += values_[i];
    return out;
  }
  const char* const* pointers() {
    for (std::size_t i = 0; i < count_; ++i) pointers_[i] = values_[i].c_str();
    return pointers_.data();
  }

 private:
  static constexpr std::size_t kMost = 16;  // a pass record has 13
  std::array<std::string, kMost> values_;
  std::array<const char*, kMost> pointers_{};
  std::size_t count_ = 0;
};

// libpq's messages span lines ("FATAL: ...\nserver closed the connection
// unexpectedly\n\tThis probably means ..."): one line, without the guesswork.
std::string one_line(std::string_view text);

// The value of a result's cell, with its exact bytes: a view into the
// result, or a copy.
std::string_view value(const PGresult* r, int row, int column);
std::string text(const PGresult* r, int row, int column);

class PgSession {
 public:
  // `where` names the index in messages ("host=db port=5432 dbname=index");
  // `password` is taken out of every message.
  PgSession(PgConn conn, std::string where, std::string password);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // The connection, idle: a statement sent ahead is settled first.
  PGconn* raw() {
    settle();
    return conn_.get();
  }
  const std::string& where() const { return where_; }

  // A statement with text parameters, not prepared (sent now and then).
  StatusOr<PgResult> run(std::string_view sql, const std::vector<std::string>& values, std::string_view doing);
  // A prepared statement.
  StatusOr<PgResult> execute_prepared(const char* name, Params& p, std::string_view doing);
  // Sends the prepared statement `name` now, for take_ahead() to collect
  // later: the server works on it while the caller goes on, and what it has
  // sent by then waits in the socket's buffer. One at a time: any
  // other use of the session first reads its answer and drops it, so that an
  // answer never predates a statement run after it was sent. Nothing is
  // sent when the session is lost or the send fails: the statement then
  // simply runs when asked for.
  void send_ahead(const char* name, Params& p);
  // The answer to the statement sent ahead, when it was `name` with the
  // values of `p`; nullopt (and the one sent ahead dropped) otherwise.
  std::optional<StatusOr<PgResult>> take_ahead(const char* name, const Params& p, std::string_view doing);
  // A statement without parameters.
  StatusOr<PgResult> query(std::string_view sql, std::string_view doing);
  Status exec(std::string_view sql, std::string_view doing) { return query(sql, doing).status(); }
  // `r` when it succeeded, else the failure.
  StatusOr<PgResult> check(PgResult r, std::string_view doing);
  // Rolls back the transaction in progress, unless the connection is gone.
  void rollback();

  // Whether the connection is gone (or out of step, and so unusable).
  bool lost() const;
  // Marks the connection lost: this call and every later one fail with
  // UNAVAILABLE ("PostgreSQL connection lost: ..."), which ends the pass.
  Status lose(std::string why);
  Status lost_error(std::string_view doing) const;
  // The status for a failed statement (`r`, or the connection's error when
  // there is no result): lost, or a code from its SQLSTATE.
  Status failure(const PGresult* r, std::string_view doing);
  // A value that holds a NUL byte.
  Status nul_byte(std::string_view doing) const;

  // Cancels the statement in flight; safe from any thread (libpq sends the
  // request on a connection of its own).
  void cancel();

 private:
  std::string redact(std::string message) const;
  // Reads and drops the answer to a statement sent ahead, if there is one.
  void settle();
  // Reads the answer to the statement sent ahead.
  PgResult read_ahead_answer();

  PgConn conn_;
  struct CancelDeleter {
    void operator()(PGcancel* c) const { PQfreeCancel(c); }
  };
  std::unique_ptr<PGcancel, CancelDeleter> cancel_;  // after conn_: freed first
  const std::string where_;
  const std::string password_;
  bool lost_ = false;
  std::string lost_message_;
  // The identity (Params::identity) of the statement sent ahead and not yet
  // read; empty when there is none.
  std::string sent_ahead_;
};

// How many rows a statement changed.
StatusOr<std::size_t> changed_rows(StatusOr<PgResult> r);

// Runs `sql`, a DELETE of at most $2 rows matching $1 (`cutoff`), again
// until one deletes fewer than `batch`; the rows deleted in all. Each
// statement commits on its own. A backlog of history (a year of it after
// an upgrade, or after keep_pass_history was shortened: 3.5 million ranges
// at 5-minute rounds of 32) goes in short statements: none runs into a
// statement_timeout, which would fail every prune so that the history never
// shrinks, and none holds its locks and WAL for the whole backlog.
StatusOr<std::size_t> delete_in_batches(PgSession& session, std::string_view sql, const std::string& cutoff,
                                        std::size_t batch, std::string_view doing);
// The batch of the prunes of pass history.
inline constexpr std::size_t kPruneBatch = 1000;
// Whether a statement changed exactly one row.
StatusOr<bool> changed_one(StatusOr<PgResult> r);

}  // namespace s3reconcile::postgres
