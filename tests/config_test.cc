// Config loading: a valid file, and each error naming the file, line and field.
#include "config/config.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace s3reconcile::config {
namespace {

StatusOr<Config> parse(const std::string& text) { return parse_config(text, "test.yaml", "/etc/s3r"); }

TEST(Config, FullExampleParses) {
  auto c = parse(R"(
store:
  sqlite: index.db
buckets: [photos, docs]
backends:
  - name: disk-1
    type: local
    path: /srv/objects
    buckets: [docs, photos]
    unprefixed_keys: ignore
  - name: disk-2
    type: local
    path: objects-2
reconcile:
  page_size: 500
  queue_size: 64
  parallelism: 16
serve:
  interval: 1h30m
  listen: 127.0.0.1:9999
)");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->store.sqlite_path, "/etc/s3r/index.db");
  EXPECT_EQ(c->buckets, (std::vector<std::string>{"photos", "docs"}));
  ASSERT_EQ(c->backends.size(), 2u);
  EXPECT_EQ(c->backends[0].buckets.front(), "docs");
  EXPECT_FALSE(c->backends[0].adopt_unprefixed);
  EXPECT_EQ(c->backends[1].path, "/etc/s3r/objects-2");
  EXPECT_EQ(c->backends[1].buckets, c->buckets);
  EXPECT_TRUE(c->backends[1].adopt_unprefixed);
  EXPECT_EQ(c->reconcile.page_size, 500u);
  EXPECT_EQ(c->reconcile.queue_size, 64u);
  EXPECT_EQ(c->reconcile.parallelism, 16u);
  EXPECT_EQ(c->serve.interval, std::chrono::minutes(90));
  EXPECT_EQ(c->serve.listen, "127.0.0.1:9999");
}

void expect_error(const std::string& text, const std::string& line_and_field) {
  auto c = parse(text);
  ASSERT_FALSE(c.ok()) << "accepted:\n" << text;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("test.yaml:" + line_and_field), std::string::npos) << c.status().message();
}

const char* kBackend = "backends:\n  - {name: d, type: local, path: /x}\n";

TEST(Config, SurveyIntervalIsOffByDefault) {
  const std::string head = std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") + kBackend;
  auto c = parse(head);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->serve.survey_interval.count(), 0);
  auto set = parse(head + "serve:\n  survey_interval: 6h\n");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->serve.survey_interval, std::chrono::hours(6));
  for (const char* off : {"0", "0s"}) {
    auto zero = parse(head + "serve:\n  survey_interval: " + off + "\n");
    ASSERT_TRUE(zero.ok()) << zero.status().to_string();
    EXPECT_EQ(zero->serve.survey_interval.count(), 0);
  }
  expect_error(head + "serve:\n  survey_interval: often\n", "6: serve.survey_interval");
}

TEST(Config, PassHistoryIsKeptNinetyDaysByDefault) {
  const std::string tail = std::string("buckets: [photos]\n") + kBackend;
  auto c = parse("store: {sqlite: i.db}\n" + tail);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->store.keep_pass_history, std::chrono::hours(24 * 90));
  auto set = parse("store:\n  postgres: host=db\n  keep_pass_history: 720h\n" + tail);
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->store.keep_pass_history, std::chrono::hours(720));
  auto all = parse("store:\n  sqlite: i.db\n  keep_pass_history: 0\n" + tail);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  EXPECT_EQ(all->store.keep_pass_history.count(), 0) << "0 keeps every record";
  expect_error("store:\n  sqlite: i.db\n  keep_pass_history: 90d\n" + tail, "3: store.keep_pass_history");
}

TEST(Config, ParallelismIsOneByDefaultAndBounded) {
  auto c = parse(std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") + kBackend);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->reconcile.parallelism, 1u);
  expect_error(std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") + kBackend + "reconcile:\n  parallelism: 0\n",
               "6: reconcile.parallelism");
  expect_error(
      std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") + kBackend + "reconcile:\n  parallelism: 257\n",
      "6: reconcile.parallelism");
}

TEST(Config, SharedPassSettings) {
  const std::string head = std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") + kBackend;
  auto defaults = parse(head);
  ASSERT_TRUE(defaults.ok()) << defaults.status().to_string();
  EXPECT_EQ(defaults->reconcile.ranges, 32u);
  EXPECT_EQ(defaults->reconcile.lease, std::chrono::seconds(30));
  EXPECT_FALSE(defaults->serve.join);
  auto set = parse(head + "reconcile: {ranges: 100, lease: 1m}\nserve: {join: true}\n");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->reconcile.ranges, 100u);
  EXPECT_EQ(set->reconcile.lease, std::chrono::minutes(1));
  EXPECT_TRUE(set->serve.join);
  expect_error(head + "reconcile:\n  ranges: 0\n", "6: reconcile.ranges");
}

TEST(Config, IndexReadAheadIsOffUnlessAskedFor) {
  const std::string head = std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") + kBackend;
  auto defaults = parse(head);
  ASSERT_TRUE(defaults.ok()) << defaults.status().to_string();
  EXPECT_FALSE(defaults->reconcile.index_read_ahead);
  auto set = parse(head + "reconcile: {index_read_ahead: true}\n");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_TRUE(set->reconcile.index_read_ahead);
  expect_error(head + "reconcile:\n  index_read_ahead: often\n", "6: reconcile.index_read_ahead");
}

TEST(Config, UnknownTopLevelField) {
  expect_error(std::string("store: {sqlite: a.db}\nbuckets: [photos]\n") + kBackend + "colour: blue\n",
               "5: colour: unknown field");
}
TEST(Config, UnknownBackendField) {
  expect_error(
      "store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - name: d\n    type: local\n    path: /x\n    pth: /y\n",
      "7: backends[0].pth: unknown field");
}
TEST(Config, MissingStore) {
  expect_error(std::string("buckets: [photos]\n") + kBackend, "1: config: missing field store");
}
TEST(Config, BadBucketName) {
  expect_error(std::string("store: {sqlite: a.db}\nbuckets: [photos, Bad_Name]\n") + kBackend,
               "2: buckets[1]: bucket name \"Bad_Name\"");
}
TEST(Config, DuplicateBackendName) {
  expect_error(
      "store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: /x}\n  - {name: d, type: "
      "local, path: /y}\n",
      "5: backends[1].name: backend name \"d\" is used twice");
}
TEST(Config, WrongType) {
  expect_error(std::string("store: {sqlite: a.db}\nbuckets: photos\n") + kBackend, "2: buckets: must be a list");
}
TEST(Config, BadNumber) {
  expect_error(std::string("store: {sqlite: a.db}\nbuckets: [photos]\n") + kBackend + "reconcile:\n  page_size: -3\n",
               "6: reconcile.page_size: must be a whole number");
}
TEST(Config, UnknownBackendType) {
  expect_error("store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - {name: d, type: ftp, path: /x}\n",
               "4: backends[0].type: unknown backend type \"ftp\"");
}
TEST(Config, BackendBucketNotKnown) {
  expect_error(
      "store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - name: d\n    type: local\n    path: /x\n    buckets: "
      "[docs]\n",
      "7: backends[0].buckets[0]: bucket \"docs\" is not in the top-level buckets list");
}
TEST(Config, BadUnprefixedKeysMode) {
  expect_error(
      "store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: /x, unprefixed_keys: "
      "keep}\n",
      "4: backends[0].unprefixed_keys: must be adopt or ignore");
}
TEST(Config, BadDuration) {
  expect_error(std::string("store: {sqlite: a.db}\nbuckets: [photos]\n") + kBackend + "serve:\n  interval: soon\n",
               "6: serve.interval");
}
TEST(Config, NotYaml) { expect_error("store: [unclosed\n", ""); }

// The README's configuration example and examples/config.yaml are real.
std::string readme_config_block() {
  std::ifstream in(std::string(S3R_SOURCE_DIR) + "/README.md");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto section = text.find("## Configuration");
  const auto start = text.find("```yaml\n", section);
  const auto end = text.find("```", start + 8);
  if (section == std::string::npos || start == std::string::npos || end == std::string::npos) return "";
  return text.substr(start + 8, end - start - 8);
}

TEST(Config, ReadmeExampleParses) {
  const std::string block = readme_config_block();
  ASSERT_FALSE(block.empty()) << "no yaml block under ## Configuration in README.md";
  auto c = parse(block);
  ASSERT_TRUE(c.ok()) << c.status().to_string() << "\n" << block;
  EXPECT_GE(c->backends.size(), 2u);
  auto example = load_config(std::string(S3R_SOURCE_DIR) + "/examples/config.yaml");
  EXPECT_TRUE(example.ok()) << example.status().to_string();
}

TEST(Config, UnreadableFileIsNotFound) {
  auto c = load_config("/nonexistent/s3r.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/s3r.yaml"), std::string::npos);
}

TEST(Config, ExpandsEnvironmentVariables) {
  ::setenv("S3R_TEST_ROOT", "/data/objects", 1);
  auto c = parse(
      "store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: "
      "\"${S3R_TEST_ROOT}/x\"}\n");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->backends[0].path, "/data/objects/x");
  EXPECT_EQ(*expand_env("cost $$5"), "cost $5");
  ::unsetenv("S3R_UNSET_VAR");
  expect_error("store: {sqlite: \"${S3R_UNSET_VAR}\"}\nbuckets: [photos]\n",
               "1: store.sqlite: environment variable S3R_UNSET_VAR is not set");
}

TEST(Config, PostgresStoreTakesADsnWithThePasswordFromTheEnvironment) {
  ::setenv("S3R_TEST_PGPASSWORD", "pw-from-env", 1);
  auto c = parse(std::string("store:\n  postgres: \"host=db port=5433 dbname=index password=${S3R_TEST_PGPASSWORD}\"\n"
                             "buckets: [photos]\n") +
                 kBackend);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->store.kind, StoreConfig::Kind::kPostgres);
  EXPECT_EQ(c->store.postgres_dsn, "host=db port=5433 dbname=index password=pw-from-env");
  EXPECT_TRUE(c->store.sqlite_path.empty());
}

TEST(Config, ExactlyOneStore) {
  expect_error(std::string("store: {sqlite: a.db, postgres: \"dbname=x\"}\nbuckets: [photos]\n") + kBackend,
               "1: store: must name exactly one store");
  expect_error(std::string("store: {}\nbuckets: [photos]\n") + kBackend, "1: store: must name exactly one store");
  expect_error(std::string("store: {mysql: x}\nbuckets: [photos]\n") + kBackend,
               "1: store.mysql: unknown field (known: sqlite, postgres, pending_delete_query, keep_pass_history)");
}

TEST(Config, OrphanPolicyAndPendingDeleteQuery) {
  auto c = parse(
      "store:\n  sqlite: i.db\n  pending_delete_query: \"SELECT 1 FROM q WHERE storage_key = $1 AND backend_name = "
      "$2\"\n"
      "buckets: [photos]\nbackends:\n  - {name: d, type: local, path: /x, orphans: report}\n"
      "  - {name: e, type: local, path: /y}\n");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->store.pending_delete_query, "SELECT 1 FROM q WHERE storage_key = $1 AND backend_name = $2");
  EXPECT_FALSE(c->backends[0].import_orphans);
  EXPECT_TRUE(c->backends[1].import_orphans);  // import is the default
  expect_error(
      "store: {sqlite: i.db}\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: /x, orphans: keep}\n",
      "4: backends[0].orphans: must be import or report");
  expect_error("store: {sqlite: i.db, pending_delete_query: \" \"}\nbuckets: [photos]\n" + std::string(kBackend),
               "1: store.pending_delete_query: must be a query");
}

TEST(Config, PostgresDsnErrorsNameTheFieldButNeverEchoTheDsn) {
  ::unsetenv("S3R_UNSET_VAR");
  expect_error(std::string("store: {postgres: \"dbname=x password=${S3R_UNSET_VAR}\"}\nbuckets: [photos]\n") + kBackend,
               "1: store.postgres: environment variable S3R_UNSET_VAR is not set");
  auto c = parse(std::string("store: {postgres: \"dbname=x password=literal-secret${OOPS\"}\nbuckets: [photos]\n") +
                 kBackend);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("store.postgres"), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().find("literal-secret"), std::string::npos) << c.status().message();
  expect_error(std::string("store: {postgres: \"  \"}\nbuckets: [photos]\n") + kBackend,
               "1: store.postgres: must be a connection string");
  expect_error(std::string("store: {postgres: [a, b]}\nbuckets: [photos]\n") + kBackend,
               "1: store.postgres: must be a string");
}

TEST(Config, Durations) {
  EXPECT_EQ(*parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*parse_duration("24h"), std::chrono::hours(24));
  EXPECT_FALSE(parse_duration("10").ok());
  EXPECT_FALSE(parse_duration("h").ok());
  EXPECT_FALSE(parse_duration("5d").ok());
}

}  // namespace
}  // namespace s3reconcile::config

namespace s3reconcile::config {
namespace {

TEST(ConfigS3, FullS3BackendParses) {
  auto c = parse(R"(
store: {sqlite: index.db}
buckets: [photos]
backends:
  - name: s3-east
    type: s3
    endpoint: https://s3.us-east-1.amazonaws.com
    region: us-east-1
    bucket: physical-bucket
    addressing: path
    profile: prod
    page_size: 500
    connect_timeout: 3s
    request_timeout: 30s
    max_attempts: 7
    retry_base_delay: 50ms
    retry_max_delay: 5s
    ca_bundle: certs/ca.pem
    insecure_skip_tls_verify: false
  - name: s3-env
    type: s3
    endpoint: http://127.0.0.1:7480
    bucket: other
    credentials: {access_key_env: MY_KEY, secret_key_env: MY_SECRET, session_token_env: MY_TOKEN}
)");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const auto& s3 = c->backends[0].s3;
  EXPECT_EQ(s3.endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(s3.bucket, "physical-bucket");
  EXPECT_EQ(s3.addressing, S3Addressing::kPath);
  EXPECT_EQ(s3.credentials.profile, "prod");
  EXPECT_EQ(s3.page_size, 500u);
  EXPECT_EQ(s3.connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(s3.max_attempts, 7);
  EXPECT_EQ(s3.retry_base_delay, std::chrono::milliseconds(50));
  EXPECT_EQ(s3.ca_bundle, "/etc/s3r/certs/ca.pem");
  EXPECT_FALSE(s3.insecure_skip_tls_verify);
  const auto& env = c->backends[1].s3;
  EXPECT_EQ(env.addressing, S3Addressing::kVirtual);
  EXPECT_EQ(env.region, "") << "left to AWS_REGION, AWS_DEFAULT_REGION or the profile when the backend opens";
  EXPECT_EQ(env.credentials.access_key_env, "MY_KEY");
  EXPECT_EQ(env.credentials.session_token_env, "MY_TOKEN");
}

const char* kS3Head = "store: {sqlite: a.db}\nbuckets: [photos]\nbackends:\n  - name: s\n    type: s3\n";

TEST(ConfigS3, EndpointAndRegionMayBeLeftToTheAwsConventions) {
  auto c = parse(std::string(kS3Head) + "    bucket: b\n");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->backends[0].s3.endpoint, "");
  EXPECT_EQ(c->backends[0].s3.region, "");
}
TEST(ConfigS3, CredentialsBlockChoosesOneSource) {
  auto c = parse(std::string(kS3Head) +
                 "    bucket: b\n    credentials: {source: web_identity, role_arn: arn:r, "
                 "web_identity_token_file: token, role_session_name: nightly}\n");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const auto& source = c->backends[0].s3.credentials;
  EXPECT_EQ(source.source, "web_identity");
  EXPECT_EQ(source.role_arn, "arn:r");
  EXPECT_EQ(source.web_identity_token_file, "/etc/s3r/token");
  EXPECT_EQ(source.role_session_name, "nightly");
  expect_error(std::string(kS3Head) + "    bucket: b\n    credentials: {source: sso}\n",
               "7: backends[0].credentials.source: must be one of chain, environment, web_identity");
  expect_error(std::string(kS3Head) +
                   "    bucket: b\n    credentials: {source: container, access_key_env: K, "
                   "secret_key_env: S}\n",
               "7: backends[0].credentials.source: choose the source or name the variables");
  expect_error(std::string(kS3Head) + "    bucket: b\n    credentials: {access_key_env: K}\n",
               "7: backends[0].credentials.access_key_env: access_key_env and secret_key_env go together");
  expect_error(std::string(kS3Head) + "    bucket: b\n    credentials: {source: container, role_arn: arn:r}\n",
               "7: backends[0].credentials.role_arn: belongs with source: web_identity");
  expect_error(std::string(kS3Head) + "    bucket: b\n    profile: p\n    credentials: {source: container}\n",
               "8: backends[0].credentials.source: profile: is set");
}
TEST(ConfigS3, BadEndpointScheme) {
  expect_error(std::string(kS3Head) + "    endpoint: s3.amazonaws.com\n    bucket: b\n",
               "6: backends[0].endpoint: must start with http");
}
TEST(ConfigS3, BadAddressing) {
  expect_error(std::string(kS3Head) + "    endpoint: http://h\n    bucket: b\n    addressing: dns\n",
               "8: backends[0].addressing: must be virtual or path");
}
TEST(ConfigS3, PageSizeOverS3Limit) {
  expect_error(std::string(kS3Head) + "    endpoint: http://h\n    bucket: b\n    page_size: 5000\n",
               "8: backends[0].page_size: must be a whole number from 1 to 1000");
}
TEST(ConfigS3, BadTimeout) {
  expect_error(std::string(kS3Head) + "    endpoint: http://h\n    bucket: b\n    request_timeout: forever\n",
               "8: backends[0].request_timeout");
}
TEST(ConfigS3, BadBoolean) {
  expect_error(std::string(kS3Head) + "    endpoint: http://h\n    bucket: b\n    insecure_skip_tls_verify: maybe\n",
               "8: backends[0].insecure_skip_tls_verify: must be true or false");
}
TEST(ConfigS3, UnknownCredentialsField) {
  expect_error(std::string(kS3Head) + "    endpoint: http://h\n    bucket: b\n    credentials: {secret: abc}\n",
               "8: backends[0].credentials.secret: unknown field");
}
TEST(ConfigS3, LocalFieldOnS3Backend) {
  expect_error(std::string(kS3Head) + "    endpoint: http://h\n    bucket: b\n    path: /x\n",
               "8: backends[0].path: unknown field");
}

}  // namespace
}  // namespace s3reconcile::config

namespace s3reconcile::config {
namespace {

// Hostile and clumsy config files (issue: hostile and broken inputs, item 6).
TEST(ConfigHardening, AKeyGivenTwiceIsRefusedNamingBothLines) {
  auto c = parse_config(std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") +
                            "backends:\n  - {name: d, type: local, path: /x}\n"
                            "reconcile:\n  max_removals: 1000\nreconcile:\n  max_removals: 5\n",
                        "test.yaml", "/etc/s3r");
  ASSERT_FALSE(c.ok()) << "the second reconcile block would be ignored";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("test.yaml:7: reconcile: given twice (first on line 5)"), std::string::npos)
      << c.status().message();
  auto nested = parse_config(std::string("store: {sqlite: i.db}\nbuckets: [photos]\n") +
                                 "backends:\n  - name: d\n    type: local\n    path: /x\n    path: /y\n",
                             "test.yaml", "/etc/s3r");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("test.yaml:7: backends[0].path: given twice (first on line 6)"),
            std::string::npos)
      << nested.status().message();
}

TEST(ConfigHardening, OnlyARegularFileOfBoundedSizeIsRead) {
  for (const char* path : {"/dev/zero", "/tmp"}) {
    auto c = load_config(path);
    ASSERT_FALSE(c.ok()) << path;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_NE(c.status().message().find("is not a regular file"), std::string::npos) << c.status().message();
  }
  // A FIFO nobody writes to: refused at once, not waited on.
  const std::string fifo = ::testing::TempDir() + "/s3r-config-fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto from_fifo = load_config(fifo);
  EXPECT_FALSE(from_fifo.ok());
  EXPECT_NE(from_fifo.status().message().find("is not a regular file"), std::string::npos);
  ::unlink(fifo.c_str());
  const std::string big = ::testing::TempDir() + "/s3r-config-big.yaml";
  {
    std::ofstream out(big);
    out << "# " << std::string(2 << 20, 'x') << "\n";
  }
  auto too_big = load_config(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("at most 1048576 are read"), std::string::npos)
      << too_big.status().message();
  ::unlink(big.c_str());
}

TEST(ConfigHardening, DurationsAreBoundedAndListenIsOneAddress) {
  EXPECT_FALSE(parse_duration("3000000h").ok());
  EXPECT_NE(parse_duration("3000000h").status().message().find("longer than the most accepted"), std::string::npos);
  EXPECT_TRUE(parse_duration("8784h").ok());  // a year and a day... of a leap year
  const std::string head =
      "store: {sqlite: i.db}\nbuckets: [photos]\nbackends:\n  - {name: d, type: local, path: /x}\n";
  auto interval = parse_config(head + "serve:\n  interval: 3000000h\n", "test.yaml", "/etc/s3r");
  ASSERT_FALSE(interval.ok());
  EXPECT_NE(interval.status().message().find("serve.interval"), std::string::npos) << interval.status().message();
  for (const char* listen : {"999.1.1.1:9464", "127.0.0.1:9464,0.0.0.0:9465", "localhost:9464", "127.0.0.1:0",
                             "127.0.0.1:70000", ":9464", "[::1:9464"}) {
    auto c = parse_config(head + "serve:\n  listen: \"" + listen + "\"\n", "test.yaml", "/etc/s3r");
    ASSERT_FALSE(c.ok()) << listen;
    EXPECT_NE(c.status().message().find("serve.listen: must be one IP address and port"), std::string::npos)
        << c.status().message();
  }
  for (const char* listen : {"127.0.0.1:9464", "0.0.0.0:1", "[::1]:9464"}) {
    auto c = parse_config(head + "serve:\n  listen: \"" + listen + "\"\n", "test.yaml", "/etc/s3r");
    EXPECT_TRUE(c.ok()) << listen << ": " << c.status().to_string();
  }
}

}  // namespace
}  // namespace s3reconcile::config
