// The survey over a fake versioned bucket: counts per virtual bucket across
// pages, uploads aborted (or not, in a dry run), and pages a broken server
// sends (back in order, truncated without a marker) failing by name.
#include <gtest/gtest.h>

#include "s3reconcile/s3_backend.h"
#include "s3reconcile/storage_survey.h"
#include "support/fake_hidden_s3.h"
#include "support/fake_s3.h"

namespace s3reconcile {
namespace {

using testing::FakeHiddenS3;
using testing::FakeHttpServer;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

void fill_sample(FakeHiddenS3& s3) {
  s3.versions = {
      {"docs/d", "d1", 100, false, false},  // a sibling bucket's noncurrent version
      {"loose", "l2", 0, true, true},       // adopted into photos: a current delete marker
      {"loose", "l1", 9, false, false},     //   and the version it hides
      {"photos/a", "a3", 5, true, false},   // current: not counted
      {"photos/a", "a2", 4, false, false},  // noncurrent
      {"photos/a", "a1", 3, false, false},  // noncurrent
      {"photos/b", "b2", 0, false, true},   // an older delete marker
      {"photos/b", "b1", 7, true, false},   // current
  };
  s3.uploads = {
      {"photos/big", "u1", "2026-11-30T10:00:00.000Z", {5242880, 10}},
      {"photos/big", "u2", "2026-12-01T09:00:00.000Z", {}},
      {"zzz", "u3", "2026-11-01T00:00:00.000Z", {1}},
  };
}

struct Survey {
  Survey() { fill_sample(s3); }
  FakeHiddenS3 s3;
  FakeHttpServer server{[this](const testing::FakeRequest& r) { return s3.handle(r); }};

  StatusOr<SurveyReport> run(const SurveyOptions& options, std::size_t page = 2) {
    auto backend = S3Backend::open(testing::fake_s3_options(server, page));
    EXPECT_TRUE(backend.ok()) << backend.status().to_string();
    const PathClassifier classifier({"photos"}, {"photos", "docs"}, true);
    return survey_hidden_storage(*(*backend)->hidden_storage(), classifier, options, {});
  }
};

SurveyOptions at_noon() {
  SurveyOptions o;
  o.now = *s3::parse_iso8601("2026-12-01T12:00:00Z");
  return o;
}

TEST(SurveyWalk, CountsPerBucketAcrossPages) {
  Survey survey;
  auto report = survey.run(at_noon());
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->buckets.size(), 2u);
  const HiddenTally& photos = report->buckets.at("photos");
  EXPECT_EQ(photos.noncurrent_versions, 3u);  // a2, a1, loose's l1
  EXPECT_EQ(photos.noncurrent_version_bytes, 4 + 3 + 9);
  EXPECT_EQ(photos.delete_markers, 2u);
  EXPECT_EQ(photos.incomplete_uploads, 3u);  // "zzz" is adopted too
  EXPECT_EQ(photos.incomplete_upload_bytes, 5242880 + 10 + 1);
  EXPECT_EQ(photos.oldest_upload_initiated, *s3::parse_iso8601("2026-11-01T00:00:00Z"));
  const HiddenTally& docs = report->buckets.at("docs");
  EXPECT_EQ(docs.noncurrent_versions, 1u);
  EXPECT_EQ(docs.noncurrent_version_bytes, 100);
  EXPECT_EQ(report->total.noncurrent_versions, 4u);
  EXPECT_EQ(report->total.incomplete_uploads, 3u);
  EXPECT_EQ(report->uploads_aborted, 0u);
  EXPECT_TRUE(survey.s3.aborted.empty());
  // Four pages of two versions, the second asked from the first's markers.
  int version_pages = 0;
  for (const auto& r : survey.s3.requests) version_pages += r.find("versions=") != std::string::npos;
  EXPECT_EQ(version_pages, 4);
  EXPECT_PRED2(contains, survey.s3.requests[1], "key-marker=loose&max-keys=2&version-id-marker=l2");
}

TEST(SurveyWalk, AbortsOnlyUploadsOlderThanTheLimitAndADryRunNone) {
  Survey survey;
  SurveyOptions options = at_noon();
  options.abort_older_than = std::chrono::hours(24);
  options.dry_run = true;
  std::vector<std::string> listed;
  options.on_abort = [&](const IncompleteUpload& u, Clock::duration) { listed.push_back(u.upload_id); };
  auto dry = survey.run(options);
  ASSERT_TRUE(dry.ok()) << dry.status().to_string();
  EXPECT_EQ(listed, (std::vector<std::string>{"u1", "u3"}));
  EXPECT_EQ(dry->uploads_aborted, 2u);
  EXPECT_TRUE(survey.s3.aborted.empty());
  for (const auto& r : survey.s3.requests) EXPECT_FALSE(r.starts_with("DELETE")) << r;

  listed.clear();
  options.dry_run = false;
  auto real = survey.run(options);
  ASSERT_TRUE(real.ok()) << real.status().to_string();
  EXPECT_EQ(listed, (std::vector<std::string>{"u1", "u3"}));
  EXPECT_EQ(survey.s3.aborted, (std::vector<std::string>{"u1", "u3"}));
  EXPECT_EQ(real->total.incomplete_uploads, 3u);  // what was there before the aborts
  // Every DELETE names an upload: never an object or a version.
  for (const auto& r : survey.s3.requests) {
    if (r.starts_with("DELETE")) {
      EXPECT_PRED2(contains, r, "uploadId=");
    }
    EXPECT_FALSE(contains(r, "versionId=")) << r;
  }
  auto after = survey.run(at_noon());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total.incomplete_uploads, 1u);
  EXPECT_EQ(after->total.noncurrent_versions, 4u);
}

TEST(SurveyWalk, APageThatGoesBackFailsNamingIt) {
  Survey survey;
  survey.s3.versions_go_back = true;
  auto report = survey.run(at_noon());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_PRED2(contains, report.status().message(), "ListObjectVersions");
  EXPECT_PRED2(contains, report.status().message(), "page 2");
  EXPECT_PRED2(contains, report.status().message(), "not in ascending key order");
}

TEST(SurveyWalk, ATruncatedPageWithoutMarkerFailsNamingIt) {
  Survey survey;
  survey.s3.truncated_without_marker = true;
  auto report = survey.run(at_noon());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kDataLoss);
  EXPECT_PRED2(contains, report.status().message(), "page 1");
  EXPECT_PRED2(contains, report.status().message(), "<NextKeyMarker> is missing");
}

// Swift's s3api: a page of versions whose NextVersionIdMarker is "null"
// while its last version is another. Paged by it, the fake (as Swift) goes
// on from nowhere and the count comes out short; the walk fails instead,
// naming the markers and the entry they should have named. In one page,
// no marker is followed and the count is exact.
TEST(SurveyWalk, MarkersThatAreNotThePagesLastEntryFailNamingBoth) {
  Survey survey;
  survey.s3.version_marker_null = true;
  auto report = survey.run(at_noon());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kDataLoss);
  EXPECT_PRED2(contains, report.status().message(), "ListObjectVersions");
  EXPECT_PRED2(contains, report.status().message(), "page 1");
  EXPECT_PRED2(contains, report.status().message(),
               "the next markers (\"loose\", \"null\") are not the page's last entry (key \"loose\", version "
               "\"l2\")");
  auto whole = survey.run(at_noon(), 1000);
  ASSERT_TRUE(whole.ok()) << whole.status().to_string();
  EXPECT_EQ(whole->total.noncurrent_versions, 4u);
}

TEST(SurveyWalk, AnUploadThatCannotBeListedFailsTheSurvey) {
  Survey survey;
  auto backend = S3Backend::open(testing::fake_s3_options(survey.server));
  ASSERT_TRUE(backend.ok());
  auto bytes = (*backend)->hidden_storage()->upload_bytes(IncompleteUpload{"photos/big", "nope", {}}, {});
  ASSERT_FALSE(bytes.ok());
  EXPECT_PRED2(contains, bytes.status().message(), "ListParts");
  EXPECT_PRED2(contains, bytes.status().message(), "NoSuchUpload");
}

}  // namespace
}  // namespace s3reconcile
