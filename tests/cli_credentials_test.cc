// The command line set up the way operators set up the AWS CLI: each setup
// where the AWS CLI worked and the tool once did not, `check
// --explain-credentials`, and no secret in any output on any error path.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_aws.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using namespace std::chrono_literals;

class CliCredentials : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  testing::ScopedAwsEnvironment env_{(dir_.path() / "home").string()};
  testing::CredentialIssuer issuer_{"TMP"};

  CliCredentials() {
    std::filesystem::create_directories(dir_.path() / "home/.aws");
    // Off EC2: nothing may wait on 169.254.169.254.
    env_.set("AWS_EC2_METADATA_DISABLED", "true");
  }

  std::unique_ptr<testing::CheckingS3> s3(const std::string& region) {
    auto s = std::make_unique<testing::CheckingS3>(issuer_, region);
    s->bucket.objects["photos/a.jpg"] = 3;
    s->bucket.objects["photos/b.jpg"] = 4;
    return s;
  }
  void write(const std::string& relative, const std::string& text, mode_t mode = 0600) {
    const auto path = dir_.path() / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
  }
  std::string path(const std::string& relative) const { return (dir_.path() / relative).string(); }
  // A config of one S3 backend with `fields` (endpoint, region, ... or none).
  std::string config(const std::string& fields) {
    write("config.yaml",
          "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n  - name: s3-1\n    type: s3\n"
          "    bucket: phys\n    addressing: path\n    max_attempts: 1\n" +
              fields);
    return path("config.yaml");
  }
  // `check` lists the bucket: two orphans, exit 3 (drift), nothing refused.
  void expect_listed(const std::string& config_file, const testing::CheckingS3& server) {
    auto o = testing::run_tool(dir_, "check --output json --config " + config_file);
    EXPECT_EQ(o.exit_code, 3) << o.out << testing::read_stderr(dir_);
    EXPECT_EQ(server.refused.load(), 0) << server.last_refusal() << "\n" << testing::read_stderr(dir_);
    EXPECT_GE(server.served.load(), 1);
    EXPECT_NE(o.out.find("\"imported\":2"), std::string::npos) << o.out;
  }
};

TEST_F(CliCredentials, RegionFromAwsRegion) {
  auto server = s3("eu-west-1");
  issuer_.allow("ENVKEY", "env-secret");
  env_.set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  env_.set("AWS_REGION", "eu-west-1");
  expect_listed(config("    endpoint: " + server->endpoint() + "\n"), *server);
}

TEST_F(CliCredentials, EndpointFromAwsEndpointUrl) {
  auto server = s3("us-east-1");
  issuer_.allow("ENVKEY", "env-secret");
  env_.set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  env_.set("AWS_ENDPOINT_URL", server->endpoint());
  expect_listed(config(""), *server);
}

TEST_F(CliCredentials, KeysRegionAndEndpointOnlyInTheAwsConfigFile) {
  auto server = s3("eu-north-1");
  issuer_.allow("CFGKEY", "cfg-secret");
  write("home/.aws/config",
        "[default]\naws_access_key_id = CFGKEY\naws_secret_access_key = cfg-secret\n"
        "region = eu-north-1\nendpoint_url = " +
            server->endpoint() + "\n");
  expect_listed(config(""), *server);
}

TEST_F(CliCredentials, AProfileWithCredentialProcess) {
  auto server = s3("us-east-1");
  issuer_.allow("PROCKEY", "proc-secret");
  write("bin/creds",
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"PROCKEY\", \"SecretAccessKey\": "
        "\"proc-secret\"}'\n",
        0755);
  write("home/.aws/config", "[profile ops]\ncredential_process = " + path("bin/creds") + "\n");
  env_.set("AWS_PROFILE", "ops");
  expect_listed(config("    endpoint: " + server->endpoint() + "\n"), *server);
}

TEST_F(CliCredentials, EnvironmentKeysBeforeAWrongAwsProfile) {
  auto server = s3("us-east-1");
  issuer_.allow("ENVKEY", "env-secret");
  write("home/.aws/credentials", "[wrong]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrong-secret\n");
  env_.set("AWS_PROFILE", "wrong");
  env_.set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  expect_listed(config("    endpoint: " + server->endpoint() + "\n"), *server);
}

TEST_F(CliCredentials, NoRegionForAwsIsAConfigError) {
  env_.set("AWS_ACCESS_KEY_ID", "ENVKEY");
  env_.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  const std::string file = config("");  // AWS's endpoint, no region anywhere
  for (const std::string command : {"check", "run", "diff"}) {
    auto o = testing::run_tool(dir_, command + " --config " + file);
    EXPECT_EQ(o.exit_code, 2) << command;
    const std::string err = testing::read_stderr(dir_);
    EXPECT_NE(err.find("backend s3-1: s3 bucket phys: no region for an AWS endpoint: set region: in the config, "
                       "AWS_REGION, AWS_DEFAULT_REGION, or region in profile default of " +
                       path("home/.aws/config")),
              std::string::npos)
        << err;
  }
  env_.set("AWS_REGION", "eu-west-3");
  auto explained = testing::run_tool(dir_, "check --explain-credentials --config " + file);
  EXPECT_EQ(explained.exit_code, 0) << testing::read_stderr(dir_);
  EXPECT_NE(explained.out.find("https://s3.eu-west-3.amazonaws.com (AWS's endpoint for the region)"), std::string::npos)
      << explained.out;
}

TEST_F(CliCredentials, ExplainCredentialsNamesTheSourceAndExpiryWithoutSecrets) {
  auto server = s3("ap-south-1");
  testing::FakeSts sts(issuer_, 45min);
  sts.expected_token = "JWT-SECRET-eyJhbGciOi";
  write("token", sts.expected_token);
  env_.set("AWS_WEB_IDENTITY_TOKEN_FILE", path("token"));
  env_.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/reconciler");
  env_.set("AWS_ENDPOINT_URL_STS", sts.endpoint());
  env_.set("AWS_DEFAULT_REGION", "ap-south-1");
  const std::string file = config("    endpoint: " + server->endpoint() + "\n");
  auto text = testing::run_tool(dir_, "check --explain-credentials --config " + file);
  ASSERT_EQ(text.exit_code, 0) << text.out << testing::read_stderr(dir_);
  EXPECT_NE(text.out.find("backend s3-1:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("web identity (role arn:aws:iam::123456789012:role/reconciler, token file " + path("token")),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("ap-south-1 (AWS_DEFAULT_REGION)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(server->endpoint() + " (endpoint: in the config)"), std::string::npos) << text.out;
  auto json = testing::run_tool(dir_, "check --explain-credentials --output json --config " + file);
  ASSERT_EQ(json.exit_code, 0);
  const auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["region"], "ap-south-1");
  ASSERT_TRUE(j[0]["expires"].is_string());
  auto expires = s3::parse_iso8601(j[0]["expires"].get<std::string>());
  ASSERT_TRUE(expires.ok());
  EXPECT_GT(*expires, Clock::now() + 40min);
  EXPECT_LT(*expires, Clock::now() + 50min);
  EXPECT_EQ(server->served.load(), 0) << "explaining sends no S3 request";
  const std::string everything = text.out + json.out + testing::read_stderr(dir_);
  for (const auto& [key, secret] : issuer_.secrets()) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << "secret of " << key << " printed";
  }
  EXPECT_EQ(everything.find("TMP-token-"), std::string::npos) << "a session token printed";
  EXPECT_EQ(everything.find("JWT-SECRET"), std::string::npos) << "the web identity token printed";

  // A backend whose source fails: exit 1, the source named.
  env_.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/other");
  sts.expected_token = "another";
  auto failed = testing::run_tool(dir_, "check --explain-credentials --config " + file);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.out.find("InvalidIdentityToken"), std::string::npos) << failed.out;
  EXPECT_EQ(failed.out.find("JWT-SECRET"), std::string::npos);
}

// Every source failing in its own way, with secrets all around: none of
// them may show up in stdout or stderr of check, run or the explanation.
TEST_F(CliCredentials, NoSecretOnAnyErrorPath) {
  auto server = s3("us-east-1");
  testing::FakeSts sts(issuer_, 1h);
  sts.expected_token = "not-what-the-file-says";
  testing::FakeContainerEndpoint container(issuer_, "CONTAINER-SECRET-right", 1h);
  issuer_.allow("ENVKEY", "ENV-SECRET-right");
  const std::vector<std::string> secrets = {"ENV-SECRET-wrong",       "ENV-TOKEN-wrong",     "JWT-SECRET-file",
                                            "CONTAINER-SECRET-wrong", "PROFILE-SECRET-half", "PROC-SECRET-stderr",
                                            "SRC-SECRET-profile",     "imds-session-token-7"};
  write("jwt", "JWT-SECRET-file");
  write("bin/fails", "#!/bin/sh\necho 'denied' >&2\necho 'PROC-SECRET-stderr' >&2\nexit 1\n", 0755);
  write("home/.aws/credentials",
        "[half]\naws_secret_access_key = PROFILE-SECRET-half\n"
        "[src]\naws_access_key_id = SRCKEY\naws_secret_access_key = SRC-SECRET-profile\n");
  write("home/.aws/config", "[profile proc]\ncredential_process = " + path("bin/fails") +
                                "\n"
                                "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = src\n");
  testing::CredentialIssuer ec2_issuer("EC2");
  testing::FakeImds roleless(ec2_issuer, "");
  const std::string endpoint = "    endpoint: " + server->endpoint() + "\n";
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::string>> env;
    std::string fields;
    std::string reported;  // what the output must say went wrong
  };
  const std::vector<Case> cases = {
      {"wrong static keys",
       {{"AWS_ACCESS_KEY_ID", "ENVKEY"},
        {"AWS_SECRET_ACCESS_KEY", "ENV-SECRET-wrong"},
        {"AWS_SESSION_TOKEN", "ENV-TOKEN-wrong"}},
       endpoint,
       "SignatureDoesNotMatch"},
      {"web identity refused",
       {{"AWS_WEB_IDENTITY_TOKEN_FILE", path("jwt")},
        {"AWS_ROLE_ARN", "arn:aws:iam::1:role/w"},
        {"AWS_ENDPOINT_URL_STS", sts.endpoint()}},
       endpoint,
       "InvalidIdentityToken"},
      {"container token wrong",
       {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url()},
        {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "CONTAINER-SECRET-wrong"}},
       endpoint,
       "HTTP 401"},
      {"profile half", {{"AWS_PROFILE", "half"}}, endpoint, "has aws_secret_access_key without aws_access_key_id"},
      {"process fails", {{"AWS_PROFILE", "proc"}}, endpoint, "exit status 1: denied"},
      {"assume role refused",
       {{"AWS_PROFILE", "role"}, {"AWS_ENDPOINT_URL_STS", sts.endpoint()}},
       endpoint,
       "AssumeRole: HTTP 403"},
      {"imds without role",
       {{"AWS_EC2_METADATA_DISABLED", "false"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", roleless.endpoint()}},
       endpoint,
       "no role attached"},
      {"no region for AWS",
       {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "ENV-SECRET-wrong"}},
       "",
       "no region for an AWS endpoint"},
  };
  for (const auto& c : cases) {
    testing::ScopedAwsEnvironment scoped((dir_.path() / "home").string());
    env_.set("AWS_EC2_METADATA_DISABLED", "true");
    for (const auto& [name, value] : c.env) env_.set(name, value);
    const std::string file = config(c.fields);
    std::string everything;
    for (const std::string args : {"check --log-level trace", "run --log-level trace --log-format json --output json",
                                   "check --explain-credentials"}) {
      auto o = testing::run_tool(dir_, args + " --config " + file);
      // Explaining static keys that a server would refuse succeeds: it sends no S3 request.
      if (args != "check --explain-credentials" || c.name != "wrong static keys") {
        EXPECT_NE(o.exit_code, 0) << c.name << ": " << args;
      }
      everything += o.out + testing::read_stderr(dir_);
    }
    EXPECT_NE(everything.find(c.reported), std::string::npos) << c.name << ":\n" << everything;
    for (const auto& secret : secrets) {
      EXPECT_EQ(everything.find(secret), std::string::npos) << c.name << " printed " << secret << ":\n" << everything;
    }
  }
}

}  // namespace
}  // namespace s3reconcile
