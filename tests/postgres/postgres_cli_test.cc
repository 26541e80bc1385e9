// End to end: the s3reconcile binary on a folder and a PostgreSQL index whose
// database sorts text by locale (en_US.UTF-8), not by bytes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "fakes.h"
#include "postgres/pg_test_support.h"
#include "s3/http_client.h"
#include "s3reconcile/postgres_store.h"
#include "support/child_process.h"
#include "support/layouts.h"
#include "support/pass_records_cli.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::KeySet;
using testing::PgConnection;
using testing::read_stderr;
using testing::run_tool;
using testing::TempDir;
using testing::TestDatabase;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(24);
constexpr const char* kSecret = "pg-Secret-7f3a-never-printed";

class PostgresCliTest : public testing::PgDatabaseTest {
 protected:
  void SetUp() override {
    PgDatabaseTest::SetUp();
    if (!ready()) return;
    // The password goes through the environment, as an operator would pass it.
    ::setenv("S3R_TEST_PG_PASSWORD", kSecret, 1);
    ::setenv("S3R_TEST_PG_RUN_DSN", db_->dsn().c_str(), 1);
    write_config("\"${S3R_TEST_PG_RUN_DSN} password=${S3R_TEST_PG_PASSWORD}\"");
  }

  void write_config(const std::string& dsn_yaml, const std::string& more_backends = "") {
    std::ofstream(dir_.path() / "config.yaml") << "store:\n  postgres: " << dsn_yaml
                                               << "\nbuckets: [photos, docs]\nbackends:\n"
                                                  "  - name: disk-1\n    type: local\n    path: objs\n"
                                               << more_backends << "reconcile:\n  page_size: 2\n  batch_size: 3\n";
  }
  std::string config() const { return (dir_.path() / "config.yaml").string(); }

  std::unique_ptr<IndexStore> store() {
    auto s = open_postgres_store(PostgresStoreOptions{db_->dsn()});
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(*s) : nullptr;
  }

  KeySet rows(const std::string& backend) {
    KeySet out;
    auto s = store();
    if (!s) return out;
    auto page = list_rows_by_storage_key(*s, backend, RowPosition{"", std::nullopt}, 100000, KeyRange{});
    EXPECT_TRUE(page.ok());
    if (page.ok()) {
      for (const auto& r : *page) out.insert(r.object_key);
    }
    return out;
  }

  // Neither stdout nor stderr may show the password.
  void expect_no_secret(const testing::ToolOutcome& o) {
    EXPECT_EQ(o.out.find(kSecret), std::string::npos) << o.out;
    EXPECT_EQ(read_stderr(dir_).find(kSecret), std::string::npos) << read_stderr(dir_);
  }

  nlohmann::json converge(const std::string& flags);

  TempDir dir_;
};

// Runs `run <extra flags>` twice over keys a locale sorts apart from byte
// order: the first pass converges, the second changes nothing. Returns the
// first report.
TEST_F(PostgresCliTest, RunOverKeysALocaleMisordersConvergesInOnePassAndTheNextChangesNothing) {
  auto doc = converge(" --parallelism 1");
  for (const auto& p : doc["passes"]) EXPECT_EQ(p["ranges"], 1) << p;
}

// The index splits the bucket at its own key quantiles, which must be in
// byte order whatever the database's collation, or ranges would overlap.
TEST_F(PostgresCliTest, ParallelRangesSplitAtByteOrderQuantilesAndGiveTheSameResult) {
  auto doc = converge(" --parallelism 5");
  ASSERT_EQ(doc["passes"].size(), 1u);  // one pass over the backend, split in five
  EXPECT_EQ(doc["passes"][0]["ranges"], 5) << doc;
}

TEST_F(PostgresCliTest, AConsistentIndexWhoseRowsLiveAtOtherPathsIsClean) {
  const auto rows_at = testing::write_rows_at_other_paths(dir_, "objs");
  {
    auto s = store();
    ASSERT_NE(s, nullptr);
    testing::seed_rows(*s, "disk-1", rows_at, kOld);
  }
  const KeySet before = rows("disk-1");
  testing::expect_clean_and_unchanged(dir_, config());
  EXPECT_EQ(rows("disk-1"), before);
}

// A stop reaches a statement the server is slow to answer: SIGTERM during a
// query that would sleep a minute cancels it (PQcancel) and the tool exits
// within seconds, not when the server is done.
TEST_F(PostgresCliTest, SigtermCancelsASlowQueryInFlight) {
  std::ofstream(dir_.path() / "config.yaml")
      << "store:\n  postgres: \"${S3R_TEST_PG_RUN_DSN}\"\n"
      << "  pending_delete_query: \"SELECT 1 FROM pg_sleep(CASE WHEN $1 = '' THEN 0 ELSE 60 END) WHERE random() < 0\"\n"
      << "buckets: [photos]\nbackends:\n  - name: disk-1\n    type: local\n    path: objs\n";
  dir_.write("objs/photos/orphan");
  testing::ChildProcess tool({S3R_BINARY, "run", "--config", config()}, (dir_.path() / "out.txt").string(),
                             (dir_.path() / "err.txt").string());
  PgConnection side(db_->dsn());
  const std::string sleeping =
      "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FROM pg_sleep(CASE%' AND state = 'active' "
      "AND pid <> pg_backend_pid()";
  auto count_of = [&](const std::string& sql) {
    auto v = side.value(sql);
    return v.ok() ? *v : std::string("?");
  };
  bool blocked = false;
  for (int i = 0; i < 200 && !blocked; ++i) {
    blocked = count_of(sleeping) == "1";
    if (!blocked) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(blocked) << "the pass never reached the slow query: " << tool.err();
  const auto [exit_code, took] = tool.stop_with(SIGTERM);
  EXPECT_LT(took, std::chrono::seconds(10)) << "the tool waited for the server";
  EXPECT_NE(exit_code, 0);
  EXPECT_EQ(count_of(sleeping), "0") << "the query still runs on the server";
  EXPECT_FALSE(rows("disk-1").count("photos/orphan"));
  std::cout << "[ figures  ] SIGTERM to exit during a 60 s query: " << took.count() << " ms\n";
}

TEST_F(PostgresCliTest, ABadPendingDeleteQueryExitsTwoNamingIt) {
  std::ofstream(dir_.path() / "config.yaml")
      << "store:\n  postgres: \"${S3R_TEST_PG_RUN_DSN}\"\n"
      << "  pending_delete_query: \"SELECT 1 FROM cleanup_quue WHERE storage_key = $1\"\n"
      << "buckets: [photos]\nbackends:\n  - name: disk-1\n    type: local\n    path: objs\n";
  dir_.write("objs/photos/x");
  auto o = run_tool(dir_, "run --config " + config());
  EXPECT_EQ(o.exit_code, 2) << o.out;
  EXPECT_NE(read_stderr(dir_).find("store.pending_delete_query \"SELECT 1 FROM cleanup_quue"), std::string::npos)
      << read_stderr(dir_);
  EXPECT_NE(read_stderr(dir_).find("cleanup_quue\" does not exist"), std::string::npos) << read_stderr(dir_);
}

nlohmann::json PostgresCliTest::converge(const std::string& flags) {
  // On the folder: names a locale sorts apart from byte order.
  const std::vector<std::string> files = {
      "a-b", "ab", "aB", "a_b",          "a b",   "e",     "\xc3\xa9", "\xc3\x89t\xc3\xa9",
      "f",   "Z",  "z",  "\xe2\x82\xac", "sub/x", "sub-x", "sub_x"};
  for (const auto& f : files) dir_.write("objs/photos/" + f, 4);
  dir_.write("objs/docs/d\xc3\xa9j\xc3\xa0", 1);
  dir_.write("objs/loose-\xc3\xa9", 1);  // adopted into photos
  {
    auto s = store();
    if (!s) {
      ADD_FAILURE() << "no store";
      return {};
    }
    // Indexed already: some of them. Stale: rows whose objects are gone.
    for (const char* k : {"photos/ab", "photos/a_b", "photos/\xc3\xa9", "photos/sub/x"}) {
      EXPECT_TRUE(s->insert_if_absent("disk-1", testing::entry(k, 4), kOld).ok());
    }
    for (const char* k : {"photos/a.b", "photos/aC", "photos/\xc3\xa8", "photos/sub.x", "docs/old", "photos/A"}) {
      EXPECT_TRUE(s->insert_if_absent("disk-1", testing::entry(k, 4), kOld).ok());
    }
    EXPECT_TRUE(s->insert_if_absent("retired", testing::entry("photos/elsewhere"), kOld).ok());
  }

  auto o = run_tool(dir_, "run --config " + config() + flags + " --output json");
  EXPECT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  if (o.exit_code != 0) return {};
  expect_no_secret(o);
  auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["status"], "ok");
  std::uint64_t imported = 0, removed = 0;
  for (const auto& p : doc["passes"]) {
    EXPECT_EQ(p["status"], "ok") << p;
    EXPECT_EQ(p["import_failed"], 0);
    EXPECT_EQ(p["delete_failed"], 0);
    imported += p["imported"].get<std::uint64_t>();
    removed += p["removed"].get<std::uint64_t>();
  }
  EXPECT_EQ(imported, files.size() - 4 + 2);  // the unindexed files, the doc and the adopted loose file
  EXPECT_EQ(removed, 6u);

  KeySet expected;
  for (const auto& f : files) expected.insert("photos/" + f);
  expected.insert("docs/d\xc3\xa9j\xc3\xa0");
  expected.insert("photos/loose-\xc3\xa9");
  EXPECT_EQ(rows("disk-1"), expected);
  EXPECT_EQ(rows("retired"), (KeySet{"photos/elsewhere"})) << "other backends' rows are not touched";

  auto again = run_tool(dir_, "run --config " + config() + flags + " --output json");
  EXPECT_EQ(again.exit_code, 0) << read_stderr(dir_);
  if (again.exit_code != 0) return {};
  const auto doc2 = nlohmann::json::parse(again.out);  // outlives the loop: range-for keeps no temporary alive
  for (const auto& p : doc2["passes"]) {
    EXPECT_EQ(p["imported"], 0) << p;
    EXPECT_EQ(p["removed"], 0) << p;
    EXPECT_EQ(p["already_present"], 0) << p;
  }
  EXPECT_EQ(rows("disk-1"), expected);
  return doc;
}

TEST_F(PostgresCliTest, EveryPassIsRecordedAndStatusShowsThem) {
  write_config("\"${S3R_TEST_PG_RUN_DSN} password=${S3R_TEST_PG_PASSWORD}\"",
               "  - name: missing\n    type: local\n    path: no-such-folder\n");
  for (const char* f : {"photos/keep", "photos/new1", "docs/new2"}) dir_.write(std::string("objs/") + f, 3);
  {
    auto s = store();
    ASSERT_NE(s, nullptr);
    for (const char* k : {"photos/keep", "photos/stale1", "docs/stale2"}) {
      ASSERT_TRUE(s->insert_if_absent("disk-1", testing::entry(k, 3), kOld).ok());
    }
  }
  testing::expect_passes_recorded_and_shown(dir_, config());

  // A shared pass is recorded under its ledger id, which status shows both ways.
  dir_.write("objs/photos/new3", 3);
  auto joined = run_tool(dir_, "run --join --backend disk-1 --output json --config " + config());
  ASSERT_EQ(joined.exit_code, 0) << joined.out << read_stderr(dir_);
  const auto pass = nlohmann::json::parse(joined.out)["passes"][0];
  auto shown = run_tool(dir_, "status --output json --config " + config());
  ASSERT_EQ(shown.exit_code, 0) << read_stderr(dir_);
  expect_no_secret(shown);
  const auto status = nlohmann::json::parse(shown.out);
  ASSERT_EQ(status["passes"].size(), 1u) << status.dump(1);
  const auto disk = testing::records_of(status, "disk-1");
  ASSERT_EQ(disk.size(), 5u) << status.dump(1);
  EXPECT_EQ(disk[0]["shared"], true);
  EXPECT_EQ(disk[0]["pass_id"], std::to_string(status["passes"][0]["pass"].get<std::int64_t>()));
  EXPECT_EQ(disk[0]["pass_id"], pass["pass_id"]);
  EXPECT_EQ(disk[0]["outcome"], "ok");
  EXPECT_EQ(disk[0]["counts"]["imported"], 1);
  EXPECT_EQ(disk[0]["counts"]["listed"], pass["listed"]);
  auto text = run_tool(dir_, "status --config " + config());
  EXPECT_NE(text.out.find("kind=run shared outcome=ok"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("pass " + disk[0]["pass_id"].get<std::string>() + " backend=disk-1"), std::string::npos)
      << text.out;
}

TEST_F(PostgresCliTest, PassHistoryOlderThanItsKeepGoesSharedPassesToo) {
  write_config("\"${S3R_TEST_PG_RUN_DSN} password=${S3R_TEST_PG_PASSWORD}\"\n  keep_pass_history: 24h");
  dir_.write("objs/photos/a", 3);
  testing::expect_history_older_than_a_day_pruned(dir_, config(), [this] { return store(); });

  // A settled shared pass, with its ranges, goes the same way.
  auto joined = run_tool(dir_, "run --join --config " + config());
  ASSERT_EQ(joined.exit_code, 0) << read_stderr(dir_);
  PgConnection side(db_->dsn());
  ASSERT_EQ(*side.value("SELECT count(*) FROM s3reconcile_passes WHERE state = 'done'"), "1");
  ASSERT_TRUE(side.exec("UPDATE s3reconcile_passes SET finished_at = now() - interval '25 hours'").ok());
  auto next = run_tool(dir_, "run --config " + config());
  ASSERT_EQ(next.exit_code, 0) << read_stderr(dir_);
  EXPECT_NE(read_stderr(dir_).find(" shared_passes=1 "), std::string::npos) << read_stderr(dir_);
  EXPECT_EQ(*side.value("SELECT count(*) FROM s3reconcile_passes"), "0");
  EXPECT_EQ(*side.value("SELECT count(*) FROM s3reconcile_ranges"), "0");
}

TEST_F(PostgresCliTest, MigrateCreatesTheSchemaAndPrintsItsVersion) {
  auto o = run_tool(dir_, "migrate --config " + config());
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  EXPECT_NE(o.out.find("dbname=" + db_->name()), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("schema version " + std::to_string(postgres_schema_version())), std::string::npos) << o.out;
  expect_no_secret(o);
  PgConnection side(db_->dsn());
  EXPECT_EQ(*side.value("SELECT version FROM s3reconcile_schema"), std::to_string(postgres_schema_version()));
  EXPECT_EQ(*side.value("SELECT to_regclass('object_locations') IS NOT NULL"), "t");
  EXPECT_EQ(postgres_schema_version(), 5) << "version 4 adds the pass records, 5 the resume points";
  EXPECT_EQ(*side.value("SELECT to_regclass('s3reconcile_pass_records') IS NOT NULL"), "t");
  EXPECT_EQ(*side.value("SELECT to_regclass('s3reconcile_resume_points') IS NOT NULL"), "t");

  // Again: nothing to do, same answer.
  EXPECT_EQ(run_tool(dir_, "migrate --config " + config()).exit_code, 0);
  ASSERT_TRUE(side.exec("UPDATE s3reconcile_schema SET version = 42").ok());
  auto newer = run_tool(dir_, "migrate --config " + config());
  EXPECT_EQ(newer.exit_code, 1);
  EXPECT_NE(read_stderr(dir_).find("schema version 42"), std::string::npos) << read_stderr(dir_);
  expect_no_secret(newer);
}

TEST_F(PostgresCliTest, AnUnreachableIndexExitsOneAMalformedOneTwoNeverWithThePassword) {
  ::setenv("S3R_TEST_PG_RUN_DSN", testing::dsn_with(db_->dsn(), "port", "1").c_str(), 1);
  auto refused = run_tool(dir_, "run --config " + config() + " --output json");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(read_stderr(dir_).find("port=1"), std::string::npos) << read_stderr(dir_);
  expect_no_secret(refused);
  EXPECT_EQ(run_tool(dir_, "migrate --config " + config()).exit_code, 1);

  write_config("\"host=127.0.0.1 password ${S3R_TEST_PG_PASSWORD}\"");
  auto malformed = run_tool(dir_, "run --config " + config());
  EXPECT_EQ(malformed.exit_code, 2) << "a connection string that does not parse is a configuration error";
  EXPECT_NE(read_stderr(dir_).find("connection string"), std::string::npos) << read_stderr(dir_);
  expect_no_secret(malformed);
}

// Two serve instances on one PostgreSQL index: the per-backend advisory lock
// lets only one of them reconcile a backend at a time.
TEST_F(PostgresCliTest, TwoServeInstancesNeverReconcileTheSameBackendAtOnce) {
  for (const char* backend : {"a", "b"}) {
    for (int i = 0; i < 3000; ++i) {
      const auto path = dir_.path() / fmt::format("objs-{}/photos/{:05}", backend, i);
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path) << "x";
    }
  }
  auto config_for = [&](int instance) {
    const auto file = dir_.path() / fmt::format("serve-{}.yaml", instance);
    std::ofstream(file) << "store:\n  postgres: \"${S3R_TEST_PG_RUN_DSN} password=${S3R_TEST_PG_PASSWORD}\"\n"
                        << "buckets: [photos, docs]\nbackends:\n"
                        << "  - {name: disk-a, type: local, path: objs-a}\n"
                        << "  - {name: disk-b, type: local, path: objs-b}\n"
                        << "reconcile: {batch_size: 50}\n"
                        << "serve: {interval: 200ms, listen: \"127.0.0.1:" << testing::unused_loopback_port()
                        << "\"}\n";
    return file.string();
  };
  std::vector<pid_t> children;
  for (int instance = 0; instance < 2; ++instance) {
    const std::string config = config_for(instance);
    const std::string log = (dir_.path() / fmt::format("serve-{}.log", instance)).string();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (!::freopen(log.c_str(), "w", stderr)) ::_exit(126);
      ::execl(S3R_BINARY, S3R_BINARY, "serve", "--config", config.c_str(), "--log-format", "json",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    children.push_back(child);
  }
  std::this_thread::sleep_for(std::chrono::seconds(4));  // several rounds each
  for (pid_t child : children) ::kill(child, SIGTERM);
  for (pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // Each pass's [started, done] interval, per instance and backend.
  struct Interval {
    std::string start, end;
  };
  std::map<std::string, std::vector<Interval>> by_backend[2];
  int passes = 0, skips = 0;
  for (int instance = 0; instance < 2; ++instance) {
    std::ifstream in(dir_.path() / fmt::format("serve-{}.log", instance));
    std::map<std::string, std::string> open;  // backend/bucket -> start time
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      const std::string event = j.value("event", "");
      if (event == "skipped") ++skips;
      if (!j.contains("backend") || !j.contains("paths")) continue;
      const std::string id = j["backend"].get<std::string>() + "/" + j["paths"].get<std::string>();
      if (event == "pass started") open[id] = j["time"];
      if ((event == "pass done" || event == "pass failed") && open.count(id)) {
        by_backend[instance][j["backend"].get<std::string>()].push_back({open[id], j["time"]});
        open.erase(id);
        ++passes;
      }
    }
  }
  for (const char* backend : {"disk-a", "disk-b"}) {
    for (const auto& x : by_backend[0][backend]) {
      for (const auto& y : by_backend[1][backend]) {
        EXPECT_TRUE(x.end <= y.start || y.end <= x.start)
            << backend << " reconciled by both instances at once: [" << x.start << ", " << x.end << "] and [" << y.start
            << ", " << y.end << "]";
      }
    }
    EXPECT_FALSE(by_backend[0][backend].empty() && by_backend[1][backend].empty()) << backend << " never ran";
  }
  std::cout << "two serve instances: " << passes << " passes, " << skips << " backends skipped as locked\n";
  EXPECT_GT(passes, 4);
}

}  // namespace
}  // namespace s3reconcile

namespace s3reconcile {
namespace {

// GET http://127.0.0.1:port/path: status and body; 0 when nothing answers.
std::pair<long, std::string> get(int port, const std::string& path) {
  s3::HttpClient client(s3::HttpOptions{std::chrono::milliseconds(500), std::chrono::seconds(5), true, ""});
  auto r = client.perform("GET", "http://127.0.0.1:" + std::to_string(port) + path, {}, {});
  return r.ok() ? std::pair<long, std::string>{r->status, r->body} : std::pair<long, std::string>{0, ""};
}

// serve sharing its passes through the PostgreSQL ledger: health read from
// the index's records, and the shared pass's ranges in /v1/passes and on the
// status page.
TEST_F(PostgresCliTest, ServeShowsASharedPassWithItsRangesAndIsHealthy) {
  if (!ready()) GTEST_SKIP();
  for (int i = 0; i < 400; ++i) {
    const auto path = dir_.path() / fmt::format("objs/photos/{:04}", i);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << "x";
  }
  const int port = testing::unused_loopback_port();
  std::ofstream(dir_.path() / "serve.yaml")
      << "store:\n  postgres: \"${S3R_TEST_PG_RUN_DSN} password=${S3R_TEST_PG_PASSWORD}\"\n"
      << "buckets: [photos]\nbackends:\n"
      << "  - {name: disk-1, type: local, path: " << (dir_.path() / "objs").string() << "}\nreconcile: {ranges: 4}\n"
      << "serve: {interval: 1h, join: true, listen: \"127.0.0.1:" << port << "\"}\n";
  testing::ChildProcess serve({S3R_BINARY, "serve", "--config", (dir_.path() / "serve.yaml").string()},
                              (dir_.path() / "serve.out").string(), (dir_.path() / "serve.err").string());
  nlohmann::json view;
  for (int i = 0; i < 300; ++i) {
    view = nlohmann::json::parse(get(port, "/v1/passes").second, nullptr, false);
    if (view.is_object() && !view["backends"][0]["shared"].empty() &&
        view["backends"][0]["shared"][0]["state"] == "done")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(view.is_object()) << serve.err();
  ASSERT_FALSE(view["backends"][0]["shared"].empty()) << view.dump() << serve.err();
  const auto& shared = view["backends"][0]["shared"][0];
  EXPECT_EQ(shared["state"], "done") << shared.dump();
  EXPECT_GE(shared["ranges"].size(), 2u) << shared.dump();
  EXPECT_EQ(shared["counts"]["imported"], 400) << shared.dump();
  ASSERT_FALSE(view["backends"][0]["recent"].empty());
  EXPECT_EQ(view["backends"][0]["recent"][0]["shared"], true);
  EXPECT_EQ(view["backends"][0]["recent"][0]["pass_id"], shared["pass"].dump()) << "recorded under the ledger's id";

  const auto page = get(port, "/");
  EXPECT_EQ(page.first, 200);
  EXPECT_NE(page.second.find("Shared pass " + shared["pass"].dump()), std::string::npos) << page.second;
  std::size_t ranges_shown = 0;
  for (std::size_t at = page.second.find("<tr data-range="); at != std::string::npos;
       at = page.second.find("<tr data-range=", at + 1)) {
    ++ranges_shown;
  }
  EXPECT_EQ(ranges_shown, shared["ranges"].size());
  const auto health = get(port, "/healthz");
  EXPECT_EQ(health.first, 200) << health.second;

  // Those readers, and every one after, share one connection that serve
  // keeps: once the round's own connections close, it is the only one left.
  PgConnection side(db_->dsn());
  const std::string serves =
      "SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()";
  std::string kept;
  for (int i = 0; i < 100; ++i) {
    kept = *side.value(serves);
    if (!kept.empty() && kept.find(',') == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(kept.empty()) << "no connection kept between requests";
  ASSERT_EQ(kept.find(','), std::string::npos) << "serve's connections: " << kept;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(get(port, "/v1/passes").first, 200);
    EXPECT_EQ(get(port, "/").first, 200);
  }
  EXPECT_EQ(*side.value(serves), kept) << "the same connection, no other";

  // The server ends it (as a restart or an idle timeout would): the next
  // reader gets a new one, not its error.
  ASSERT_EQ(*side.value("SELECT pg_terminate_backend(" + kept + ")"), "t");
  for (int i = 0; i < 100 && *side.value("SELECT count(*) FROM pg_stat_activity WHERE pid = " + kept) != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the signal is taken asynchronously
  }
  const auto after_kill = get(port, "/v1/passes");
  EXPECT_EQ(after_kill.first, 200);
  EXPECT_TRUE(nlohmann::json::parse(after_kill.second, nullptr, false)["index_error"].is_null()) << after_kill.second;
  const std::string replaced = *side.value(serves);
  EXPECT_FALSE(replaced.empty());
  EXPECT_NE(replaced, kept);
  serve.kill(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.err();
}

}  // namespace
}  // namespace s3reconcile
