// PostgreSQL for tests: the server named by S3R_TEST_PG_DSN (scripts/pg-server
// starts one), a database of its own per test, and a plain libpq connection
// to look behind the store's back.
#pragma once

#include <libpq-fe.h>

#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "s3reconcile/status.h"

namespace s3reconcile::testing {

inline std::string pg_base_dsn() {
  const char* v = std::getenv("S3R_TEST_PG_DSN");
  return v ? v : "";
}

// Why PostgreSQL tests cannot run: UNAVAILABLE (they skip) without a server,
// FAILED_PRECONDITION (they fail) when S3R_REQUIRE_PG=1 demands one.
inline Status pg_missing() {
  const char* required = std::getenv("S3R_REQUIRE_PG");
  if (required != nullptr && std::string_view(required) == "1") {
    return failed_precondition_error(
        "S3R_REQUIRE_PG=1 but S3R_TEST_PG_DSN is not set (scripts/pg-server start DIR PORT writes it)");
  }
  return unavailable_error("S3R_TEST_PG_DSN is not set: no PostgreSQL to test against (see scripts/pg-server)");
}

// `dsn` (keyword=value or URI) with `keyword` set to `value`, as keyword=value.
inline std::string dsn_with(const std::string& dsn, const std::string& keyword, const std::string& value) {
  auto quote = [](std::string_view v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (o->val == nullptr || keyword == o->keyword) continue;
    out += fmt::format("{}={} ", o->keyword, quote(o->val));
  }
  if (options != nullptr) PQconninfoFree(options);
  return out + keyword + "=" + quote(value);
}

// A plain connection, for what the store does not do.
class PgConnection {
 public:
  explicit PgConnection(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {}
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Status status() const {
    if (PQstatus(conn_) == CONNECTION_OK) return ok_status();
    return unavailable_error(fmt::format("test connection: {}", PQerrorMessage(conn_)));
  }

  StatusOr<std::vector<std::vector<std::string>>> rows(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      Status error = internal_error(fmt::format("{}: {}", sql, PQresultErrorMessage(r)));
      PQclear(r);
      return error;
    }
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j) {
        row.emplace_back(PQgetvalue(r, i, j), static_cast<std::size_t>(PQgetlength(r, i, j)));
      }
      out.push_back(std::move(row));
    }
    PQclear(r);
    return out;
  }

  Status exec(const std::string& sql) { return rows(sql).status(); }

  // The first column of the first row.
  StatusOr<std::string> value(const std::string& sql) {
    auto r = rows(sql);
    if (!r.ok()) return r.status();
    if (r->empty() || r->front().empty()) return not_found_error(fmt::format("{}: no rows", sql));
    return r->front().front();
  }

  std::string literal(std::string_view text) {
    char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
    std::string out = quoted ? quoted : "NULL";
    PQfreemem(quoted);
    return out;
  }

 private:
  PGconn* conn_;
};

// Waits (bounded) until `done` holds, polling: for state another process
// reaches in its own time (a session ending, a backend blocking on a lock).
template <typename Predicate>
bool eventually(Predicate done, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A database of its own for one test, created from the maintenance
// connection (S3R_TEST_PG_DSN) and dropped, sessions and all, at the end.
class TestDatabase {
 public:
  // `options`: CREATE DATABASE options, e.g. "ENCODING 'LATIN1' ...".
  static StatusOr<std::unique_ptr<TestDatabase>> create(const std::string& options = "") {
    const std::string base = pg_base_dsn();
    if (base.empty()) return pg_missing();
    auto admin = std::make_unique<PgConnection>(base);
    S3R_RETURN_IF_ERROR(admin->status());
    static std::atomic<int> counter{0};
    std::random_device random;
    const std::string name = fmt::format("s3r_t_{}_{}_{:08x}", ::getpid(), counter++, random());
    S3R_RETURN_IF_ERROR(admin->exec(fmt::format("CREATE DATABASE \"{}\" {}", name, options)));
    return std::unique_ptr<TestDatabase>(new TestDatabase(std::move(admin), name, dsn_with(base, "dbname", name)));
  }

  ~TestDatabase() { admin_->exec(fmt::format("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", name_)).ignore_error(); }

  const std::string& name() const { return name_; }
  const std::string& dsn() const { return dsn_; }
  PgConnection& admin() { return *admin_; }

  // Ends every session on this database (pg_terminate_backend) and waits
  // until they are gone. Returns how many there were.
  StatusOr<int> terminate_sessions() {
    auto pids = admin_->rows(fmt::format(
        "SELECT pid FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()", admin_->literal(name_)));
    if (!pids.ok()) return pids.status();
    for (const auto& row : *pids) S3R_RETURN_IF_ERROR(admin_->exec("SELECT pg_terminate_backend(" + row[0] + ")"));
    const bool gone = eventually([&] {
      auto left = admin_->value(
          fmt::format("SELECT count(*) FROM pg_stat_activity WHERE datname = {} AND pid <> pg_backend_pid()",
                      admin_->literal(name_)));
      return left.ok() && *left == "0";
    });
    if (!gone) return internal_error("terminated sessions did not end within 30 s");
    return static_cast<int>(pids->size());
  }

 private:
  TestDatabase(std::unique_ptr<PgConnection> admin, std::string name, std::string dsn)
      : admin_(std::move(admin)), name_(std::move(name)), dsn_(std::move(dsn)) {}

  std::unique_ptr<PgConnection> admin_;
  std::string name_;
  std::string dsn_;
};

// The one PostgreSQL fixture: a test with a database of its own (db_),
// dropped at the end, or a skip when no server is configured (a failure
// under S3R_REQUIRE_PG=1). A fixture that needs more calls SetUp() first
// and returns when IsSkipped() or HasFatalFailure().
class PgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::create();
    if (!db.ok() && db.status().code() == StatusCode::kUnavailable) GTEST_SKIP() << db.status().message();
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(*db);
  }
  bool ready() const { return !IsSkipped() && !HasFatalFailure(); }

  std::unique_ptr<TestDatabase> db_;
};

}  // namespace s3reconcile::testing
