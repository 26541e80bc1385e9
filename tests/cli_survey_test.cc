// `s3reconcile survey` as operators run it: the built binary against a fake
// versioned bucket (in this process) and a local folder, in text and JSON,
// with its abort listing, dry run and exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "s3/http_client.h"
#include "support/child_process.h"
#include "support/fake_hidden_s3.h"
#include "support/fake_s3.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::FakeHiddenS3;
using testing::FakeHttpServer;
using testing::run_tool;
using testing::TempDir;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

class CliSurveyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_.versions = {
        {"photos/a", "a2", 5, true, false},
        {"photos/a", "a1", 4, false, false},
        {"photos/gone", "g2", 0, true, true},
        {"photos/gone", "g1", 3, false, false},
    };
    // A key that is not UTF-8 (é in Latin-1), URL-encoded as the page sends it.
    s3_.uploads = {
        {"photos/caf%E9", "u-old", "2026-01-01T00:00:00.000Z", {5242880, 7}},
        {"photos/fresh", "u-new", "2099-01-01T00:00:00.000Z", {1}},
    };
    dir_.write("objs/photos/x", 3);
    ::setenv("S3R_TEST_FAKE_KEY", "AKIDTEST", 1);
    ::setenv("S3R_TEST_FAKE_SECRET", "very-secret-value", 1);
    std::ofstream(dir_.path() / "config.yaml")
        << "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n"
           "  - name: disk\n    type: local\n    path: objs\n"
           "  - name: fake\n    type: s3\n    endpoint: "
        << server_.endpoint()
        << "\n    region: us-east-1\n    bucket: phys\n    addressing: path\n    page_size: 1\n"
           "    max_attempts: 1\n    credentials:\n      access_key_env: S3R_TEST_FAKE_KEY\n"
           "      secret_key_env: S3R_TEST_FAKE_SECRET\n";
  }
  std::string config() const { return (dir_.path() / "config.yaml").string(); }
  void append_config(const std::string& text) const {
    std::ofstream(dir_.path() / "config.yaml", std::ios::app) << text;
  }

  FakeHiddenS3 s3_;
  FakeHttpServer server_{[this](const testing::FakeRequest& r) { return s3_.handle(r); }};
  TempDir dir_;
};

TEST_F(CliSurveyTest, TextCountsPerBackendAndBucketAndLocalIsNotApplicable) {
  auto o = run_tool(dir_, "survey --config " + config());
  ASSERT_EQ(o.exit_code, 0) << o.out << testing::read_stderr(dir_);
  EXPECT_PRED2(contains, o.out, "backend disk: not applicable");
  EXPECT_PRED2(contains, o.out,
               "backend fake: noncurrent_versions=2 noncurrent_version_bytes=7 delete_markers=1 "
               "incomplete_uploads=2 incomplete_upload_bytes=5242888 oldest_incomplete_upload_age=");
  EXPECT_PRED2(contains, o.out, "  bucket photos: noncurrent_versions=2 noncurrent_version_bytes=7 delete_markers=1");
  EXPECT_FALSE(contains(o.out, "abort")) << o.out;
  EXPECT_TRUE(s3_.aborted.empty());

  auto only_disk = run_tool(dir_, "survey --config " + config() + " --backend disk");
  EXPECT_EQ(only_disk.exit_code, 0);
  EXPECT_FALSE(contains(only_disk.out, "backend fake")) << only_disk.out;
  EXPECT_EQ(run_tool(dir_, "survey --config " + config() + " --backend nope").exit_code, 2);
  EXPECT_EQ(run_tool(dir_, "survey --config " + config() + " --abort-uploads-older-than soon").exit_code, 2);
}

TEST_F(CliSurveyTest, JsonKeepsKeysExactAndListsAborts) {
  auto dry = run_tool(dir_, "survey --config " + config() + " --output json --abort-uploads-older-than 24h --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.out << testing::read_stderr(dir_);
  const auto doc = nlohmann::json::parse(dry.out);
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["dry_run"], true);
  ASSERT_EQ(doc["backends"].size(), 2u);
  EXPECT_EQ(doc["backends"][0]["backend"], "disk");
  EXPECT_EQ(doc["backends"][0]["applicable"], false);
  const auto& fake = doc["backends"][1];
  EXPECT_EQ(fake["applicable"], true);
  EXPECT_EQ(fake["total"]["noncurrent_versions"], 2);
  EXPECT_EQ(fake["total"]["noncurrent_version_bytes"], 7);
  EXPECT_EQ(fake["total"]["delete_markers"], 1);
  EXPECT_EQ(fake["total"]["incomplete_uploads"], 2);
  EXPECT_EQ(fake["total"]["incomplete_upload_bytes"], 5242888);
  EXPECT_EQ(fake["total"]["oldest_incomplete_upload_initiated"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(fake["buckets"][0]["bucket"], "photos");
  ASSERT_EQ(fake["uploads_aborted"].size(), 1u);  // the one from 2099 is not old enough
  const auto& aborted = fake["uploads_aborted"][0];
  EXPECT_EQ(aborted["upload_id"], "u-old");
  EXPECT_EQ(aborted["key_b64"], "cGhvdG9zL2NhZuk=");  // "photos/caf\xe9", byte for byte
  EXPECT_EQ(aborted["initiated"], "2026-01-01T00:00:00.000000Z");
  EXPECT_GT(aborted["age_seconds"].get<long long>(), 24 * 3600);
  EXPECT_TRUE(s3_.aborted.empty()) << "a dry run aborted an upload";

  auto real = run_tool(dir_, "survey --config " + config() + " --output json --abort-uploads-older-than 24h");
  ASSERT_EQ(real.exit_code, 0) << real.out << testing::read_stderr(dir_);
  EXPECT_EQ(nlohmann::json::parse(real.out)["backends"][1]["uploads_aborted"].size(), 1u);
  EXPECT_EQ(s3_.aborted, std::vector<std::string>{"u-old"});
  auto after = nlohmann::json::parse(run_tool(dir_, "survey --config " + config() + " --output json").out);
  EXPECT_EQ(after["backends"][1]["total"]["incomplete_uploads"], 1);
  EXPECT_EQ(after["backends"][1]["total"]["noncurrent_versions"], 2);
}

// --bucket: only that bucket's prefix is listed, counted, and has its
// uploads aborted; an old upload of another bucket stays.
TEST_F(CliSurveyTest, ABucketIsSurveyedAndItsUploadsAbortedAlone) {
  s3_.versions.insert(s3_.versions.begin(), {{"docs/d", "d2", 9, true, false}, {"docs/d", "d1", 8, false, false}});
  s3_.uploads.insert(s3_.uploads.begin(), {"docs/old", "u-docs", "2026-01-01T00:00:00.000Z", {11}});
  std::string text;
  {
    std::ifstream in(config());
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("buckets: [photos]"), 17, "buckets: [photos, docs]");
  std::ofstream(config()) << text;

  auto all = nlohmann::json::parse(run_tool(dir_, "survey --config " + config() + " --output json").out);
  EXPECT_EQ(all["backends"][1]["total"]["noncurrent_versions"], 3);
  EXPECT_EQ(all["backends"][1]["total"]["incomplete_uploads"], 3);

  s3_.requests.clear();
  auto o =
      run_tool(dir_, "survey --config " + config() + " --bucket photos --output json --abort-uploads-older-than 24h");
  ASSERT_EQ(o.exit_code, 0) << o.out << testing::read_stderr(dir_);
  const auto fake = nlohmann::json::parse(o.out)["backends"][1];
  EXPECT_EQ(fake["total"]["noncurrent_versions"], 2) << fake.dump();
  EXPECT_EQ(fake["total"]["incomplete_uploads"], 2) << fake.dump();
  ASSERT_EQ(fake["buckets"].size(), 1u) << fake.dump();
  EXPECT_EQ(fake["buckets"][0]["bucket"], "photos");
  EXPECT_EQ(s3_.aborted, std::vector<std::string>{"u-old"}) << "only photos' old upload";
  std::size_t listings = 0;  // ListObjectVersions and ListMultipartUploads, not ListParts
  for (const auto& r : s3_.requests) {
    if (r.starts_with("GET /phys?") && !contains(r, "uploadId=")) {
      ++listings;
      EXPECT_PRED2(contains, r, "prefix=photos%2F");
    }
  }
  EXPECT_GE(listings, 4u) << "versions and uploads, a page of one each";
  EXPECT_EQ(run_tool(dir_, "survey --config " + config() + " --bucket nope").exit_code, 2);
}

TEST_F(CliSurveyTest, TextListsEachAbortAndAFailingBackendExitsOne) {
  auto dry = run_tool(dir_, "survey --config " + config() + " --abort-uploads-older-than 1s --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.out << testing::read_stderr(dir_);
  EXPECT_PRED2(contains, dry.out,
               "would abort upload: backend=fake key=\"photos/caf\xe9\" upload_id=\"u-old\" "
               "initiated=2026-01-01T00:00:00.000000Z age=");
  // One "initiated" in the future (a server clock ahead) is never old enough.
  EXPECT_FALSE(contains(dry.out, "upload_id=\"u-new\"")) << dry.out;
  EXPECT_PRED2(contains, dry.out, "  uploads that would be aborted: 1");
  EXPECT_TRUE(s3_.aborted.empty());

  auto real = run_tool(dir_, "survey --config " + config() + " --abort-uploads-older-than 1s");
  ASSERT_EQ(real.exit_code, 0) << real.out;
  EXPECT_PRED2(contains, real.out, "aborted upload: backend=fake key=\"photos/caf\xe9\"");
  EXPECT_PRED2(contains, real.out, "  uploads aborted: 1");
  // Counted as they were before the abort.
  EXPECT_PRED2(contains, real.out,
               "backend fake: noncurrent_versions=2 noncurrent_version_bytes=7 delete_markers=1 "
               "incomplete_uploads=2 incomplete_upload_bytes=5242888");
  EXPECT_EQ(s3_.aborted, std::vector<std::string>{"u-old"});

  s3_.truncated_without_marker = true;
  auto broken = run_tool(dir_, "survey --config " + config() + " --output json");
  EXPECT_EQ(broken.exit_code, 1) << broken.out;
  const auto doc = nlohmann::json::parse(broken.out);
  EXPECT_EQ(doc["status"], "error");
  EXPECT_EQ(doc["backends"][0]["status"], "ok");  // the others are still reported
  EXPECT_PRED2(contains, doc["backends"][1]["error"].get<std::string>(), "page 1");
}

std::string scrape(int port) {
  s3::HttpClient client(s3::HttpOptions{std::chrono::milliseconds(500), std::chrono::milliseconds(2000), true, ""});
  auto r = client.perform("GET", "http://127.0.0.1:" + std::to_string(port) + "/metrics", {}, {});
  return r.ok() && r->status == 200 ? r->body : "";
}

TEST_F(CliSurveyTest, ServeExportsTheSurveyAsGaugesAndNeverAborts) {
  const int port = testing::unused_loopback_port();
  append_config("serve:\n  interval: 1h\n  survey_interval: 1h\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
  testing::ChildProcess serve({S3R_BINARY, "serve", "--config", config()}, (dir_.path() / "serve.out").string(),
                              (dir_.path() / "serve.err").string());
  const std::string done = "s3reconcile_survey_last_success_timestamp_seconds{backend=\"fake\"}";
  std::string body;
  for (int i = 0; i < 200 && body.find(done) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    body = scrape(port);
  }
  serve.kill(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.err();
  ASSERT_PRED2(contains, body, done);
  for (const char* series : {
           "s3reconcile_noncurrent_versions{backend=\"fake\",bucket=\"photos\"} 2",
           "s3reconcile_noncurrent_version_bytes{backend=\"fake\",bucket=\"photos\"} 7",
           "s3reconcile_delete_markers{backend=\"fake\",bucket=\"photos\"} 1",
           "s3reconcile_incomplete_uploads{backend=\"fake\",bucket=\"photos\"} 2",
           "s3reconcile_incomplete_upload_bytes{backend=\"fake\",bucket=\"photos\"} 5242888",
           "s3reconcile_survey_failures_total{backend=\"fake\"} 0",
           // A local folder: nothing hidden, and no failure.
           "s3reconcile_noncurrent_versions{backend=\"disk\",bucket=\"photos\"} 0",
           "s3reconcile_oldest_incomplete_upload_age_seconds{backend=\"disk\",bucket=\"photos\"} 0",
           "s3reconcile_survey_failures_total{backend=\"disk\"} 0",
       }) {
    EXPECT_PRED2(contains, body, series);
  }
  EXPECT_PRED2(contains, body, "s3reconcile_oldest_incomplete_upload_age_seconds{backend=\"fake\",bucket=\"photos\"} ");
  EXPECT_TRUE(s3_.aborted.empty());
}

}  // namespace
}  // namespace s3reconcile
