// End to end, size drift and the request budget: the binary on a folder
// and a SQLite index (diff's resize lines, the change log and its undo,
// fix_sizes, budget-sized passes that continue where the last stopped).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "fakes.h"
#include "s3reconcile/sqlite_store.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::read_stderr;
using testing::run_tool;
using testing::TempDir;

const Clock::time_point kOld = Clock::now() - std::chrono::hours(24);

class CliSizesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // bkt/grew is 7 bytes on disk, 3 in the index; bkt/same agrees.
    dir_.write("objs/bkt/grew", 7);
    dir_.write("objs/bkt/same", 3);
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry("bkt/grew", 3), kOld).ok());
    ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry("bkt/same", 3), kOld).ok());
    write_config("");
  }

  void write_config(const std::string& reconcile) {
    std::ofstream(dir_.path() / "config.yaml")
        << "store:\n  sqlite: index.db\nbuckets: [bkt]\nbackends:\n  - name: disk\n    type: local\n    path: objs\n"
        << (reconcile.empty() ? "" : "reconcile:\n" + reconcile);
  }
  std::string config() const { return (dir_.path() / "config.yaml").string(); }
  std::string db() const { return (dir_.path() / "index.db").string(); }
  std::string changes() const { return (dir_.path() / "changes.jsonl").string(); }

  std::map<std::string, std::int64_t> sizes() {
    std::map<std::string, std::int64_t> out;
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    EXPECT_TRUE(store.ok());
    auto rows = list_rows_by_storage_key(**store, "disk", RowPosition{}, 100000, KeyRange{});
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows) out[r.object_key] = r.size_bytes;
    return out;
  }

  std::vector<nlohmann::json> lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(CliSizesTest, DiffPrintsAResizeWithBothSizes) {
  auto o = run_tool(dir_, "diff --config " + config() + " --exit-code");
  EXPECT_EQ(o.exit_code, 3) << "size drift is drift" << read_stderr(dir_);
  auto drift = lines(o.out);
  ASSERT_EQ(drift.size(), 1u) << o.out;
  EXPECT_EQ(drift[0]["action"], "resize");
  EXPECT_EQ(drift[0]["key"], "bkt/grew");
  EXPECT_EQ(drift[0]["index_size"], 3);
  EXPECT_EQ(drift[0]["backend_size"], 7);
  EXPECT_EQ(drift[0]["fixed"], false) << "fix_sizes is off";
  EXPECT_EQ(sizes().at("bkt/grew"), 3);
}

TEST_F(CliSizesTest, RunWithoutFixSizesCountsAndLogsButWritesNothing) {
  auto o = run_tool(dir_, "run --config " + config() + " --output json --changes " + changes());
  ASSERT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  auto doc = nlohmann::json::parse(o.out);
  EXPECT_EQ(doc["passes"][0]["size_mismatch"], 1);
  EXPECT_EQ(doc["passes"][0]["resized"], 0);
  EXPECT_EQ(sizes().at("bkt/grew"), 3);
  std::ifstream in(changes());
  std::stringstream log;
  log << in.rdbuf();
  auto logged = lines(log.str());
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0]["action"], "resize");
  EXPECT_EQ(logged[0]["fixed"], false);
  EXPECT_NE(read_stderr(dir_).find("size mismatch"), std::string::npos) << read_stderr(dir_);
}

TEST_F(CliSizesTest, FixSizesSetsTheBackendsSizeAndUndoSetsItBack) {
  write_config("  fix_sizes: true\n");
  auto dry = run_tool(dir_, "run --config " + config() + " --dry-run --output json");
  ASSERT_EQ(dry.exit_code, 0) << dry.out << read_stderr(dir_);
  EXPECT_EQ(nlohmann::json::parse(dry.out)["passes"][0]["resized"], 1);
  EXPECT_EQ(sizes().at("bkt/grew"), 3) << "a dry run writes nothing";

  auto o = run_tool(dir_, "run --config " + config() + " --output json --changes " + changes());
  ASSERT_EQ(o.exit_code, 0) << o.out << read_stderr(dir_);
  auto pass = nlohmann::json::parse(o.out)["passes"][0];
  EXPECT_EQ(pass["size_mismatch"], 1);
  EXPECT_EQ(pass["resized"], 1);
  EXPECT_EQ(sizes(), (std::map<std::string, std::int64_t>{{"bkt/grew", 7}, {"bkt/same", 3}}));
  const std::string err = read_stderr(dir_);
  EXPECT_NE(err.find("resized"), std::string::npos) << err;
  EXPECT_NE(err.find("index_size=3"), std::string::npos) << err;
  EXPECT_NE(err.find("backend_size=7"), std::string::npos) << err;

  auto check = run_tool(dir_, "check --config " + config());
  EXPECT_EQ(check.exit_code, 0) << "sizes agree now" << check.out;

  auto undo = run_tool(dir_, "undo --config " + config() + " --changes " + changes());
  ASSERT_EQ(undo.exit_code, 0) << undo.out << read_stderr(dir_);
  EXPECT_NE(undo.out.find("1 sizes set back"), std::string::npos) << undo.out;
  EXPECT_EQ(sizes().at("bkt/grew"), 3);
}

class CliBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Ten objects, listed two a page; rows: every other object missing, and
    // a stale row after each object.
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 10; ++i) {
      const std::string key = "bkt/k" + std::to_string(i);
      dir_.write("objs/" + key, 1);
      if (i % 2 == 0) {
        ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry(key, 1), kOld).ok());
      }
      ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry(key + "-stale", 1), kOld).ok());
    }
    std::ofstream(dir_.path() / "config.yaml")
        << "store:\n  sqlite: index.db\nbuckets: [bkt]\nbackends:\n  - name: disk\n    type: local\n    path: objs\n"
        << "reconcile:\n  page_size: 2\n  max_list_requests: 2\n";
  }
  std::string config() const { return (dir_.path() / "config.yaml").string(); }
  std::string db() const { return (dir_.path() / "index.db").string(); }
  std::size_t row_count() {
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    auto rows = list_rows_by_storage_key(**store, "disk", RowPosition{}, 100000, KeyRange{});
    return rows.ok() ? rows->size() : 0;
  }

  TempDir dir_;
};

TEST_F(CliBudgetTest, PassesContinueWhereTheLastStoppedUntilTheIndexAgrees) {
  std::vector<std::string> statuses;
  for (int i = 0; i < 10; ++i) {
    auto o = run_tool(dir_, "run --config " + config() + " --output json");
    ASSERT_EQ(o.exit_code, 0) << "a pass stopped at its budget is a success" << o.out << read_stderr(dir_);
    auto doc = nlohmann::json::parse(o.out);
    EXPECT_EQ(doc["status"], "ok");
    const auto& pass = doc["passes"][0];
    statuses.push_back(pass["status"]);
    EXPECT_LE(pass["api_pages"].get<int>(), 2);
    if (pass["status"] == "ok") break;
    EXPECT_EQ(pass["status"], "stopped_at_budget");
    EXPECT_TRUE(pass.contains("resume_after"));
  }
  ASSERT_GE(statuses.size(), 3u);
  EXPECT_EQ(statuses.back(), "ok") << "the end of the keys was reached";
  EXPECT_EQ(row_count(), 10u) << "every object has its row and no stale row is left";
  // Wrapped around: the next pass starts over, from the first key, and
  // finds nothing to change.
  auto o = run_tool(dir_, "run --config " + config() + " --output json");
  ASSERT_EQ(o.exit_code, 0);
  auto pass = nlohmann::json::parse(o.out)["passes"][0];
  EXPECT_EQ(pass["status"], "stopped_at_budget");
  EXPECT_EQ(pass["started_after"], "");
  EXPECT_EQ(pass["imported"].get<int>() + pass["removed"].get<int>(), 0);
  auto status = run_tool(dir_, "status --config " + config() + " --output json");
  EXPECT_NE(status.out.find("stopped_at_budget"), std::string::npos) << "the pass records say so: " << status.out;
}

TEST_F(CliBudgetTest, JoinRefusesABudget) {
  auto o = run_tool(dir_, "run --config " + config() + " --join");
  EXPECT_EQ(o.exit_code, 2) << o.out << read_stderr(dir_);
  EXPECT_NE(read_stderr(dir_).find("max_list_requests"), std::string::npos) << read_stderr(dir_);
}

}  // namespace
}  // namespace s3reconcile
