// serve's health, live metrics, passes on demand and reloads, tested as an
// operator (or a probe, a scraper, a script) meets them.
#include <signal.h>

#include <set>
#include <sstream>

#include "support/fake_http_server.h"
#include "support/sqlite_exec.h"

#include "serve/serve_fixture.h"

namespace s3reconcile {
namespace {

using testing::Reply;
using testing::sample;

class ServeTest : public testing::ServeFixture {};

std::string problems_of(const Reply& r) {
  const auto j = r.json();
  return j.is_object() && j.contains("problems") ? j["problems"].dump() : r.body;
}

TEST_F(ServeTest, HealthIs503NamingTheIndexWhenItCannotBeOpened) {
  dir_.write("objs/vbk/a", 3);
  std::filesystem::create_directories(dir_.path() / "not-a-db");
  write_config("  - {name: disk, type: local, path: " + (dir_.path() / "objs").string() + "}\n", "  interval: 1h\n",
               "[vbk]", (dir_.path() / "not-a-db").string());
  start_serve();
  ASSERT_TRUE(wait_for_metric("s3reconcile_setup_failures_total", 1)) << serve_->err();
  EXPECT_EQ(call("GET", "/livez").status, 200) << "the process serves, whatever the index";
  for (const char* probe : {"/readyz", "/healthz"}) {
    const Reply r = call("GET", probe);
    EXPECT_EQ(r.status, 503) << probe;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["status"], "unhealthy");
    EXPECT_EQ(j["index"]["ok"], false);
    EXPECT_NE(j["problems"][0].get<std::string>().find("index"), std::string::npos) << r.body;
    EXPECT_NE(j["problems"][0].get<std::string>().find("not-a-db"), std::string::npos) << r.body;
  }
}

TEST_F(ServeTest, HealthIs503NamingABackendThatCannotBeReachedAndItsRequestsAreCounted) {
  dir_.write("objs/vbk/a", 3);
  const int nobody = testing::unused_loopback_port();
  ::setenv("S3R_SERVE_KEY", "AKIDSERVE", 1);
  ::setenv("S3R_SERVE_SECRET", "serve-secret", 1);
  write_config("  - {name: disk, type: local, path: " + (dir_.path() / "objs").string() +
                   "}\n"
                   "  - name: gone\n    type: s3\n    endpoint: http://127.0.0.1:" +
                   std::to_string(nobody) +
                   "\n    addressing: path\n    bucket: b\n    max_attempts: 2\n    retry_base_delay: 10ms\n"
                   "    credentials: {access_key_env: S3R_SERVE_KEY, secret_key_env: S3R_SERVE_SECRET}\n",
               "  interval: 1h\n");
  start_serve();
  ASSERT_TRUE(wait_for_metric("s3reconcile_passes_total{backend=\"gone\",result=\"error\"}", 1)) << serve_->err();
  const Reply r = call("GET", "/healthz");
  EXPECT_EQ(r.status, 503) << r.body;
  const auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  ASSERT_EQ(j["backends"].size(), 2u);
  EXPECT_EQ(j["backends"][0]["name"], "disk");
  EXPECT_EQ(j["backends"][0]["ok"], true) << "the healthy backend is not blamed: " << r.body;
  EXPECT_EQ(j["backends"][1]["name"], "gone");
  EXPECT_EQ(j["backends"][1]["ok"], false);
  EXPECT_EQ(j["backends"][1]["last_outcome"], "error");
  ASSERT_EQ(j["problems"].size(), 1u) << r.body;
  const std::string problem = j["problems"][0];
  EXPECT_NE(problem.find("backend gone"), std::string::npos) << problem;
  EXPECT_NE(problem.find("127.0.0.1:" + std::to_string(nobody)), std::string::npos) << problem;

  const std::string m = metrics();
  EXPECT_EQ(sample(m,
                   "s3reconcile_s3_requests_total{backend=\"gone\",operation=\"ListObjectsV2\",status_class="
                   "\"none\"}"),
            2.0)
      << m;
  EXPECT_EQ(sample(m, "s3reconcile_s3_retries_total{backend=\"gone\",operation=\"ListObjectsV2\"}"), 1.0) << m;
  EXPECT_EQ(sample(m, "s3reconcile_passes_total{backend=\"disk\",result=\"ok\"}"), 1.0) << m;
}

TEST_F(ServeTest, HealthIs503WhenABackendsLastPassIsOlderThanTheConfiguredIntervals) {
  // The hung backend comes first, so the round never reaches disk, whose
  // only pass is the one `run` made before serve started.
  testing::FakeHttpServer hung([](const testing::FakeRequest&) { return testing::FakeResponse{200, "", {}, true}; });
  dir_.write("objs/vbk/a", 3);
  ::setenv("S3R_SERVE_KEY", "AKIDSERVE", 1);
  ::setenv("S3R_SERVE_SECRET", "serve-secret", 1);
  const std::string disk = "  - {name: disk, type: local, path: " + (dir_.path() / "objs").string() + "}\n";
  write_config(disk, "  interval: 2s\n  stale_after: 1\n");
  testing::ChildProcess run({S3R_BINARY, "run", "--config", config_path()}, (dir_.path() / "run.out").string(),
                            (dir_.path() / "run.err").string());
  ASSERT_EQ(run.wait(), 0) << run.err();
  write_config("  - name: hung\n    type: s3\n    endpoint: " + hung.endpoint() +
                   "\n    addressing: path\n    bucket: b\n    request_timeout: 10m\n"
                   "    credentials: {access_key_env: S3R_SERVE_KEY, secret_key_env: S3R_SERVE_SECRET}\n" +
                   disk,
               "  interval: 2s\n  stale_after: 1\n");
  start_serve();
  Reply r;
  for (int i = 0; i < 100; ++i) {  // stale after 2 s; ~10 s at most
    r = call("GET", "/readyz");
    if (r.status == 503 && problems_of(r).find("disk") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(r.status, 503) << r.body;
  const std::string problems = problems_of(r);
  EXPECT_NE(problems.find("backend disk: its last pass ended"), std::string::npos) << problems;
  EXPECT_NE(problems.find("more than 1 intervals"), std::string::npos) << problems;
  EXPECT_NE(problems.find("backend hung: no pass has completed in 1 intervals"), std::string::npos) << problems;
  serve_->kill(SIGTERM);
  EXPECT_EQ(serve_->wait(), 0) << serve_->err();
}

TEST_F(ServeTest, MetricsMoveWhileASlowPassRuns) {
  start_endpoint();
  write_config(synthetic_backend(), "  interval: 1h\n");
  start_serve();
  const std::string listed = "s3reconcile_keys_listed_total{backend=\"synth\",bucket=\"vbk\"}";
  std::vector<double> seen_in_flight;
  bool rate_seen = false;
  std::string during;
  for (int i = 0; i < 300; ++i) {
    const std::string m = metrics();
    const auto in_flight = sample(m, "s3reconcile_passes_in_flight{backend=\"synth\"}");
    const auto ended = sample(m, "s3reconcile_passes_total{backend=\"synth\",result=\"ok\"}");
    if (ended && *ended >= 1) break;
    if (in_flight && *in_flight == 1) {
      during = m;
      if (auto v = sample(m, listed); v && (seen_in_flight.empty() || *v != seen_in_flight.back())) {
        seen_in_flight.push_back(*v);
      }
      if (auto rate = sample(m, "s3reconcile_pass_keys_per_second{backend=\"synth\"}"); rate && *rate > 0) {
        rate_seen = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Several different, growing counts while the pass ran, all short of the end.
  ASSERT_GE(seen_in_flight.size(), 2u) << during;
  EXPECT_TRUE(std::is_sorted(seen_in_flight.begin(), seen_in_flight.end()));
  EXPECT_LT(seen_in_flight.front(), kKeys);
  EXPECT_TRUE(rate_seen) << during;
  EXPECT_TRUE(sample(during, "s3reconcile_pass_start_timestamp_seconds{backend=\"synth\"}").value_or(0) > 0);

  ASSERT_TRUE(wait_for_metric("s3reconcile_passes_total{backend=\"synth\",result=\"ok\"}", 1));
  const std::string m = metrics();
  EXPECT_EQ(sample(m, listed), kKeys) << m;
  EXPECT_EQ(sample(m, "s3reconcile_imported_total{backend=\"synth\",bucket=\"vbk\"}"), kKeys) << m;
  EXPECT_EQ(sample(m, "s3reconcile_rows_scanned_total{backend=\"synth\",bucket=\"vbk\"}"), 0.0)
      << "an empty index scans no row of the bucket, and its series is there from the first count";
  EXPECT_EQ(sample(m, "s3reconcile_passes_in_flight{backend=\"synth\"}"), 0.0);
  EXPECT_GE(sample(m,
                   "s3reconcile_s3_requests_total{backend=\"synth\",operation=\"ListObjectsV2\",status_class="
                   "\"2xx\"}")
                .value_or(0),
            kKeys / 100);
  EXPECT_GT(sample(m, "s3reconcile_s3_received_bytes_total{backend=\"synth\",operation=\"ListObjectsV2\"}").value_or(0),
            kKeys * 10);
  EXPECT_GE(sample(m, "s3reconcile_index_statement_duration_seconds_count{statement=\"apply_changes\"}").value_or(0),
            1);
  EXPECT_GT(sample(m, "s3reconcile_last_success_timestamp_seconds{backend=\"synth\"}").value_or(0), 0);
  EXPECT_NE(m.find("s3reconcile_build_info{commit=\""), std::string::npos) << m;
  EXPECT_NE(m.find("version=\"" S3R_VERSION "\"} 1"), std::string::npos) << m;
  // And the probe says all is well once the pass completed.
  const Reply health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(health.json()["status"], "ok");
}

class ServePassesTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    start_endpoint();
    std::ofstream(dir_.path() / "token") << "s3cret-token\n";
    write_config(synthetic_backend(), "  interval: 1h\n  api_token_file: " + (dir_.path() / "token").string() + "\n");
    start_serve();
  }
  // The run `id` once done (or as it last was, after 30 s).
  nlohmann::json wait_until_done(const std::string& id) const {
    nlohmann::json run;
    for (int i = 0; i < 300; ++i) {
      run = call("GET", "/v1/passes/" + id).json();
      if (run["state"] == "done") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return run;
  }

  const std::vector<std::string> auth_ = {"Authorization: Bearer s3cret-token"};
  const std::string first_round_done_ = "s3reconcile_passes_total{backend=\"synth\",result=\"ok\"}";
};

TEST_F(ServePassesTest, ATokenIsNeededAndMustMatch) {
  const Reply missing = call("POST", "/v1/passes");
  EXPECT_EQ(missing.status, 401) << missing.body;
  EXPECT_EQ(missing.header("WWW-Authenticate"), "Bearer realm=\"s3reconcile\"");
  const Reply wrong = call("POST", "/v1/passes", {"Authorization: Bearer s3cret-tokeN"});
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  const Reply longer = call("POST", "/v1/passes", {"Authorization: Bearer s3cret-token-and-more"});
  EXPECT_EQ(longer.status, 403) << longer.body;
  const Reply basic = call("POST", "/v1/passes", {"Authorization: Basic czNjcmV0LXRva2Vu"});
  EXPECT_EQ(basic.status, 401) << basic.body;
  EXPECT_EQ(call("GET", "/v1/passes/nope").status, 404);
  // Bad asks name what is wrong, and start nothing.
  const Reply unknown = call("POST", "/v1/passes", auth_, R"({"backend":"nope"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("nope"), std::string::npos) << unknown.body;
  const Reply field = call("POST", "/v1/passes", auth_, R"({"dryrun":true})");
  EXPECT_EQ(field.status, 400);
  EXPECT_NE(field.body.find("dryrun"), std::string::npos) << field.body;
  EXPECT_EQ(call("POST", "/v1/passes", auth_, "not json").status, 400);
}

TEST_F(ServePassesTest, APassOfABackendInFlightIsAConflict) {
  // serve's first round starts at once and takes seconds.
  ASSERT_TRUE(wait_for_metric("s3reconcile_passes_in_flight{backend=\"synth\"}", 1));
  const Reply conflict = call("POST", "/v1/passes", auth_, R"({"backend":"synth"})");
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(conflict.json()["backend"], "synth");
  ASSERT_TRUE(wait_for_metric(first_round_done_, 1));
  // Once it ended, the same ask is taken; while that one runs, another is not.
  const Reply taken = call("POST", "/v1/passes", auth_, R"({"backend":"synth"})");
  ASSERT_EQ(taken.status, 202) << taken.body;
  EXPECT_EQ(call("POST", "/v1/passes", auth_, "{}").status, 409);
  const std::string id = taken.json()["id"];
  EXPECT_EQ(taken.header("Location"), "/v1/passes/" + id);
  const nlohmann::json run = wait_until_done(id);
  EXPECT_EQ(run["state"], "done") << run.dump();
  ASSERT_EQ(run["passes"].size(), 1u) << run.dump();
  EXPECT_EQ(run["passes"][0]["state"], "ok");
  EXPECT_EQ(run["counts"]["listed"], kKeys);
  EXPECT_EQ(run["counts"]["rows"], kKeys);
  // A pass's own id finds its run too.
  EXPECT_EQ(call("GET", "/v1/passes/" + run["passes"][0]["pass_id"].get<std::string>()).json()["id"], id);
}

TEST_F(ServePassesTest, ADryRunChangesNothingAndAStreamedPassReportsAsItGoes) {
  ASSERT_TRUE(wait_for_metric(first_round_done_, 1));
  ASSERT_EQ(index_rows("synth"), kKeys);
  ASSERT_TRUE(testing::exec_on(index_path(),
                               "DELETE FROM object_locations WHERE rowid IN (SELECT rowid FROM object_locations ORDER "
                               "BY object_key LIMIT 20)")
                  .ok());
  const long long missing = kKeys - index_rows("synth");
  ASSERT_GT(missing, 0);

  const Reply dry = call("POST", "/v1/passes", auth_, R"({"backend":"synth","bucket":"vbk","dry_run":true})");
  ASSERT_EQ(dry.status, 202) << dry.body;
  EXPECT_EQ(dry.json()["dry_run"], true);
  const nlohmann::json run = wait_until_done(dry.json()["id"].get<std::string>());
  ASSERT_EQ(run["state"], "done") << run.dump();
  EXPECT_EQ(run["dry_run"], true);
  EXPECT_EQ(run["passes"][0]["bucket"], "vbk");
  EXPECT_EQ(run["counts"]["imported"], missing) << "a dry run counts what it would import";
  EXPECT_EQ(index_rows("synth"), kKeys - missing) << "a dry run changes nothing";

  // Streamed: an accepted line, progress lines while the pass runs, a summary.
  const Reply streamed = call("POST", "/v1/passes", std::vector<std::string>{auth_[0], "Accept: application/x-ndjson"},
                              "{}", std::chrono::seconds(60));
  ASSERT_EQ(streamed.status, 202) << streamed.body;
  EXPECT_EQ(streamed.header("Content-Type"), "application/x-ndjson");
  std::vector<nlohmann::json> lines;
  std::istringstream in(streamed.body);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(nlohmann::json::parse(line, nullptr, false));
    ASSERT_TRUE(lines.back().is_object()) << line;
  }
  ASSERT_GE(lines.size(), 3u) << streamed.body;
  EXPECT_EQ(lines.front()["event"], "accepted");
  EXPECT_EQ(lines.back()["event"], "summary");
  std::uint64_t last_listed = 0;
  int progress = 0;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["event"], "progress");
    EXPECT_GE(lines[i]["counts"]["listed"].get<std::uint64_t>(), last_listed);
    last_listed = lines[i]["counts"]["listed"];
    ++progress;
  }
  EXPECT_GE(progress, 1) << streamed.body;
  const auto& summary = lines.back();
  EXPECT_EQ(summary["state"], "done");
  EXPECT_EQ(summary["passes"][0]["state"], "ok");
  EXPECT_EQ(summary["counts"]["imported"], missing);
  EXPECT_EQ(summary["counts"]["listed"], kKeys);
  EXPECT_EQ(index_rows("synth"), kKeys) << "the streamed pass imported what was missing";
}

// A pass asked for through the API logs its progress, as a round's does,
// under its own pass_id.
class ServePassProgressTest : public ServePassesTest {
 protected:
  void SetUp() override {
    progress_interval_ = "200ms";
    ServePassesTest::SetUp();
  }
};

TEST_F(ServePassProgressTest, APassAskedForThroughTheApiLogsItsProgress) {
  ASSERT_TRUE(wait_for_metric(first_round_done_, 1));
  const Reply taken = call("POST", "/v1/passes", auth_, R"({"backend":"synth"})");
  ASSERT_EQ(taken.status, 202) << taken.body;
  const nlohmann::json run = wait_until_done(taken.json()["id"].get<std::string>());
  ASSERT_EQ(run["state"], "done") << run.dump();
  const std::string pass_id = run["passes"][0]["pass_id"];
  const std::string log = serve_->err();
  std::size_t lines = 0;
  for (std::size_t at = log.find("pass progress"); at != std::string::npos; at = log.find("pass progress", at + 1)) {
    const std::size_t end = log.find('\n', at);
    if (log.substr(at, end - at).find("pass_id=" + pass_id) != std::string::npos) ++lines;
  }
  EXPECT_GE(lines, 1u) << "no progress line of pass " << pass_id << ":\n" << log;
}

TEST_F(ServeTest, PassesOnDemandAreOffWithoutAToken) {
  dir_.write("objs/vbk/a", 3);
  write_config("  - {name: disk, type: local, path: " + (dir_.path() / "objs").string() + "}\n", "  interval: 1h\n");
  start_serve();
  const Reply r = call("POST", "/v1/passes", {"Authorization: Bearer anything"});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("disabled"), std::string::npos) << r.body;
}

TEST_F(ServeTest, SighupReloadsTheConfigAndStartsNoPass) {
  dir_.write("objs/vbk/a", 3);
  const std::string disk = "  - {name: disk, type: local, path: " + (dir_.path() / "objs").string() + "}\n";
  write_config(disk, "  interval: 1h\n");
  start_serve();
  const std::string passes = "s3reconcile_passes_total{backend=\"disk\",result=\"ok\"}";
  ASSERT_TRUE(wait_for_metric(passes, 1));
  EXPECT_EQ(call("POST", "/v1/passes", {"Authorization: Bearer tok-tok"}).status, 403);
  // The reloaded config turns the passes API on.
  std::ofstream(dir_.path() / "token") << "tok-tok\n";
  write_config(disk, "  interval: 1h\n  api_token_file: " + (dir_.path() / "token").string() + "\n");
  serve_->kill(SIGHUP);
  for (int i = 0; i < 100 && serve_->err().find("config reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(serve_->err().find("config reloaded"), std::string::npos) << serve_->err();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(sample(metrics(), passes), 1.0) << "SIGHUP started a pass:\n" << serve_->err();
  const Reply r = call("POST", "/v1/passes", {"Authorization: Bearer tok-tok"});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(wait_for_metric(passes, 2));
}

}  // namespace
}  // namespace s3reconcile
