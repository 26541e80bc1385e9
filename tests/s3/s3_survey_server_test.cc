// `s3reconcile survey` against a real S3 server with versioning on
// (radosgw; Swift's s3api when its versioning answers): overwrites, deletes
// and an abandoned multipart upload, counted exactly; then the upload
// aborted, with a dry run first, and every object and version kept.
// Servers that do not do versioning (the synthetic endpoint) skip, but
// radosgw never may.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "s3/s3_test_client.h"
#include "s3reconcile/s3_backend.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using testing::S3TestClient;
using testing::S3TestServer;
using testing::TempDir;

// The text of <name> in an XML answer ("" when absent).
std::string element(const std::string& xml, const std::string& name) {
  const auto from = xml.find("<" + name + ">");
  const auto to = xml.find("</" + name + ">");
  if (from == std::string::npos || to == std::string::npos) return "";
  return xml.substr(from + name.size() + 2, to - from - name.size() - 2);
}

class S3SurveyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = S3TestServer::from_env();
    S3R_SKIP_WITHOUT_S3_SERVER(server_);
    client_ = std::make_unique<S3TestClient>(server_);
    bucket_ = testing::fresh_bucket_name(server_, "survey");
    ASSERT_EQ(client_->create_bucket(bucket_), 200) << client_->last_body();
    const long versioning = client_->request(
        "PUT", bucket_, "",
        R"(<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status>)"
        "</VersioningConfiguration>",
        {{"versioning", ""}});
    if (versioning != 200) {
      // radosgw does versioning: there, a refusal is a failure, not a skip.
      if (server_.name == "rgw") FAIL() << "radosgw refused versioning: HTTP " << versioning << client_->last_body();
      GTEST_SKIP() << server_.name << " does not do versioning (HTTP " << versioning << ")";
    }
    ::setenv("S3R_IT_KEY", server_.access_key.c_str(), 1);
    ::setenv("S3R_IT_SECRET", server_.secret_key.c_str(), 1);
    write_config(page_size());
  }

  void write_config(std::size_t page) {
    std::ofstream(dir_.path() / "config.yaml")
        << "store:\n  sqlite: index.db\nbuckets: [photos, docs]\nbackends:\n"
           "  - name: s3-it\n    type: s3\n    endpoint: "
        << server_.endpoint << "\n    region: " << server_.region << "\n    bucket: " << bucket_
        << "\n    addressing: path\n    page_size: " << page
        << "\n    max_attempts: 2\n    retry_base_delay: 10ms\n"
           "    credentials:\n      access_key_env: S3R_IT_KEY\n      secret_key_env: S3R_IT_SECRET\n";
  }

  // Pages of two on radosgw, so that the markers are followed on a real
  // server. Swift's s3api answers a page of versions with NextVersionIdMarker
  // "null" whatever its last version, and lists nothing more after it (1
  // noncurrent version of 4 at page size 2): the walk refuses such markers
  // (MarkersThatDoNotNameTheLastEntryFailTheSurvey), so Swift is surveyed
  // in single pages.
  std::size_t page_size() const { return server_.name == "swift" ? 1000 : 2; }

  nlohmann::json survey(const std::string& flags = "") {
    auto o = testing::run_tool(dir_,
                               "survey --config " + (dir_.path() / "config.yaml").string() + " --output json " + flags);
    EXPECT_EQ(o.exit_code, 0) << o.out << testing::read_stderr(dir_);
    auto doc = nlohmann::json::parse(o.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << o.out;
    return doc.is_discarded() ? nlohmann::json() : doc["backends"][0];
  }

  static nlohmann::json of_bucket(const nlohmann::json& backend, const std::string& bucket) {
    for (const auto& b : backend["buckets"]) {
      if (b["bucket"] == bucket) return b;
    }
    ADD_FAILURE() << "no bucket " << bucket << " in " << backend.dump();
    return {};
  }

  S3TestServer server_;
  std::unique_ptr<S3TestClient> client_;
  std::string bucket_;
  TempDir dir_;
};

TEST_F(S3SurveyServerTest, CountsVersionsMarkersAndAnAbandonedUploadThenAbortsOnlyTheUpload) {
  // photos/a: three writes, so two noncurrent versions of 5 and 7 bytes.
  for (const char* body : {"11111", "2222222", "333"}) ASSERT_EQ(client_->put(bucket_, "photos/a", body), 200);
  // photos/b and docs/c: written, then deleted: a delete marker each, and
  // the version it hides (4 and 2 bytes).
  ASSERT_EQ(client_->put(bucket_, "photos/b", "bbbb"), 200);
  ASSERT_EQ(client_->remove(bucket_, "photos/b"), 204) << client_->last_body();
  ASSERT_EQ(client_->put(bucket_, "docs/c", "cc"), 200);
  ASSERT_EQ(client_->remove(bucket_, "docs/c"), 204) << client_->last_body();
  // photos/big: a multipart upload with parts of 1000 and 234 bytes, never
  // completed.
  ASSERT_EQ(client_->request("POST", bucket_, "photos/big", "", {{"uploads", ""}}), 200) << client_->last_body();
  const std::string upload_id = element(client_->last_body(), "UploadId");
  ASSERT_FALSE(upload_id.empty()) << client_->last_body();
  ASSERT_EQ(client_->request("PUT", bucket_, "photos/big", std::string(1000, 'p'),
                             {{"partNumber", "1"}, {"uploadId", upload_id}}),
            200)
      << client_->last_body();
  ASSERT_EQ(client_->request("PUT", bucket_, "photos/big", std::string(234, 'q'),
                             {{"partNumber", "2"}, {"uploadId", upload_id}}),
            200)
      << client_->last_body();

  const nlohmann::json first = survey();
  ASSERT_EQ(first["status"], "ok") << first.dump();
  const nlohmann::json& total = first["total"];
  EXPECT_EQ(total["noncurrent_versions"], 4) << first.dump();
  EXPECT_EQ(total["noncurrent_version_bytes"], 5 + 7 + 4 + 2) << first.dump();
  EXPECT_EQ(total["delete_markers"], 2) << first.dump();
  EXPECT_EQ(total["incomplete_uploads"], 1) << first.dump();
  EXPECT_EQ(total["incomplete_upload_bytes"], 1234) << first.dump();
  EXPECT_GE(total["oldest_incomplete_upload_age_seconds"].get<long long>(), 0);
  const nlohmann::json photos = of_bucket(first, "photos");
  EXPECT_EQ(photos["noncurrent_versions"], 3);
  EXPECT_EQ(photos["noncurrent_version_bytes"], 16);
  EXPECT_EQ(photos["delete_markers"], 1);
  EXPECT_EQ(photos["incomplete_uploads"], 1);
  EXPECT_EQ(photos["incomplete_upload_bytes"], 1234);
  const nlohmann::json docs = of_bucket(first, "docs");
  EXPECT_EQ(docs["noncurrent_versions"], 1);
  EXPECT_EQ(docs["noncurrent_version_bytes"], 2);
  EXPECT_EQ(docs["delete_markers"], 1);
  EXPECT_EQ(docs["incomplete_uploads"], 0);

  // A dry run lists the upload and keeps it.
  const nlohmann::json dry = survey("--abort-uploads-older-than 0s --dry-run");
  ASSERT_EQ(dry["uploads_aborted"].size(), 1u) << dry.dump();
  EXPECT_EQ(dry["uploads_aborted"][0]["key"], "photos/big");
  EXPECT_EQ(dry["uploads_aborted"][0]["upload_id"], upload_id);
  EXPECT_EQ(survey()["total"]["incomplete_uploads"], 1);

  // For real: aborted, and a second survey finds no upload.
  const nlohmann::json aborted = survey("--abort-uploads-older-than 0s");
  ASSERT_EQ(aborted["uploads_aborted"].size(), 1u) << aborted.dump();
  EXPECT_EQ(aborted["uploads_aborted"][0]["upload_id"], upload_id);
  const nlohmann::json after = survey();
  EXPECT_EQ(after["total"]["incomplete_uploads"], 0) << after.dump();
  EXPECT_EQ(after["total"]["incomplete_upload_bytes"], 0);
  EXPECT_TRUE(after["total"]["oldest_incomplete_upload_age_seconds"].is_null());
  // Every version and marker is still there, and the current object too.
  EXPECT_EQ(after["total"]["noncurrent_versions"], 4);
  EXPECT_EQ(after["total"]["noncurrent_version_bytes"], 18);
  EXPECT_EQ(after["total"]["delete_markers"], 2);
  S3BackendOptions o;
  o.endpoint = server_.endpoint;
  o.region = server_.region;
  o.bucket = bucket_;
  o.addressing = S3Addressing::kPath;
  o.credentials.access_key_env = "S3R_IT_KEY";
  o.credentials.secret_key_env = "S3R_IT_SECRET";
  auto backend = S3Backend::open(o);
  ASSERT_TRUE(backend.ok()) << backend.status().to_string();
  std::vector<ListedObject> current;
  ASSERT_TRUE((*backend)
                  ->list(ListRequest{},
                         [&](std::vector<ListedObject>& page, bool) {
                           for (auto& object : page) current.push_back(std::move(object));
                           return true;
                         },
                         {})
                  .ok());
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].key, "photos/a");
  EXPECT_EQ(current[0].size, 3);
  std::size_t versions = 0;
  ASSERT_TRUE((*backend)
                  ->hidden_storage()
                  ->list_versions("",
                                  [&](const std::vector<ObjectVersion>& page) {
                                    versions += page.size();
                                    return true;
                                  },
                                  {})
                  .ok());
  EXPECT_EQ(versions, 3u + 2u + 2u);  // a: 3 versions; b and c: a version and a marker each
}

// Paged by two: radosgw's markers name each page's last entry and the count
// is exact; Swift's s3api sends NextVersionIdMarker "null", and the survey
// fails naming the markers instead of counting short.
TEST_F(S3SurveyServerTest, MarkersThatDoNotNameTheLastEntryFailTheSurvey) {
  for (const char* body : {"11111", "2222222", "333"}) ASSERT_EQ(client_->put(bucket_, "photos/a", body), 200);
  ASSERT_EQ(client_->put(bucket_, "photos/b", "bbbb"), 200);
  ASSERT_EQ(client_->remove(bucket_, "photos/b"), 204) << client_->last_body();
  write_config(2);
  auto o = testing::run_tool(dir_, "survey --config " + (dir_.path() / "config.yaml").string() + " --output json");
  auto doc = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << o.out;
  const nlohmann::json& backend = doc["backends"][0];
  if (server_.name == "swift") {
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_EQ(backend["status"], "error") << backend.dump();
    EXPECT_NE(backend["error"].get<std::string>().find("are not the page's last entry"), std::string::npos)
        << backend.dump();
    return;
  }
  ASSERT_EQ(o.exit_code, 0) << o.out << testing::read_stderr(dir_);
  EXPECT_EQ(backend["total"]["noncurrent_versions"], 3) << backend.dump();
  EXPECT_EQ(backend["total"]["delete_markers"], 1) << backend.dump();
}

// Uploads paged by two: four abandoned uploads, two of them of one key, so
// that a page ends between the uploads of a key and the walk follows both
// NextKeyMarker and NextUploadIdMarker on a real server: counted exactly, each
// with its one part, on radosgw and on Swift's s3api alike (whose version
// markers the walk refuses, above; its upload markers name the last upload).
TEST_F(S3SurveyServerTest, UploadsPagedByTwoAreCountedExactly) {
  const std::vector<std::pair<std::string, std::size_t>> uploads = {
      {"photos/u1", 10}, {"photos/u1", 20}, {"photos/u2", 30}, {"docs/u3", 40}};
  for (const auto& [key, bytes] : uploads) {
    ASSERT_EQ(client_->request("POST", bucket_, key, "", {{"uploads", ""}}), 200) << client_->last_body();
    const std::string upload_id = element(client_->last_body(), "UploadId");
    ASSERT_FALSE(upload_id.empty()) << client_->last_body();
    ASSERT_EQ(
        client_->request("PUT", bucket_, key, std::string(bytes, 'u'), {{"partNumber", "1"}, {"uploadId", upload_id}}),
        200)
        << client_->last_body();
  }
  write_config(2);
  auto o = testing::run_tool(dir_, "survey --config " + (dir_.path() / "config.yaml").string() + " --output json");
  auto doc = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << o.out;
  const nlohmann::json& backend = doc["backends"][0];
  ASSERT_EQ(o.exit_code, 0) << o.out << testing::read_stderr(dir_);
  EXPECT_EQ(backend["total"]["incomplete_uploads"], 4) << backend.dump();
  EXPECT_EQ(backend["total"]["incomplete_upload_bytes"], 10 + 20 + 30 + 40) << backend.dump();
  EXPECT_EQ(of_bucket(backend, "photos")["incomplete_uploads"], 3) << backend.dump();
  EXPECT_EQ(of_bucket(backend, "docs")["incomplete_uploads"], 1) << backend.dump();
}

}  // namespace
}  // namespace s3reconcile
