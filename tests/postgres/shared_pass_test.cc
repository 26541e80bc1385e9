// Shared passes on a real PostgreSQL with real processes: several
// `s3reconcile run --join` instances over the synthetic S3 endpoint (200,000
// generated keys), killed at will. Skips without a server unless
// S3R_REQUIRE_PG=1.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include <fmt/format.h>

#include "pg_test_support.h"
#include "s3reconcile/postgres_store.h"
#include "support/child_process.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::ChildProcess;
using testing::PgConnection;
using testing::TempDir;
using testing::TestDatabase;

constexpr int kKeys = 200000;
// The synthetic endpoint's key i, as SQL over a column i.
constexpr const char* kKeySql = "'vbk/d' || lpad((i / 10000)::text, 5, '0') || '/o' || lpad(i::text, 12, '0')";

class SharedPassTest : public testing::PgDatabaseTest {
 protected:
  void SetUp() override {
    PgDatabaseTest::SetUp();
    if (!ready()) return;
    seed(db_->dsn());
  }

  // The generated keys, less every i % 100 == 7 (orphans), plus a stale
  // row beside every i % 100 == 3.
  void seed(const std::string& dsn) {
    ASSERT_TRUE(open_postgres_store(PostgresStoreOptions{dsn}).ok());  // creates the schema
    PgConnection c(dsn);
    ASSERT_TRUE(
        c.exec(
             fmt::format("INSERT INTO object_locations (object_key, backend_name, storage_key, size_bytes, created_at) "
                         "SELECT k, 'synth', k, 1000 + i % 9000, now() - interval '1 day' FROM "
                         "(SELECT i, {} AS k FROM generate_series(0, {}) i) s WHERE i % 100 <> 7 "
                         "UNION ALL SELECT k || '-stale', 'synth', k || '-stale', 1, now() - interval '1 day' FROM "
                         "(SELECT i, {} AS k FROM generate_series(0, {}) i) s WHERE i % 100 = 3",
                         kKeySql, kKeys - 1, kKeySql, kKeys - 1))
            .ok());
  }

  void start_endpoint(int latency_ms) {
    port_ = testing::unused_loopback_port();
    endpoint_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{S3R_SYNTHETIC_S3, "--listen", fmt::format("127.0.0.1:{}", port_), "--bucket", "bench",
                                 "--keys", std::to_string(kKeys), "--key-prefix", "vbk/", "--latency-ms",
                                 std::to_string(latency_ms), "--threads", "256"},
        (dir_.path() / "endpoint.out").string(), (dir_.path() / "endpoint.err").string());
    ASSERT_TRUE(endpoint_->wait_for_output("listening on", std::chrono::seconds(30))) << endpoint_->err();
  }

  std::string write_config(const std::string& name, const std::string& dsn, int ranges, const std::string& lease,
                           int s3_page = 1000) {
    ::setenv("S3R_SYN_KEY", "s3r-test-key", 1);
    ::setenv("S3R_SYN_SECRET", "s3r-test-secret", 1);
    const auto file = dir_.path() / (name + ".yaml");
    std::ofstream(file) << "store:\n  postgres: \"" << dsn << "\"\nbuckets: [vbk]\nbackends:\n"
                        << "  - name: synth\n    type: s3\n    endpoint: http://127.0.0.1:" << port_
                        << "\n    addressing: path\n    bucket: bench\n    buckets: [vbk]\n"
                        << "    unprefixed_keys: ignore\n    page_size: " << s3_page
                        << "\n    credentials: {access_key_env: S3R_SYN_KEY, secret_key_env: S3R_SYN_SECRET}\n"
                        << "reconcile:\n  ranges: " << ranges << "\n  lease: " << lease << "\n";
    return file.string();
  }

  std::unique_ptr<ChildProcess> start_instance(const std::string& name, const std::string& config) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{S3R_BINARY, "run", "--join", "--config", config, "--output", "json"},
        (dir_.path() / (name + ".out")).string(), (dir_.path() / (name + ".err")).string());
  }

  // md5 of every key of backend synth, in byte order: equal sums, equal sets.
  static std::string index_md5(const std::string& dsn) {
    PgConnection c(dsn);
    auto v = c.value(
        "SELECT md5(string_agg(object_key, ',' ORDER BY object_key COLLATE \"C\")) FROM object_locations "
        "WHERE backend_name = 'synth'");
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : "";
  }
  std::string expected_md5() {
    PgConnection c(db_->dsn());
    auto v =
        c.value(fmt::format("SELECT md5(string_agg(k, ',' ORDER BY k COLLATE \"C\")) FROM "
                            "(SELECT {} AS k FROM generate_series(0, {}) i) s",
                            kKeySql, kKeys - 1));
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : "?";
  }

  std::vector<std::vector<std::string>> sql(const std::string& query) {
    PgConnection c(db_->dsn());
    auto r = c.rows(query);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : std::vector<std::vector<std::string>>{};
  }

  // Keys of the final index inside range `range_no`'s bounds: the range's total.
  int range_total(int range_no) {
    auto r =
        sql(fmt::format("SELECT count(*) FROM object_locations o, s3reconcile_ranges r WHERE o.backend_name = 'synth' "
                        "AND r.range_no = {} AND (r.after_key = '' OR o.object_key COLLATE \"C\" > r.after_key) "
                        "AND (r.through_key = '' OR o.object_key COLLATE \"C\" <= r.through_key)",
                        range_no));
    return r.empty() ? -1 : std::stoi(r[0][0]);
  }

  // The keys the instance listed in its "range done" line for this range
  // and attempt; -1 when there is none.
  static long listed_in(const std::string& log, int range_no, int attempt) {
    // Not std::regex: GCC 12 under ASan warns falsely inside it (-Werror).
    const std::string wanted = fmt::format(" range={} attempt={} listed=", range_no, attempt);
    for (std::size_t at = log.find("range done pass_id="); at != std::string::npos;
         at = log.find("range done pass_id=", at + 1)) {
      const std::size_t line_end = log.find('\n', at);
      const std::string line = log.substr(at, line_end == std::string::npos ? std::string::npos : line_end - at);
      const std::size_t found = line.find(wanted);
      if (found != std::string::npos) return std::stol(line.substr(found + wanted.size()));
    }
    return -1;
  }

  // Waits until some range has recorded progress; returns its number.
  int wait_for_progress() {
    int range_no = -1;
    testing::eventually(
        [&] {
          auto r =
              sql("SELECT range_no FROM s3reconcile_ranges WHERE state = 'running' AND resume_after <> '' "
                  "ORDER BY range_no LIMIT 1");
          if (!r.empty()) range_no = std::stoi(r[0][0]);
          return range_no >= 0;
        },
        std::chrono::seconds(120));
    return range_no;
  }

  void expect_pass_done_with_the_right_result(int ranges) {
    auto passes = sql("SELECT count(*), min(state) FROM s3reconcile_passes");
    ASSERT_FALSE(passes.empty());
    EXPECT_EQ(passes[0][0], "1") << "the pass was restarted instead of resumed";
    EXPECT_EQ(passes[0][1], "done");
    auto done = sql("SELECT count(*) FROM s3reconcile_ranges WHERE state = 'done'");
    ASSERT_FALSE(done.empty());
    EXPECT_EQ(std::stoi(done[0][0]), ranges);
    EXPECT_EQ(index_md5(db_->dsn()), expected_md5()) << "the index is not exactly the bucket's keys";
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> endpoint_;
  int port_ = 0;
};

TEST_F(SharedPassTest, ThreeInstancesShareAPassEachRangeOnceAndMatchASingleInstance) {
  start_endpoint(5);
  const std::string config = write_config("shared", db_->dsn(), 32, "30s");
  std::vector<std::unique_ptr<ChildProcess>> instances;
  for (int i = 0; i < 3; ++i) instances.push_back(start_instance(fmt::format("instance{}", i), config));
  std::uint64_t imported = 0, removed = 0, ranges = 0;
  int instances_that_worked = 0;
  for (auto& instance : instances) {
    ASSERT_EQ(instance->wait(), 0) << instance->err();
    auto doc = nlohmann::json::parse(instance->out());
    ASSERT_EQ(doc["passes"].size(), 1u);
    const auto pass = doc["passes"][0];
    imported += pass["imported"].get<std::uint64_t>();
    removed += pass["removed"].get<std::uint64_t>();
    ranges += pass["ranges"].get<std::uint64_t>();
    if (pass["ranges"].get<std::uint64_t>() > 0) ++instances_that_worked;
  }
  EXPECT_EQ(imported, 2000u);
  EXPECT_EQ(removed, 2000u);
  EXPECT_EQ(ranges, 32u) << "a range was worked twice, or not at all";
  EXPECT_GE(instances_that_worked, 2) << "the pass was not shared";
  expect_pass_done_with_the_right_result(32);
  auto once = sql("SELECT count(*) FROM s3reconcile_ranges WHERE attempts = 1");
  ASSERT_FALSE(once.empty());
  EXPECT_EQ(once[0][0], "32") << "every range is claimed exactly once";
  auto counted =
      sql("SELECT sum((counts->>'imported')::bigint), sum((counts->>'removed')::bigint) "
          "FROM s3reconcile_ranges");
  ASSERT_FALSE(counted.empty());
  EXPECT_EQ(counted[0][0], "2000");
  EXPECT_EQ(counted[0][1], "2000");

  // One instance alone, not joined, over the same data: the same index.
  auto single_db = TestDatabase::create();
  ASSERT_TRUE(single_db.ok()) << single_db.status().to_string();
  seed((*single_db)->dsn());
  TempDir out;
  auto single = std::make_unique<ChildProcess>(
      std::vector<std::string>{S3R_BINARY, "run", "--config", write_config("single", (*single_db)->dsn(), 1, "30s"),
                               "--output", "json"},
      (dir_.path() / "single.out").string(), (dir_.path() / "single.err").string());
  ASSERT_EQ(single->wait(), 0) << single->err();
  EXPECT_EQ(index_md5((*single_db)->dsn()), index_md5(db_->dsn()));

  // status shows the pass and its ranges.
  auto status = std::make_unique<ChildProcess>(
      std::vector<std::string>{S3R_BINARY, "status", "--config", config, "--output", "json"},
      (dir_.path() / "status.out").string(), (dir_.path() / "status.err").string());
  ASSERT_EQ(status->wait(), 0) << status->err();
  auto shown = nlohmann::json::parse(status->out());
  ASSERT_EQ(shown["passes"].size(), 1u);
  EXPECT_EQ(shown["passes"][0]["state"], "done");
  EXPECT_EQ(shown["passes"][0]["ranges"].size(), 32u);
  EXPECT_EQ(shown["passes"][0]["counts"]["imported"], 2000);
}

TEST_F(SharedPassTest, AKilledInstancesRangeIsTakenOverAndResumedAfterItsLastAppliedKey) {
  start_endpoint(2);
  // Small pages and few ranges: a range takes seconds, long enough to be
  // killed in the middle of.
  const std::string config = write_config("takeover", db_->dsn(), 4, "2s", 100);
  auto doomed = start_instance("doomed", config);
  auto survivor = start_instance("survivor", config);
  const int range_no = wait_for_progress();
  ASSERT_GE(range_no, 0) << "no range recorded progress\n" << doomed->err() << survivor->err();
  auto owner = sql(fmt::format("SELECT owner FROM s3reconcile_ranges WHERE range_no = {}", range_no));
  ASSERT_FALSE(owner.empty());
  ChildProcess* victim = owner[0][0].ends_with(":" + std::to_string(doomed->pid())) ? doomed.get() : survivor.get();
  ChildProcess* other = victim == doomed.get() ? survivor.get() : doomed.get();
  victim->kill(SIGKILL);
  victim->wait();
  ASSERT_EQ(other->wait(), 0) << other->err();
  expect_pass_done_with_the_right_result(4);
  auto attempts = sql(fmt::format("SELECT attempts FROM s3reconcile_ranges WHERE range_no = {}", range_no));
  ASSERT_FALSE(attempts.empty());
  EXPECT_EQ(attempts[0][0], "2");
  const long listed = listed_in(other->err(), range_no, 2);
  ASSERT_GE(listed, 0) << "the survivor did not finish the range\n" << other->err();
  const int total = range_total(range_no);
  EXPECT_LT(listed, total) << "the range was listed again from its start, not resumed";
  EXPECT_GT(listed, 0);
}

TEST_F(SharedPassTest, ARestartedPassResumesRatherThanRestarts) {
  start_endpoint(2);
  const std::string config = write_config("restart", db_->dsn(), 4, "1s", 100);
  auto first = start_instance("first", config);
  const int range_no = wait_for_progress();
  ASSERT_GE(range_no, 0) << first->err();
  auto before = sql("SELECT range_no, state FROM s3reconcile_ranges WHERE state = 'done'");
  first->kill(SIGKILL);
  first->wait();
  auto again = start_instance("again", config);
  ASSERT_EQ(again->wait(), 0) << again->err();
  expect_pass_done_with_the_right_result(4);
  // Ranges done before the crash are not done again.
  for (const auto& row : before) {
    auto attempts = sql("SELECT attempts FROM s3reconcile_ranges WHERE range_no = " + row[0]);
    ASSERT_FALSE(attempts.empty());
    EXPECT_EQ(attempts[0][0], "1") << "range " << row[0];
  }
  const long listed = listed_in(again->err(), range_no, 2);
  ASSERT_GE(listed, 0) << again->err();
  EXPECT_LT(listed, range_total(range_no)) << "the interrupted range started over";
}

// serve with serve.join: each round joins the running pass instead of
// taking the backend whole.
TEST_F(SharedPassTest, ServeInstancesWithJoinShareOnePass) {
  start_endpoint(5);
  std::vector<std::unique_ptr<ChildProcess>> servers;
  for (int i = 0; i < 2; ++i) {
    const std::string config = write_config(fmt::format("serve{}", i), db_->dsn(), 32, "30s");
    std::ofstream(config, std::ios::app) << "serve: {interval: 1h, join: true, listen: \"127.0.0.1:"
                                         << testing::unused_loopback_port() << "\"}\n";
    servers.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{S3R_BINARY, "serve", "--config", config},
                                                     (dir_.path() / fmt::format("serve{}.out", i)).string(),
                                                     (dir_.path() / fmt::format("serve{}.err", i)).string()));
  }
  const bool done = testing::eventually(
      [&] {
        auto r = sql("SELECT count(*) FROM s3reconcile_passes WHERE state = 'done'");
        return !r.empty() && r[0][0] == "1";
      },
      std::chrono::seconds(180));
  for (auto& server : servers) server->kill(SIGTERM);
  for (auto& server : servers) EXPECT_EQ(server->wait(), 0) << server->err();
  ASSERT_TRUE(done) << servers[0]->err() << servers[1]->err();
  expect_pass_done_with_the_right_result(32);
  auto owners = sql("SELECT count(DISTINCT owner) FROM s3reconcile_ranges");
  ASSERT_FALSE(owners.empty());
  EXPECT_EQ(owners[0][0], "2") << "both instances work the one pass";
  for (auto& server : servers) EXPECT_NE(server->err().find("shared pass joined"), std::string::npos);
}

}  // namespace
}  // namespace s3reconcile
