// End to end: the s3reconcile binary on a folder and a SQLite index.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "fakes.h"

#include "s3/http_client.h"
#include "s3reconcile/sqlite_store.h"
#include "support/child_process.h"
#include "support/fake_http_server.h"
#include "support/layouts.h"
#include "support/pass_records_cli.h"
#include "support/run_tool.h"
#include "support/sqlite_exec.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::KeySet;
using testing::read_stderr;
using testing::run_tool;
using testing::TempDir;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(24);

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"photos/keep", "photos/new1", "photos/sub/new2", "docs/keep2", "docs/new3", "loose"}) {
      dir_.write(std::string("objs/") + f, 3);
    }
    {
      auto store = open_sqlite_store(SqliteStoreOptions{db()});
      ASSERT_TRUE(store.ok());
      for (const char* k : {"photos/keep", "photos/stale1", "photos/stale2", "docs/keep2", "docs/stale3"}) {
        ASSERT_TRUE((*store)->insert_if_absent("disk-1", testing::entry(k, 3), kOld).ok());
      }
      ASSERT_TRUE((*store)->insert_if_absent("retired", testing::entry("photos/elsewhere"), kOld).ok());
    }
    write_config(
        "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
        "  - name: disk-1\n    type: local\n    path: objs\n");
  }

  void write_config(const std::string& text) { std::ofstream(dir_.path() / "config.yaml") << text; }
  std::string config() const { return (dir_.path() / "config.yaml").string(); }
  std::string db_path() const { return db(); }

  // Starts `serve` on the config in a child process, stderr to serve.err.
  pid_t start_serve() const {
    const pid_t child = ::fork();
    if (child == 0) {
      if (!::freopen((dir_.path() / "serve.err").c_str(), "w", stderr)) ::_exit(126);
      ::execl(S3R_BINARY, S3R_BINARY, "serve", "--config", config().c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return child;
  }
  std::string db() const { return (dir_.path() / "index.db").string(); }

  KeySet rows(const std::string& backend) {
    KeySet out;
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    EXPECT_TRUE(store.ok());
    auto page = list_rows_by_storage_key(**store, backend, RowPosition{"", std::nullopt}, 100000, KeyRange{});
    EXPECT_TRUE(page.ok());
    for (const auto& r : *page) out.insert(r.object_key);
    return out;
  }

  // The counts of one virtual bucket from the pass over its backend, with
  // the pass's own fields (status, error, ranges, api_pages) beside them.
  nlohmann::json pass(const nlohmann::json& doc, const std::string& bucket) {
    for (const auto& p : doc["passes"]) {
      for (const auto& b : p["buckets"]) {
        if (b["bucket"] != bucket) continue;
        nlohmann::json merged = b;
        for (const char* field : {"backend", "status", "error", "ranges", "api_pages", "prefix"})
          merged[field] = p[field];
        return merged;
      }
    }
    ADD_FAILURE() << "no counts for bucket " << bucket << " in " << doc.dump();
    return {};
  }

  TempDir dir_;
};

TEST_F(CliTest, RunImportsAndRemovesExactlyTheDrift) {
  auto o = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["status"], "ok");
  // One pass for the backend (both buckets and the loose file, one walk),
  // its counts per bucket beside its totals.
  ASSERT_EQ(doc["passes"].size(), 1u);
  for (const auto& p : doc["passes"]) {
    for (const char* field : {"backend", "bucket", "prefix", "status", "error", "listed", "rows", "imported", "removed",
                              "already_present", "import_failed", "delete_failed", "collisions", "pending_delete",
                              "orphans_reported", "api_pages", "duration_ms", "buckets"}) {
      EXPECT_TRUE(p.contains(field)) << field;
    }
    EXPECT_EQ(p["listed"], 6);
    EXPECT_EQ(p["imported"], 4);
    EXPECT_EQ(p["removed"], 3);
    EXPECT_EQ(p["api_pages"], 1);  // six files, one page: each key listed once
  }
  auto photos = pass(doc, "photos");
  EXPECT_EQ(photos["backend"], "disk-1");
  EXPECT_EQ(photos["status"], "ok");
  EXPECT_EQ(photos["imported"], 3);  // new1, sub/new2 and the adopted loose file
  EXPECT_EQ(photos["removed"], 2);
  EXPECT_EQ(photos["listed"], 4);
  EXPECT_EQ(photos["rows"], 3);
  auto docs = pass(doc, "docs");
  EXPECT_EQ(docs["imported"], 1);
  EXPECT_EQ(docs["removed"], 1);
  EXPECT_EQ(rows("disk-1"),
            (KeySet{"docs/keep2", "docs/new3", "photos/keep", "photos/loose", "photos/new1", "photos/sub/new2"}));
  EXPECT_EQ(rows("retired"), (KeySet{"photos/elsewhere"})) << "other backends' rows are not touched";

  // A second run right after changes nothing.
  auto again = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(again.exit_code, 0);
  auto doc2 = nlohmann::json::parse(again.out);
  for (const auto& p : doc2["passes"]) {
    EXPECT_EQ(p["imported"], 0);
    EXPECT_EQ(p["removed"], 0);
  }
}

TEST_F(CliTest, ParallelismSplitsThePassAndChangesNothingInTheResult) {
  // Enough rows for the index to split bucket photos at its quantiles.
  {
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 40; ++i) {
      dir_.write(fmt::format("objs/photos/many/{:02}", i), 3);
      if (i % 4 == 0) continue;  // an orphan
      ASSERT_TRUE(
          (*store)->insert_if_absent("disk-1", testing::entry(fmt::format("photos/many/{:02}", i), 3), kOld).ok());
    }
  }
  auto o = run_tool(dir_, "run --config " + config() + " --parallelism 4 --output json");
  ASSERT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  auto doc = nlohmann::json::parse(o.out);
  auto photos = pass(doc, "photos");
  EXPECT_EQ(photos["ranges"], 4);
  EXPECT_EQ(photos["imported"], 3 + 10);
  EXPECT_EQ(photos["removed"], 2);
  EXPECT_EQ(photos["listed"], 4 + 40);
  EXPECT_NE(read_stderr(dir_).find("pass split pass_id="), std::string::npos) << read_stderr(dir_);
  EXPECT_NE(read_stderr(dir_).find(" backend=disk-1 bucket=\"\" paths=\"\" ranges=4 by=index"), std::string::npos)
      << read_stderr(dir_);
  KeySet expected = {"docs/keep2", "docs/new3", "photos/keep", "photos/loose", "photos/new1", "photos/sub/new2"};
  for (int i = 0; i < 40; ++i) expected.insert(fmt::format("photos/many/{:02}", i));
  EXPECT_EQ(rows("disk-1"), expected);
  // The config's setting is the default; the flag's range is checked.
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\nreconcile:\n  parallelism: 3\n");
  auto from_config = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(from_config.exit_code, 0) << read_stderr(dir_);
  EXPECT_EQ(pass(nlohmann::json::parse(from_config.out), "photos")["ranges"], 3);
  EXPECT_EQ(run_tool(dir_, "run --config " + config() + " --parallelism 0").exit_code, 2);
}

TEST_F(CliTest, AConsistentIndexWhoseRowsLiveAtOtherPathsIsClean) {
  const auto rows_at = testing::write_rows_at_other_paths(dir_, "layout");
  {
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    ASSERT_TRUE(store.ok());
    testing::seed_rows(**store, "disk-2", rows_at, kOld);
  }
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-2\n    type: local\n    path: layout\n");
  const KeySet before = rows("disk-2");
  testing::expect_clean_and_unchanged(dir_, config());
  EXPECT_EQ(rows("disk-2"), before);
}

TEST_F(CliTest, PathsTheServiceIsDeletingAreNotImportedAndABadQueryExitsTwo) {
  ASSERT_TRUE(testing::exec_on(db(),
                               "CREATE TABLE cleanup_queue (storage_key TEXT, backend_name TEXT);"
                               "INSERT INTO cleanup_queue VALUES ('photos/new1', 'disk-1'), ('loose', 'disk-1');")
                  .ok());
  auto with_query = [&](const std::string& query) {
    write_config("store:\n  sqlite: index.db\n  pending_delete_query: \"" + query +
                 "\"\nbuckets: [photos, docs]\nbackends:\n  - name: disk-1\n    type: local\n    path: objs\n");
  };
  with_query("SELECT 1 FROM cleanup_quue WHERE storage_key = $1");
  auto bad = run_tool(dir_, "run --config " + config() + " --output json");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(read_stderr(dir_).find("store.pending_delete_query \"SELECT 1 FROM cleanup_quue"), std::string::npos)
      << read_stderr(dir_);
  EXPECT_NE(read_stderr(dir_).find("no such table: cleanup_quue"), std::string::npos) << read_stderr(dir_);

  with_query("SELECT 1 FROM cleanup_queue WHERE storage_key = $1 AND backend_name = $2");
  auto dry = run_tool(dir_, "run --config " + config() + " --dry-run --output json");
  ASSERT_EQ(dry.exit_code, 0) << dry.out << read_stderr(dir_);
  EXPECT_EQ(pass(nlohmann::json::parse(dry.out), "photos")["pending_delete"], 2) << "a dry run holds them back too";
  EXPECT_EQ(pass(nlohmann::json::parse(dry.out), "photos")["imported"], 1);
  auto o = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  auto photos = pass(nlohmann::json::parse(o.out), "photos");
  EXPECT_EQ(photos["pending_delete"], 2);  // photos/new1, and loose (it would have been adopted)
  EXPECT_EQ(photos["imported"], 1);        // only sub/new2
  EXPECT_FALSE(rows("disk-1").count("photos/new1"));
  EXPECT_FALSE(rows("disk-1").count("photos/loose"));
  EXPECT_TRUE(rows("disk-1").count("photos/sub/new2"));
}

TEST_F(CliTest, OrphansReportedAreListedInDiffAndNeverImported) {
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\n    orphans: report\n");
  const KeySet before = rows("disk-1");
  auto diff = run_tool(dir_, "diff --config " + config());
  ASSERT_EQ(diff.exit_code, 0) << read_stderr(dir_);
  std::set<std::string> lines;
  std::istringstream in(diff.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    lines.insert(j["action"].get<std::string>() + " " + j["storage_key"].get<std::string>());
  }
  EXPECT_EQ(lines,
            (std::set<std::string>{"orphan photos/new1", "orphan photos/sub/new2", "orphan loose", "orphan docs/new3",
                                   "remove photos/stale1", "remove photos/stale2", "remove docs/stale3"}));
  auto o = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(o.exit_code, 0);
  const auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["passes"][0]["orphans_reported"], 4);
  EXPECT_EQ(doc["passes"][0]["imported"], 0);
  EXPECT_EQ(doc["passes"][0]["removed"], 3) << "removals work the same under report";
  EXPECT_FALSE(rows("disk-1").count("photos/new1"));
  EXPECT_EQ(run_tool(dir_, "check --config " + config()).exit_code, 3) << "reported orphans are drift";
}

TEST_F(CliTest, PrefixNarrowsThePassToPathsUnderIt) {
  auto o = run_tool(dir_, "run --config " + config() + " --prefix photos/s --output json");
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  auto doc = nlohmann::json::parse(o.out);
  ASSERT_EQ(doc["passes"].size(), 1u);
  EXPECT_EQ(doc["passes"][0]["prefix"], "photos/s");
  EXPECT_EQ(doc["passes"][0]["imported"], 1);  // photos/sub/new2
  EXPECT_EQ(doc["passes"][0]["removed"], 2);   // photos/stale1 and photos/stale2
  EXPECT_FALSE(rows("disk-1").count("photos/new1")) << "outside the prefix";
  EXPECT_TRUE(rows("disk-1").count("docs/stale3")) << "outside the prefix";
  EXPECT_EQ(run_tool(dir_, "run --config " + config() + " --prefix p --bucket photos").exit_code, 2);
}

// The change log is "enough to undo the pass": one that cannot be written
// fails the pass before its next batch is applied, naming the file and why.
TEST_F(CliTest, AChangeLogThatCannotBeWrittenFailsThePass) {
  for (int i = 0; i < 2000; ++i) dir_.write(fmt::format("objs/photos/bulk/{:04}", i));
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\nreconcile:\n  batch_size: 100\n");
  auto o = run_tool(dir_, "run --config " + config() + " --changes /dev/full --output json");
  EXPECT_EQ(o.exit_code, 1) << o.out;
  const auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["status"], "error");
  const std::string error = doc["passes"][0]["error"].get<std::string>();
  EXPECT_NE(error.find("cannot write the change log \"/dev/full\": No space left on device"), std::string::npos)
      << error;
  // The first batch went in before its lines failed to land; the pass
  // stopped there, far short of the 2,000 imports it had to make.
  const auto imported = doc["passes"][0]["imported"].get<int>();
  EXPECT_GE(imported, 1);
  EXPECT_LE(imported, 300) << "batches were applied after the change log failed";
  EXPECT_LE(rows("disk-1").size(), 310u);
}

// SIGTERM during a statement SQLite is slow to finish interrupts it
// (sqlite3_interrupt): the tool exits within seconds.
TEST_F(CliTest, SigtermInterruptsASlowSqliteStatement) {
  write_config(
      "store:\n  sqlite: index.db\n  pending_delete_query: \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
      "SELECT x + 1 FROM c WHERE x < CASE WHEN $1 = '' THEN 1 ELSE 4000000000 END) SELECT 1 FROM c WHERE x < "
      "0\"\nbuckets: [photos, docs]\nbackends:\n  - name: disk-1\n    type: local\n    path: objs\n");
  testing::ChildProcess tool({S3R_BINARY, "run", "--config", config()}, (dir_.path() / "out.txt").string(),
                             (dir_.path() / "err.txt").string());
  // The pass reaches its first orphan's query well within this; the query
  // alone would take minutes.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(tool.running()) << tool.err();
  const auto [exit_code, took] = tool.stop_with(SIGTERM);
  EXPECT_LT(took, std::chrono::seconds(10)) << "the tool waited for the statement to finish";
  EXPECT_NE(exit_code, 0);
  EXPECT_FALSE(rows("disk-1").count("photos/new1"));
  std::cout << "[ figures  ] SIGTERM to exit during a long SQLite statement: " << took.count() << " ms\n";
}

// A created_at that is not a time is an error of its row, the same in a dry
// run and a real one: neither kept for ever as "too new" nor removed.
TEST_F(CliTest, ARowWhoseCreatedAtIsNotATimeFailsAloneTheSameInCheckAndRun) {
  ASSERT_TRUE(testing::exec_on(db(),
                               "INSERT INTO object_locations VALUES ('photos/odd1', 'disk-1', 'photos/odd1', 1, "
                               "'yesterday'), ('photos/odd2', 'disk-1', 'photos/odd2', 1, '2026-01-01 00:00:00')")
                  .ok());
  auto dry = run_tool(dir_, "run --config " + config() + " --dry-run --output json");
  ASSERT_EQ(dry.exit_code, 0) << dry.out << read_stderr(dir_);
  auto real = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(real.exit_code, 0) << real.out << read_stderr(dir_);
  const auto d = nlohmann::json::parse(dry.out)["passes"][0];
  const auto r = nlohmann::json::parse(real.out)["passes"][0];
  EXPECT_EQ(r["delete_failed"], 2) << r;
  EXPECT_EQ(d["delete_failed"], r["delete_failed"]) << d;
  EXPECT_EQ(d["removed"], r["removed"]);
  EXPECT_EQ(d["too_new"], 0);
  EXPECT_EQ(r["too_new"], 0);
  EXPECT_TRUE(rows("disk-1").count("photos/odd1"));
  EXPECT_TRUE(rows("disk-1").count("photos/odd2"));
  EXPECT_NE(read_stderr(dir_).find("created_at \\\"yesterday\\\" is not a time"), std::string::npos)
      << read_stderr(dir_);
}

TEST_F(CliTest, DryRunChangesNothingAndReportsTheSameCounts) {
  const KeySet before = rows("disk-1");
  auto dry = run_tool(dir_, "run --config " + config() + " --dry-run --output json");
  ASSERT_EQ(dry.exit_code, 0) << read_stderr(dir_);
  EXPECT_EQ(rows("disk-1"), before);
  auto real = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(real.exit_code, 0);
  auto d = nlohmann::json::parse(dry.out);
  auto r = nlohmann::json::parse(real.out);
  EXPECT_EQ(d["dry_run"], true);
  for (const char* bucket : {"photos", "docs"}) {
    EXPECT_EQ(pass(d, bucket)["imported"], pass(r, bucket)["imported"]) << bucket;
    EXPECT_EQ(pass(d, bucket)["removed"], pass(r, bucket)["removed"]) << bucket;
  }
  EXPECT_GT(pass(d, "photos")["imported"].get<int>(), 0);
}

TEST_F(CliTest, TextOutputIsATable) {
  auto o = run_tool(dir_, "run --config " + config());
  ASSERT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("BACKEND"), std::string::npos);
  EXPECT_NE(o.out.find("disk-1"), std::string::npos);
  EXPECT_NE(read_stderr(dir_).find("backend=disk-1 paths=\"\" bucket=photos key=\"photos/stale1\""), std::string::npos)
      << read_stderr(dir_);
}

TEST_F(CliTest, BackendAndBucketNarrowThePass) {
  auto o = run_tool(dir_, "run --config " + config() + " --bucket docs --output json");
  ASSERT_EQ(o.exit_code, 0);
  auto doc = nlohmann::json::parse(o.out);
  ASSERT_EQ(doc["passes"].size(), 1u);
  EXPECT_EQ(doc["passes"][0]["bucket"], "docs");
  EXPECT_TRUE(rows("disk-1").count("photos/stale1")) << "photos was not reconciled";
  EXPECT_EQ(run_tool(dir_, "run --config " + config() + " --backend nope").exit_code, 2);
  EXPECT_EQ(run_tool(dir_, "run --config " + config() + " --bucket nope").exit_code, 2);
}

TEST_F(CliTest, MissingFolderFailsThePassAndRemovesNothing) {
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: missing-folder\n");
  const KeySet before = rows("disk-1");
  auto o = run_tool(dir_, "run --config " + config() + " --output json");
  EXPECT_EQ(o.exit_code, 1);
  auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["status"], "error");
  ASSERT_EQ(doc["passes"].size(), 1u);
  EXPECT_NE(doc["passes"][0]["error"].get<std::string>().find("missing-folder"), std::string::npos);
  EXPECT_EQ(rows("disk-1"), before);
}

TEST_F(CliTest, BadConfigExitsTwoNamingTheField) {
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n  - name: disk-1\n    type: local\n    paht: objs\n");
  auto o = run_tool(dir_, "run --config " + config());
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(read_stderr(dir_).find("config.yaml:7: backends[0].paht: unknown field"), std::string::npos)
      << read_stderr(dir_);
}

TEST_F(CliTest, DiffPrintsOneJsonObjectPerDriftingKeyAndChangesNothing) {
  const KeySet before = rows("disk-1");
  auto o = run_tool(dir_, "diff --config " + config());
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  EXPECT_EQ(rows("disk-1"), before);
  std::set<std::string> lines;
  std::istringstream in(o.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["backend"], "disk-1");
    EXPECT_TRUE(j.contains("size"));
    lines.insert(j["action"].get<std::string>() + " " + j["key"].get<std::string>());
  }
  EXPECT_EQ(lines, (std::set<std::string>{"import photos/new1", "import photos/sub/new2", "import photos/loose",
                                          "import docs/new3", "remove photos/stale1", "remove photos/stale2",
                                          "remove docs/stale3"}));
}

TEST_F(CliTest, CheckExitsThreeOnDriftAndZeroWhenClean) {
  auto drift = run_tool(dir_, "check --config " + config() + " --output json");
  EXPECT_EQ(drift.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(drift.out)["dry_run"], true);
  ASSERT_EQ(run_tool(dir_, "run --config " + config()).exit_code, 0);
  auto clean = run_tool(dir_, "check --config " + config());
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
}

TEST_F(CliTest, JsonLogsAreOneObjectPerLineWithFields) {
  auto o = run_tool(dir_, "run --config " + config() + " --log-format json");
  ASSERT_EQ(o.exit_code, 0);
  std::istringstream in(read_stderr(dir_));
  int removals = 0, summaries = 0;
  std::set<std::string> pass_ids;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);  // throws (fails the test) if any line is not JSON
    EXPECT_TRUE(j["time"].is_string());
    EXPECT_TRUE(j["level"].is_string());
    // Every line of the pass says which pass, backend and bucket it is about.
    ASSERT_TRUE(j["pass_id"].is_string()) << line;
    pass_ids.insert(j["pass_id"].get<std::string>());
    EXPECT_EQ(j["backend"], "disk-1") << line;
    EXPECT_TRUE(j["bucket"].is_string()) << line;
    if (j["event"] == "removed") {
      ++removals;
      const std::string key = j["key"].get<std::string>();
      EXPECT_TRUE(key.starts_with("photos/stale") || key == "docs/stale3") << key;
      EXPECT_EQ(j["bucket"], key.substr(0, key.find('/'))) << line;
      EXPECT_EQ(j["dry_run"], false) << line;  // a boolean, not "false"
    }
    if (j["event"] == "pass done") {
      ++summaries;
      EXPECT_EQ(j["imported"], 4) << line;
      EXPECT_EQ(j["removed"], 3) << line;
      EXPECT_TRUE(j["duration_ms"].is_number_integer()) << line;
      EXPECT_EQ(j["dry_run"], false) << line;
    }
  }
  EXPECT_EQ(pass_ids.size(), 1u);  // one pass, one id on all its lines
  EXPECT_FALSE(pass_ids.begin()->empty());
  EXPECT_EQ(removals, 3);
  EXPECT_EQ(summaries, 1);  // one pass: the backend
}

TEST_F(CliTest, NoProgressLineWhenStderrIsNotATerminal) {
  auto o = run_tool(dir_, "run --config " + config() + " --log-level warn");
  ASSERT_EQ(o.exit_code, 0);
  EXPECT_EQ(read_stderr(dir_).find("keys/s"), std::string::npos);
}

TEST_F(CliTest, EmptyFolderRemovesNothingUnlessAllowed) {
  std::filesystem::remove_all(dir_.path() / "objs");
  std::filesystem::create_directories(dir_.path() / "objs");
  const KeySet before = rows("disk-1");
  auto refused = run_tool(dir_, "run --config " + config() + " --output json");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("--allow-empty-listing"), std::string::npos) << refused.out;
  EXPECT_EQ(rows("disk-1"), before);
  auto allowed = run_tool(dir_, "run --config " + config() + " --allow-empty-listing");
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
  EXPECT_TRUE(rows("disk-1").empty());
}

TEST_F(CliTest, MaxRemovalsFlagAndConfigStopRemovals) {
  auto limited = run_tool(dir_, "run --config " + config() + " --max-removals 1 --output json");
  EXPECT_EQ(limited.exit_code, 1);
  int removed = 0;
  const auto doc = nlohmann::json::parse(limited.out);
  for (const auto& p : doc["passes"]) removed += p["removed"].get<int>();
  EXPECT_EQ(removed, 1) << "one pass over the backend, stopped after its first removal";
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\nreconcile:\n  max_removals: 5\n");
  EXPECT_EQ(run_tool(dir_, "run --config " + config()).exit_code, 0);
}

TEST_F(CliTest, ChangeLogRecordsEveryChangeMade) {
  const std::string log = (dir_.path() / "changes.jsonl").string();
  auto o = run_tool(dir_, "run --config " + config() + " --changes " + log);
  ASSERT_EQ(o.exit_code, 0);
  std::ifstream in(log);
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["dry_run"], false);
    EXPECT_TRUE(j.contains("storage_key") && j.contains("size") && j.contains("time") && j.contains("bucket"));
    seen.insert(j["action"].get<std::string>() + " " + j["key"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"import photos/new1", "import photos/sub/new2", "import photos/loose",
                                         "import docs/new3", "remove photos/stale1", "remove photos/stale2",
                                         "remove docs/stale3"}));
  EXPECT_EQ(run_tool(dir_, "run --config " + config() + " --changes /nonexistent/dir/x.jsonl").exit_code, 2);
}

// GET http://127.0.0.1:port/path; status 0 when nothing answers.
std::pair<long, std::string> http_get(int port, const std::string& path) {
  s3::HttpClient client(s3::HttpOptions{std::chrono::milliseconds(500), std::chrono::milliseconds(2000), true, ""});
  auto r = client.perform("GET", "http://127.0.0.1:" + std::to_string(port) + path, {}, {});
  if (!r.ok()) return {0, r.status().to_string()};
  return {r->status, r->body};
}

// Polls `path` until its body contains `text` (at most ~20 s).
bool wait_for(int port, const std::string& path, const std::string& text) {
  for (int i = 0; i < 200; ++i) {
    if (http_get(port, path).second.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_F(CliTest, ServeRunsPassesExposesMetricsReloadsAndStopsCleanly) {
  const int port = testing::unused_loopback_port();
  auto serve_config = [&](const std::string& buckets) {
    write_config("store:\n  sqlite: index.db\nbuckets: " + buckets +
                 "\nbackends:\n"
                 "  - name: disk-1\n    type: local\n    path: objs\n"
                 "serve:\n  interval: 1s\n  listen: 127.0.0.1:" +
                 std::to_string(port) + "\n");
  };
  serve_config("[photos]");
  const pid_t child = start_serve();
  ASSERT_GT(child, 0);
  // With a 1-second interval, two passes happen and /metrics counts them.
  const bool metrics = wait_for(port, "/metrics", "s3reconcile_passes_total{backend=\"disk-1\",result=\"ok\"} 2");
  const std::string after_two = http_get(port, "/metrics").second;
  auto health = http_get(port, "/healthz");
  // Reload: the docs bucket appears in the next rounds.
  serve_config("[photos, docs]");
  ::kill(child, SIGHUP);
  const bool reloaded = wait_for(port, "/metrics", "s3reconcile_keys_listed_total{backend=\"disk-1\",bucket=\"docs\"}");
  const auto body = http_get(port, "/metrics").second;
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(metrics) << after_two;
  EXPECT_NE(after_two.find("# TYPE s3reconcile_passes_total counter"), std::string::npos);
  // new1, sub/new2 and loose, plus docs/new3: with docs not yet a known
  // bucket, it is an unprefixed path adopted into photos. docs/keep2 is not:
  // the row docs/keep2 already points at that path.
  EXPECT_NE(after_two.find("s3reconcile_imported_total{backend=\"disk-1\",bucket=\"photos\"} 4"), std::string::npos)
      << after_two;
  EXPECT_EQ(health.first, 200);
  EXPECT_NE(health.second.find("\"status\":\"ok\""), std::string::npos) << health.second;
  EXPECT_TRUE(reloaded);
  for (const char* family :
       {"s3reconcile_keys_listed_total", "s3reconcile_rows_scanned_total", "s3reconcile_imported_total",
        "s3reconcile_removed_total", "s3reconcile_failures_total", "s3reconcile_api_pages_total",
        "s3reconcile_pass_duration_seconds", "s3reconcile_last_success_timestamp_seconds"}) {
    EXPECT_NE(body.find(family), std::string::npos) << family;
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream err(dir_.path() / "serve.err");
  const std::string log((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(log.find("config reloaded"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
  // docs/new3 was adopted as photos/docs/new3 before docs was known; that
  // row points at the bytes, so the reloaded pass (matching paths) keeps it.
  EXPECT_TRUE(rows("disk-1").count("photos/docs/new3"));
  EXPECT_FALSE(rows("disk-1").count("docs/new3")) << "a path already indexed is never imported twice";
}

// Connections that connect and send nothing must not keep a probe from its
// answer.
TEST_F(CliTest, ServeAnswersHealthAndMetricsWhileIdleClientsHoldConnections) {
  const int port = testing::unused_loopback_port();
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\n"
      "serve:\n  interval: 1h\n  listen: 127.0.0.1:" +
      std::to_string(port) + "\n");
  const pid_t child = start_serve();
  ASSERT_GT(child, 0);
  ASSERT_TRUE(wait_for(port, "/livez", "ok")) << "serve did not start";
  std::vector<int> idle;
  for (int i = 0; i < 6; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    idle.push_back(fd);  // connected, and silent
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto health = http_get(port, "/healthz");  // 2 s at most, or it fails
  const auto metrics = http_get(port, "/metrics");
  for (int fd : idle) ::close(fd);
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(health.first, 200) << health.second;
  EXPECT_EQ(metrics.first, 200) << metrics.second;
}

TEST_F(CliTest, ServeSigtermDuringAPassExitsZeroPromptlyAndLeavesTheIndexConsistent) {
  // The backend's listing hangs, so SIGTERM lands while a pass is in flight.
  testing::FakeHttpServer hung([](const testing::FakeRequest&) { return testing::FakeResponse{200, "", {}, true}; });
  ::setenv("S3R_CLI_KEY", "AKIDCLI", 1);
  ::setenv("S3R_CLI_SECRET", "cli-secret", 1);
  const int port = testing::unused_loopback_port();
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: s3-hung\n    type: s3\n    endpoint: " +
      hung.endpoint() +
      "\n    bucket: phys\n"
      "    addressing: path\n    request_timeout: 10m\n"
      "    credentials: {access_key_env: S3R_CLI_KEY, secret_key_env: S3R_CLI_SECRET}\n"
      "serve:\n  interval: 1s\n  listen: 127.0.0.1:" +
      std::to_string(port) + "\n");
  const KeySet before = rows("disk-1");
  const pid_t child = start_serve();
  ASSERT_GT(child, 0);
  for (int i = 0; i < 200 && hung.requests() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GT(hung.requests(), 0) << "serve never started a pass";
  const auto sent = std::chrono::steady_clock::now();
  ::kill(child, SIGTERM);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 100 && done == 0; ++i) {  // up to ~10 s
    done = ::waitpid(child, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (done == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "serve did not stop within 10 s of SIGTERM";
  }
  const auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::cout << "serve stopped " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms after SIGTERM during a hung listing\n";
  EXPECT_EQ(rows("disk-1"), before);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* check = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &check, nullptr);
  ASSERT_EQ(sqlite3_step(check), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check, 0)), "ok");
  sqlite3_finalize(check);
  sqlite3_close(db);
}

TEST_F(CliTest, NoSecretInAnyOutput) {
  const std::string secret = "TOP-SECRET-9f8e7d6c";
  const std::string token = "SESSION-TOKEN-5a4b3c";
  ::setenv("S3R_LEAK_KEY", "AKIDLEAK", 1);
  ::setenv("S3R_LEAK_SECRET", secret.c_str(), 1);
  ::setenv("S3R_LEAK_TOKEN", token.c_str(), 1);
  testing::FakeHttpServer forbidden([](const testing::FakeRequest&) {
    return testing::FakeResponse{403,
                                 "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
                                 "calculated does not match</Message><RequestId>r-1</RequestId></Error>",
                                 {}};
  });
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\n"
      "  - name: s3-leak\n    type: s3\n    endpoint: " +
      forbidden.endpoint() +
      "\n    bucket: phys\n"
      "    addressing: path\n    max_attempts: 1\n"
      "    credentials: {access_key_env: S3R_LEAK_KEY, secret_key_env: S3R_LEAK_SECRET, "
      "session_token_env: S3R_LEAK_TOKEN}\n");
  std::string everything;
  const std::vector<std::string> commands = {
      "run --log-level trace --output json", "run --log-level trace --log-format json", "diff --log-level trace",
      "check --log-level trace --output json",
      "run --dry-run --log-level trace --changes " + (dir_.path() / "c.jsonl").string()};
  for (const auto& args : commands) {
    auto o = run_tool(dir_, args + " --config " + config());
    EXPECT_EQ(o.exit_code, 1) << args;  // the S3 backend fails every time
    everything += o.out + read_stderr(dir_);
  }
  EXPECT_NE(everything.find("SignatureDoesNotMatch"), std::string::npos) << "the failure itself is reported";
  std::ifstream changes(dir_.path() / "c.jsonl");
  everything += std::string((std::istreambuf_iterator<char>(changes)), {});
  EXPECT_EQ(everything.find(secret), std::string::npos) << "the secret leaked";
  EXPECT_EQ(everything.find(token), std::string::npos) << "the session token leaked";
}

TEST_F(CliTest, ServeRejectsABadConfigOrAddress) {
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: objs}\n"
      "serve: {interval: never}\n");
  EXPECT_EQ(run_tool(dir_, "serve --config " + config()).exit_code, 2);
  EXPECT_NE(read_stderr(dir_).find("serve.interval"), std::string::npos);
  testing::FakeHttpServer taken([](const testing::FakeRequest&) { return testing::FakeResponse{}; });
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: objs}\n"
      "serve: {listen: \"127.0.0.1:" +
      std::to_string(taken.port()) + "\"}\n");
  EXPECT_EQ(run_tool(dir_, "serve --config " + config()).exit_code, 2);
  EXPECT_NE(read_stderr(dir_).find("cannot listen"), std::string::npos) << read_stderr(dir_);
}

TEST_F(CliTest, MigrateCreatesTheSchemaAndPrintsItsVersion) {
  write_config(
      "store:\n  sqlite: fresh.db\nbuckets: [photos]\nbackends:\n  - name: disk-1\n    type: local\n    path: objs\n");
  auto o = run_tool(dir_, "migrate --config " + config());
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  const std::string fresh = (dir_.path() / "fresh.db").string();
  EXPECT_NE(o.out.find("sqlite " + fresh), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("schema version " + std::to_string(sqlite_schema_version())), std::string::npos) << o.out;
  ASSERT_TRUE(std::filesystem::exists(fresh));
  EXPECT_EQ(sqlite_schema_version(), 4) << "version 3 adds the pass records, 4 the resume points";
  EXPECT_TRUE(testing::exec_on(fresh, "SELECT count(*) FROM s3reconcile_pass_records").ok());
  EXPECT_EQ(run_tool(dir_, "migrate --config " + config()).exit_code, 0) << "migrating twice is fine";

  sqlite3* db = nullptr;
  sqlite3_open(fresh.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto newer = run_tool(dir_, "migrate --config " + config());
  EXPECT_EQ(newer.exit_code, 1);
  EXPECT_NE(read_stderr(dir_).find("schema version 7"), std::string::npos) << read_stderr(dir_);

  EXPECT_EQ(run_tool(dir_, "migrate").exit_code, 2);
  write_config("store:\n  sqlite: fresh.db\nbuckets: [photos]\n");
  EXPECT_EQ(run_tool(dir_, "migrate --config " + config()).exit_code, 2);
}

TEST_F(CliTest, EveryPassIsRecordedAndStatusShowsThem) {
  write_config(
      "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
      "  - name: disk-1\n    type: local\n    path: objs\n"
      "  - name: missing\n    type: local\n    path: no-such-folder\n");
  testing::expect_passes_recorded_and_shown(dir_, config());
  const auto status = nlohmann::json::parse(run_tool(dir_, "status --output json --config " + config()).out);
  EXPECT_EQ(status["passes"].size(), 0u) << "no shared passes without a ledger";
}

TEST_F(CliTest, PassHistoryOlderThanItsKeepGoesAfterTheNextPassAndZeroKeepsAll) {
  dir_.write("objs/photos/a", 3);
  const std::string rest = "buckets: [photos]\nbackends:\n  - name: disk-1\n    type: local\n    path: objs\n";
  write_config("store:\n  sqlite: index.db\n  keep_pass_history: 24h\n" + rest);
  auto open = [this]() -> std::unique_ptr<IndexStore> {
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(*store) : nullptr;
  };
  testing::expect_history_older_than_a_day_pruned(dir_, config(), open);

  // keep_pass_history: 0 keeps a record however old.
  write_config("store:\n  sqlite: index.db\n  keep_pass_history: 0\n" + rest);
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    PassRecord old;
    old.pass_id = "a-year-ago";
    old.backend = "disk-1";
    old.started_at = Clock::now() - std::chrono::hours(24 * 365);
    old.finished_at = old.started_at + std::chrono::minutes(1);
    old.outcome = "ok";
    ASSERT_TRUE(store->pass_records()->finish(old).ok());
  }
  ASSERT_EQ(run_tool(dir_, "run --config " + config()).exit_code, 0) << read_stderr(dir_);
  EXPECT_EQ(read_stderr(dir_).find("pass history pruned"), std::string::npos) << read_stderr(dir_);
  const auto status = nlohmann::json::parse(run_tool(dir_, "status --output json --config " + config()).out);
  const auto records = testing::records_of(status, "disk-1");
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["pass_id"], "a-year-ago") << status.dump(1);
}

// The record is for the operator: a store refusing it costs a warning, never the pass.
TEST_F(CliTest, APassRecordThatCannotBeWrittenIsAWarningAndThePassStillRuns) {
  ASSERT_TRUE(run_tool(dir_, "migrate --config " + config()).exit_code == 0);
  ASSERT_TRUE(testing::exec_on(db(),
                               "CREATE TRIGGER refuse BEFORE INSERT ON s3reconcile_pass_records "
                               "BEGIN SELECT RAISE(ABORT, 'records refused'); END")
                  .ok());
  auto o = run_tool(dir_, "run --output json --config " + config());
  ASSERT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  EXPECT_EQ(nlohmann::json::parse(o.out)["passes"][0]["imported"], 4);
  EXPECT_NE(read_stderr(dir_).find("pass record not written"), std::string::npos) << read_stderr(dir_);
  EXPECT_NE(read_stderr(dir_).find("records refused"), std::string::npos) << read_stderr(dir_);
  EXPECT_EQ(rows("disk-1").size(), 6u) << "the pass did its work";
}

TEST_F(CliTest, DiffExitCodeSaysWhetherThereIsDrift) {
  EXPECT_EQ(run_tool(dir_, "diff --config " + config()).exit_code, 0) << "without the flag, as before";
  EXPECT_EQ(run_tool(dir_, "diff --exit-code --config " + config()).exit_code, 3);
  ASSERT_EQ(run_tool(dir_, "run --config " + config()).exit_code, 0);
  auto clean = run_tool(dir_, "diff --exit-code --config " + config());
  EXPECT_EQ(clean.exit_code, 0) << clean.out << read_stderr(dir_);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run_tool(dir_, "").exit_code, 2);
  EXPECT_EQ(run_tool(dir_, "run").exit_code, 2);
  EXPECT_EQ(run_tool(dir_, "run --config " + config() + " --output yaml").exit_code, 2);
  EXPECT_EQ(run_tool(dir_, "frobnicate").exit_code, 2);
  EXPECT_EQ(run_tool(dir_, "run --config /nonexistent.yaml").exit_code, 2);
  auto v = run_tool(dir_, "version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("s3reconcile"), std::string::npos);
}

}  // namespace
}  // namespace s3reconcile
