// One end-to-end check of the pass records, run on each store: run, diff
// and a failing pass, then status (JSON and text) must show what each did.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include "s3reconcile/index_store.h"
#include "s3reconcile/pass_records.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile::testing {

// The records status shows of `backend`, newest first.
inline nlohmann::json records_of(const nlohmann::json& status, const std::string& backend) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : status["records"]) {
    if (r["backend"] == backend) out.push_back(r);
  }
  return out;
}

// `config` names a backend "disk-1" whose folder and index have drift (no
// orphans reported) and a backend "missing" whose folder does not exist.
inline void expect_passes_recorded_and_shown(const TempDir& dir, const std::string& config) {
  const std::string c = " --config " + config;
  // diff prints the drift and, without --exit-code, exits 0 as it always did.
  auto drift = run_tool(dir, "diff --backend disk-1" + c);
  ASSERT_EQ(drift.exit_code, 0) << read_stderr(dir);
  std::uint64_t printed_imports = 0, printed_removals = 0;
  std::istringstream lines(drift.out);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    (j["action"] == "import" ? printed_imports : printed_removals) += 1;
  }
  ASSERT_GT(printed_imports + printed_removals, 0u) << "the fixture has no drift";
  EXPECT_EQ(run_tool(dir, "diff --exit-code --backend disk-1" + c).exit_code, 3) << "drift: like check";

  auto ran = run_tool(dir, "run --backend disk-1 --output json" + c);
  ASSERT_EQ(ran.exit_code, 0) << ran.out << read_stderr(dir);
  const auto run_pass = nlohmann::json::parse(ran.out)["passes"][0];
  EXPECT_EQ(run_pass["imported"], printed_imports);
  EXPECT_EQ(run_pass["removed"], printed_removals);

  auto clean = run_tool(dir, "diff --exit-code --backend disk-1" + c);
  EXPECT_EQ(clean.exit_code, 0) << clean.out << read_stderr(dir);
  EXPECT_EQ(clean.out, "");
  EXPECT_EQ(run_tool(dir, "run --backend missing" + c).exit_code, 1);

  auto shown = run_tool(dir, "status --output json" + c);
  ASSERT_EQ(shown.exit_code, 0) << shown.out << read_stderr(dir);
  const auto status = nlohmann::json::parse(shown.out);
  const auto disk = records_of(status, "disk-1");
  ASSERT_EQ(disk.size(), 4u) << status.dump(1);
  // Newest first: the clean diff, the run, the two diffs of the drift.
  EXPECT_EQ(disk[0]["kind"], "diff");
  EXPECT_EQ(disk[0]["dry_run"], true);
  EXPECT_EQ(disk[0]["counts"]["imported"], 0);
  EXPECT_EQ(disk[0]["counts"]["removed"], 0);
  EXPECT_EQ(disk[1]["kind"], "run");
  EXPECT_EQ(disk[1]["dry_run"], false);
  EXPECT_EQ(disk[1]["pass_id"], run_pass["pass_id"]) << "the record and the report name the pass alike";
  for (const auto& [name, value] : disk[1]["counts"].items()) {
    EXPECT_EQ(value, run_pass[name]) << name;
  }
  for (int i : {2, 3}) {
    EXPECT_EQ(disk[i]["kind"], "diff");
    EXPECT_EQ(disk[i]["dry_run"], true);
    EXPECT_EQ(disk[i]["counts"]["imported"], printed_imports);
    EXPECT_EQ(disk[i]["counts"]["removed"], printed_removals);
  }
  for (const auto& r : disk) {
    EXPECT_EQ(r["outcome"], "ok") << r;
    EXPECT_TRUE(r["error"].is_null()) << r;
    EXPECT_FALSE(r["finished_at"].is_null()) << r;
    EXPECT_EQ(r["shared"], false);
    EXPECT_EQ(r["paths"], "");
  }
  EXPECT_NE(disk[0]["pass_id"], disk[2]["pass_id"]);
  const auto missing = records_of(status, "missing");
  ASSERT_EQ(missing.size(), 1u) << status.dump(1);
  EXPECT_EQ(missing[0]["kind"], "run");
  EXPECT_EQ(missing[0]["outcome"], "error");
  EXPECT_NE(missing[0]["error"].get<std::string>().find("no-such-folder"), std::string::npos) << missing[0];

  // --limit keeps the latest per backend; text shows the same records.
  const auto limited = nlohmann::json::parse(run_tool(dir, "status --output json --limit 1" + c).out);
  ASSERT_EQ(records_of(limited, "disk-1").size(), 1u);
  EXPECT_EQ(records_of(limited, "disk-1")[0]["pass_id"], disk[0]["pass_id"]);
  EXPECT_EQ(records_of(limited, "missing").size(), 1u);
  auto text = run_tool(dir, "status" + c);
  ASSERT_EQ(text.exit_code, 0) << read_stderr(dir);
  EXPECT_NE(text.out.find("backend disk-1: 4 latest passes"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("pass=" + run_pass["pass_id"].get<std::string>() + " kind=run outcome=ok"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(" kind=diff dry_run outcome=ok"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("backend missing: 1 latest passes"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("outcome=error"), std::string::npos) << text.out;
}

// `config` keeps the pass history 24h (store.keep_pass_history) and names a
// backend "disk-1". Once a pass ends, the records of passes that ended over
// a day ago are gone; a record still "running" (its process was killed) and
// a recent one stay.
inline void expect_history_older_than_a_day_pruned(const TempDir& dir, const std::string& config,
                                                   const std::function<std::unique_ptr<IndexStore>()>& open) {
  const Clock::time_point now = Clock::now();
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    PassRecords* records = store->pass_records();
    ASSERT_NE(records, nullptr);
    PassRecord r;
    r.instance = "host:1";
    r.backend = "disk-1";
    r.kind = "run";
    for (const auto& [id, ended_hours_ago] : {std::pair{"two-days-ago", 48}, std::pair{"an-hour-ago", 1}}) {
      r.pass_id = id;
      r.started_at = now - std::chrono::hours(ended_hours_ago) - std::chrono::minutes(5);
      r.finished_at = now - std::chrono::hours(ended_hours_ago);
      r.outcome = "ok";
      ASSERT_TRUE(records->finish(r).ok());
    }
    r.pass_id = "killed";
    r.started_at = now - std::chrono::hours(72);
    r.finished_at.reset();
    r.outcome = "running";
    ASSERT_TRUE(records->begin(r).ok());
  }
  auto ran = run_tool(dir, "run --backend disk-1 --output json --config " + config);
  ASSERT_EQ(ran.exit_code, 0) << ran.out << read_stderr(dir);
  EXPECT_NE(read_stderr(dir).find("pass history pruned pass_records=1"), std::string::npos) << read_stderr(dir);
  const auto status = nlohmann::json::parse(run_tool(dir, "status --output json --config " + config).out);
  std::vector<std::string> ids;
  for (const auto& record : records_of(status, "disk-1")) ids.push_back(record["pass_id"].get<std::string>());
  const std::string run_id = nlohmann::json::parse(ran.out)["passes"][0]["pass_id"].get<std::string>();
  EXPECT_EQ(ids, (std::vector<std::string>{run_id, "an-hour-ago", "killed"})) << status.dump(1);
}

}  // namespace s3reconcile::testing
