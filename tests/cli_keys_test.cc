// Keys that are not UTF-8 (Latin-1 file names, arbitrary S3 key bytes) go
// through diff, the change log, JSON logs and undo byte for byte.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "cli/json_bytes.h"
#include "fakes.h"
#include "s3reconcile/sqlite_store.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::read_stderr;
using testing::run_tool;
using testing::TempDir;

using Row = std::tuple<std::string, std::string, std::int64_t>;  // object_key, storage_key, size

const std::string kBadByte = "photos/bad\xff.bin";         // 0xFF is never UTF-8
const std::string kLatin1 = "photos/caf\xe9.txt";          // é in Latin-1
const std::string kUtf8 = "photos/\xc3\xa9t\xc3\xa9.txt";  // été, valid UTF-8
const std::string kStaleBad = "photos/gone\xfe\x80";
const std::string kOverlong = "photos/slash\xc0\xaf";  // an overlong '/', which must not pass as UTF-8

class CliKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& f : {std::string("photos/ok.jpg"), kBadByte, kLatin1, kUtf8}) dir_.write("objs/" + f, 3);
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    ASSERT_TRUE(store.ok());
    const auto old = Clock::now() - std::chrono::hours(24);
    for (const std::string& k : {std::string("photos/ok.jpg"), kStaleBad, kOverlong, std::string("photos/gone")}) {
      ASSERT_TRUE((*store)->insert_if_absent("disk", testing::entry(k, 3), old).ok());
    }
    std::ofstream(dir_.path() / "config.yaml") << "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n  - name: "
                                                  "disk\n    type: local\n    path: objs\n";
  }

  std::string db() const { return (dir_.path() / "index.db").string(); }
  std::string config() const { return (dir_.path() / "config.yaml").string(); }
  std::string log() const { return (dir_.path() / "changes.jsonl").string(); }

  std::set<Row> rows() const {
    std::set<Row> out;
    auto store = open_sqlite_store(SqliteStoreOptions{db()});
    EXPECT_TRUE(store.ok());
    auto page = list_rows_by_storage_key(**store, "disk", RowPosition{"", std::nullopt}, 1000, KeyRange{});
    EXPECT_TRUE(page.ok());
    for (const auto& r : *page) out.emplace(r.object_key, r.storage_key, r.size_bytes);
    return out;
  }

  // The exact key bytes of each JSON line of `text` with a "key".
  static std::set<std::string> keys_in(const std::string& text) {
    std::set<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line);
      if (!j.contains("key")) continue;
      auto key = cli::get_bytes(j, "key");
      EXPECT_TRUE(key.ok()) << line;
      if (key.ok()) out.insert(*key);
      // No key is ever replaced by U+FFFD.
      EXPECT_EQ(line.find("\xef\xbf\xbd"), std::string::npos) << line;
    }
    return out;
  }

  TempDir dir_;
};

TEST(JsonBytes, Utf8IsKeptAndAnythingElseRoundTripsThroughBase64) {
  for (const std::string& text :
       {std::string("plain"), kUtf8, std::string("\xf0\x9f\x93\xb7"), std::string("nul\0in", 6)}) {
    nlohmann::ordered_json j;
    cli::put_bytes(j, "key", text);
    EXPECT_EQ(j["key"], text);
    EXPECT_FALSE(j.contains("key_b64"));
  }
  for (const std::string& bytes : {kBadByte, kLatin1, kStaleBad, kOverlong, std::string("\xed\xa0\x80"),
                                   std::string("\xf4\x90\x80\x80"), std::string("\xe2\x82"), std::string("\x80")}) {
    nlohmann::ordered_json j;
    cli::put_bytes(j, "key", bytes);
    ASSERT_TRUE(j.contains("key_b64")) << j.dump();
    EXPECT_FALSE(cli::valid_utf8(bytes));
    const auto back = cli::get_bytes(nlohmann::json::parse(j.dump()), "key");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes);
  }
  nlohmann::ordered_json j;
  cli::put_bytes(j, "key", kBadByte);
  EXPECT_EQ(j["key"], "photos/bad\\xff.bin");  // readable, and marked as not the bytes
  EXPECT_FALSE(cli::get_bytes(nlohmann::json{{"key", "k"}, {"key_b64", "%%%"}}, "key").ok());
}

TEST_F(CliKeysTest, DiffPrintsEveryKeyExactly) {
  auto o = run_tool(dir_, "diff --config " + config());
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  EXPECT_EQ(keys_in(o.out), (std::set<std::string>{kBadByte, kLatin1, kUtf8, kStaleBad, kOverlong, "photos/gone"}));
}

TEST_F(CliKeysTest, JsonLogsCarryKeysExactly) {
  auto o = run_tool(dir_, "run --config " + config() + " --log-format json --log-level debug");
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  const std::set<std::string> logged = keys_in(read_stderr(dir_));
  for (const std::string& k : {kBadByte, kLatin1, kStaleBad, kOverlong}) {
    EXPECT_EQ(logged.count(k), 1u) << "not logged exactly: " << k;
  }
}

TEST_F(CliKeysTest, APassOverKeysThatAreNotUtf8IsUndoneExactlyFromItsChangeLog) {
  const std::set<Row> before = rows();
  auto o = run_tool(dir_, "run --config " + config() + " --changes " + log());
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  const std::set<Row> after = rows();
  ASSERT_EQ(after.count(Row{kBadByte, kBadByte, 3}), 1u);
  ASSERT_EQ(after.count(Row{kLatin1, kLatin1, 3}), 1u);
  ASSERT_EQ(after.count(Row{kStaleBad, kStaleBad, 3}), 0u);
  // A dry run's lines are in the same log and must be skipped by undo.
  ASSERT_EQ(run_tool(dir_, "diff --config " + config() + " --changes " + log()).exit_code, 0);

  o = run_tool(dir_, "undo --config " + config() + " --changes " + log() + " --dry-run");
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  EXPECT_EQ(rows(), after);  // a dry run changes nothing

  o = run_tool(dir_, "undo --config " + config() + " --changes " + log());
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  EXPECT_NE(o.out.find("3 imported rows deleted, 3 removed rows restored, 0 already undone"), std::string::npos)
      << o.out;
  EXPECT_EQ(rows(), before);

  o = run_tool(dir_, "undo --config " + config() + " --changes " + log());
  ASSERT_EQ(o.exit_code, 0);
  EXPECT_NE(o.out.find("0 imported rows deleted, 0 removed rows restored, 6 already undone"), std::string::npos)
      << o.out;
  EXPECT_EQ(rows(), before);
}

TEST_F(CliKeysTest, AMalformedChangeLogUndoesNothingAndNamesTheLine) {
  ASSERT_EQ(run_tool(dir_, "run --config " + config() + " --changes " + log()).exit_code, 0);
  const std::set<Row> after = rows();
  std::ofstream(log(), std::ios::app) << R"({"action":"remove","backend":"disk","key":"k","key_b64":"@@@@",)"
                                      << R"("storage_key":"k","size":1,"dry_run":false})"
                                      << "\n";
  auto o = run_tool(dir_, "undo --config " + config() + " --changes " + log());
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(read_stderr(dir_).find("line 7: \"key_b64\" is not base64; nothing was undone"), std::string::npos)
      << read_stderr(dir_);
  EXPECT_EQ(rows(), after);
}

TEST_F(CliKeysTest, RunOutputAndStatusCarryAPrefixThatIsNotUtf8Exactly) {
  const std::string prefix = "photos/caf\xe9";
  auto o = run_tool(dir_, "run --config " + config() + " --output json --prefix '" + prefix + "'");
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  const auto run = nlohmann::json::parse(o.out);
  EXPECT_EQ(*cli::get_bytes(run["passes"][0], "prefix"), prefix) << o.out;
  EXPECT_EQ(run["passes"][0]["imported"], 1) << o.out;  // only photos/caf\xe9.txt

  o = run_tool(dir_, "status --config " + config() + " --output json");
  ASSERT_EQ(o.exit_code, 0) << read_stderr(dir_);
  const auto status = nlohmann::json::parse(o.out);
  ASSERT_FALSE(status["records"].empty()) << o.out;
  EXPECT_EQ(*cli::get_bytes(status["records"][0], "paths"), prefix) << o.out;
}

}  // namespace
}  // namespace s3reconcile
