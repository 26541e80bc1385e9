// The AWS credential chain, region and endpoint conventions, each source
// against an in-process fake on loopback, and refreshing during a pass.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "s3/aws_setup.h"
#include "s3/aws_shared_files.h"
#include "s3/metadata_credentials.h"
#include "s3/process_credentials.h"
#include "s3/refreshing_credentials.h"
#include "s3reconcile/s3_backend.h"
#include "support/child_process.h"
#include "support/fake_aws.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

using namespace std::chrono_literals;
using testing::CredentialIssuer;

// A home folder with ~/.aws files, and an environment built on it.
class ChainTest : public ::testing::Test {
 protected:
  testing::TempDir home_;
  std::map<std::string, std::string> vars_{{"HOME", home_.str()}};
  s3::HttpOptions http_;

  ChainTest() {
    std::filesystem::create_directories(home_.path() / ".aws");
    // Nothing may wait on a real instance metadata service.
    vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:" + std::to_string(testing::unused_loopback_port());
  }
  void write(const std::string& relative, const std::string& text, mode_t mode = 0600) {
    const auto path = home_.path() / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
  }
  std::string path(const std::string& relative) const { return (home_.path() / relative).string(); }
  StatusOr<s3::AwsSetup> resolve(S3BackendOptions options = {}) {
    return s3::resolve_aws_setup(options, s3::AwsEnvironment(vars_), http_);
  }
  // The source the chain picks, fetched once.
  StatusOr<s3::TimedCredentials> fetch(S3BackendOptions options = {}) {
    auto setup = resolve(std::move(options));
    if (!setup.ok()) return setup.status();
    picked_ = setup->credentials->describe();
    return setup->credentials->fetch({});
  }
  std::string picked_;
};

S3BackendOptions non_aws() {
  S3BackendOptions o;
  o.endpoint = "http://127.0.0.1:1";
  return o;
}

TEST(AwsSharedFiles, ProfilesNestedServiceSettingsAndMerge) {
  auto ini = s3::parse_aws_ini(
      "# comment\n[default]\nregion = eu-west-1\ns3 =\n  endpoint_url = http://a:1\n"
      "  addressing_style = path\nservices = local\n[profile prod]\nrole_arn=arn:x\n"
      "[services local]\ns3 =\n  endpoint_url = http://svc:2\nsts =\n  endpoint_url = http://sts:3\n",
      "cfg");
  ASSERT_TRUE(ini.ok()) << ini.status().to_string();
  EXPECT_EQ(ini->at("default").values.at("region"), "eu-west-1");
  EXPECT_EQ(ini->at("default").nested.at("s3").at("endpoint_url"), "http://a:1");
  EXPECT_EQ(ini->at("services local").nested.at("sts").at("endpoint_url"), "http://sts:3");
  EXPECT_EQ(ini->at("profile prod").values.at("role_arn"), "arn:x");

  auto bad = s3::parse_aws_ini("[default]\naws_secret_access_key SECRETVALUE\n", "cfg");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cfg:2"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("SECRETVALUE"), std::string::npos);
}

TEST_F(ChainTest, SharedFilesMergeCredentialsOverConfigAndServicesSections) {
  write(".aws/config",
        "[default]\nregion = eu-west-1\nservices = local\naws_access_key_id = FROMCONFIG\n"
        "[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:9\n");
  write(".aws/credentials", "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n");
  auto files = s3::AwsSharedFiles::load(s3::AwsEnvironment(vars_));
  ASSERT_TRUE(files.ok());
  auto p = files->profile("default");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->get("aws_access_key_id"), "FROMCREDS");
  EXPECT_EQ(p->get("region"), "eu-west-1");
  EXPECT_EQ(p->service_setting("s3", "endpoint_url"), "http://127.0.0.1:9");
  EXPECT_FALSE(files->profile("nope"));
}

TEST_F(ChainTest, EnvironmentKeys) {
  vars_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  vars_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  vars_["AWS_SESSION_TOKEN"] = "env-token";
  auto c = fetch(non_aws());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(c->credentials.session_token, "env-token");
  EXPECT_FALSE(c->expiration);
  EXPECT_NE(picked_.find("environment"), std::string::npos);
  vars_.erase("AWS_SECRET_ACCESS_KEY");
  auto half = fetch(non_aws());
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(ChainTest, WebIdentityFromTheEnvironmentRereadsTheTokenFile) {
  CredentialIssuer issuer("WEB");
  testing::FakeSts sts(issuer, 1h);
  sts.expected_token = "jwt-one";
  write("token", "jwt-one\n");
  vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = path("token");
  vars_["AWS_ROLE_ARN"] = "arn:aws:iam::123:role/reader";
  vars_["AWS_ROLE_SESSION_NAME"] = "nightly";
  vars_["AWS_ENDPOINT_URL_STS"] = sts.endpoint();
  auto setup = resolve(non_aws());
  ASSERT_TRUE(setup.ok()) << setup.status().to_string();
  auto first = setup->credentials->fetch({});
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->credentials.access_key_id, "WEBKEY1");
  ASSERT_TRUE(first->expiration);
  EXPECT_GT(*first->expiration, Clock::now() + 50min);
  // The platform rotates the token: the next refresh sends the new one.
  sts.expected_token = "jwt-two";
  write("token", "jwt-two");
  auto second = setup->credentials->fetch({});
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  const auto calls = sts.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].at("Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(calls[0].at("RoleArn"), "arn:aws:iam::123:role/reader");
  EXPECT_EQ(calls[0].at("RoleSessionName"), "nightly");
  EXPECT_EQ(calls[1].at("WebIdentityToken"), "jwt-two");
  EXPECT_NE(setup->credentials->describe().find(path("token")), std::string::npos);

  ::chmod(path("token").c_str(), 0);
  std::filesystem::remove(path("token"));
  auto unreadable = setup->credentials->fetch({});
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().message().find("web identity token file " + path("token") + ": not readable"),
            std::string::npos);
}

TEST_F(ChainTest, AssumeRoleFromASourceProfileIsSignedByTheSource) {
  CredentialIssuer base("BASE"), assumed("ROLE");
  base.allow("BASEKEY", "base-secret");
  testing::FakeSts sts(assumed, 1h);
  sts.signers = &base;
  sts.region = "eu-central-1";
  write(".aws/credentials", "[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = base-secret\n");
  write(".aws/config",
        "[profile prod]\nrole_arn = arn:aws:iam::1:role/prod\nsource_profile = base\n"
        "external_id = ext-9\nregion = eu-central-1\n");
  vars_["AWS_PROFILE"] = "prod";
  vars_["AWS_ENDPOINT_URL_STS"] = sts.endpoint();
  auto c = fetch(non_aws());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->credentials.access_key_id, "ROLEKEY1");
  EXPECT_EQ(sts.calls().at(0).at("Action"), "AssumeRole");
  EXPECT_EQ(sts.calls().at(0).at("ExternalId"), "ext-9");
  EXPECT_NE(picked_.find("assumed role (arn:aws:iam::1:role/prod"), std::string::npos);

  // credential_source = Environment signs with the environment's keys.
  write(".aws/config",
        "[profile prod]\nrole_arn = arn:aws:iam::1:role/prod\ncredential_source = Environment\n"
        "region = eu-central-1\n");
  base.allow("ENVBASE", "env-base-secret");
  vars_["AWS_PROFILE"] = "prod";
  auto env_source = resolve(non_aws());
  ASSERT_TRUE(env_source.ok()) << env_source.status().to_string();
  // Not yet: the keys are not in the environment.
  EXPECT_FALSE(env_source->credentials->fetch({}).ok());
  vars_["AWS_ACCESS_KEY_ID"] = "ENVBASE";
  vars_["AWS_SECRET_ACCESS_KEY"] = "env-base-secret";
  S3BackendOptions by_profile = non_aws();
  by_profile.credentials.profile = "prod";  // a named profile replaces the chain (else the env keys win)
  auto signed_by_env = fetch(by_profile);
  ASSERT_TRUE(signed_by_env.ok()) << signed_by_env.status().to_string();
  EXPECT_EQ(signed_by_env->credentials.access_key_id, "ROLEKEY2");
}

TEST_F(ChainTest, ProfileErrorsNameTheProfileAndFile) {
  write(".aws/config",
        "[profile lone]\nrole_arn = arn:aws:iam::1:role/x\n[profile loop]\nrole_arn = arn:r\n"
        "source_profile = loop2\n[profile loop2]\nrole_arn = arn:r\nsource_profile = loop\n"
        "[profile odd]\nrole_arn = arn:r\ncredential_source = Moon\n");
  S3BackendOptions o = non_aws();
  o.credentials.profile = "lone";
  auto lone = resolve(o);
  ASSERT_FALSE(lone.ok());
  EXPECT_NE(
      lone.status().message().find("profile lone in " + path(".aws/config") + ": role_arn without source_profile"),
      std::string::npos)
      << lone.status().message();
  o.credentials.profile = "loop";
  auto loop = resolve(o);
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("leads back to itself"), std::string::npos) << loop.status().message();
  o.credentials.profile = "odd";
  EXPECT_NE(resolve(o).status().message().find("credential_source Moon"), std::string::npos);
  o.credentials.profile = "absent";
  EXPECT_NE(resolve(o).status().message().find("profile absent: in neither"), std::string::npos);
}

TEST_F(ChainTest, ProfileWebIdentityTokenFile) {
  CredentialIssuer issuer("PWEB");
  testing::FakeSts sts(issuer, 1h);
  sts.expected_token = "jwt-profile";
  write("pod-token", "jwt-profile");
  write(".aws/config",
        "[default]\nrole_arn = arn:aws:iam::1:role/pod\nweb_identity_token_file = " + path("pod-token") + "\n");
  vars_["AWS_ENDPOINT_URL_STS"] = sts.endpoint();
  auto c = fetch(non_aws());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->credentials.access_key_id, "PWEBKEY1");
  EXPECT_NE(picked_.find("web identity (role arn:aws:iam::1:role/pod"), std::string::npos);
}

TEST_F(ChainTest, CredentialProcessRunsWithoutAShellAndHonoursExpiration) {
  write("bin/creds",
        "#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"proc-secret\","
        "\"SessionToken\":\"proc-token\",\"Expiration\":\"2099-01-02T03:04:05Z\"}' \"$1\"\n",
        0755);
  write(".aws/config", "[profile tool]\ncredential_process = \"" + path("bin/creds") + "\" $HOME\n");
  S3BackendOptions o = non_aws();
  o.credentials.profile = "tool";
  auto c = fetch(o);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->credentials.access_key_id, "$HOME");  // no shell: no expansion
  EXPECT_EQ(c->credentials.session_token, "proc-token");
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(iso8601_utc_micros(*c->expiration), "2099-01-02T03:04:05.000000Z");

  // A failing process: its first stderr line is quoted, the rest never.
  write("bin/fails", "#!/bin/sh\necho 'login required' >&2\necho 'debug: secret=hunter2' >&2\nexit 3\n", 0755);
  auto failed = s3::process_credentials({path("bin/fails")}, "test")->fetch({});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("exit status 3: login required"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(failed.status().message().find("hunter2"), std::string::npos);

  // A hung process is killed after its time.
  write("bin/hangs", "#!/bin/sh\nexec sleep 30\n", 0755);
  const auto start = std::chrono::steady_clock::now();
  auto hung = s3::process_credentials({path("bin/hangs")}, "test", 300ms)->fetch({});
  EXPECT_FALSE(hung.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_NE(hung.status().message().find("killed after"), std::string::npos);

  write("bin/wrong", "#!/bin/sh\necho '{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\"}'\n", 0755);
  EXPECT_NE(s3::process_credentials({path("bin/wrong")}, "t")->fetch({}).status().message().find("Version"),
            std::string::npos);
  auto split = s3::split_command_line("/bin/x 'a b' \"c d\" e");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(*split, (std::vector<std::string>{"/bin/x", "a b", "c d", "e"}));
  EXPECT_FALSE(s3::split_command_line("/bin/x 'open").ok());
}

TEST_F(ChainTest, ContainerCredentialsCheckTheTokenAndTheHost) {
  CredentialIssuer issuer("CTR");
  testing::FakeContainerEndpoint container(issuer, "pod-identity-token", 1h);
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url();
  auto none = fetch(non_aws());
  ASSERT_FALSE(none.ok());  // no token: the endpoint refuses
  EXPECT_NE(none.status().message().find("HTTP 401"), std::string::npos);
  write("token", "pod-identity-token\n");
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = path("token");
  auto c = fetch(non_aws());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->credentials.access_key_id, "CTRKEY1");
  EXPECT_EQ(c->credentials.session_token, "CTR-token-1");
  EXPECT_NE(picked_.find("container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
  vars_.erase("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "pod-identity-token";
  EXPECT_TRUE(fetch(non_aws()).ok());

  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://evil.example.com/creds";
  auto refused = resolve(non_aws());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("evil.example.com is neither loopback"), std::string::npos);
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://169.254.170.23/v1/credentials";
  EXPECT_TRUE(resolve(non_aws()).ok());
  vars_.erase("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  auto relative = resolve(non_aws());
  ASSERT_TRUE(relative.ok());
  EXPECT_NE(relative->credentials->describe().find("http://169.254.170.2/v2/credentials/abc"), std::string::npos);
}

TEST_F(ChainTest, InstanceMetadataNeedsTheSessionToken) {
  CredentialIssuer issuer("EC2");
  testing::FakeImds imds(issuer, "instance-role");
  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.endpoint();
  auto c = fetch(non_aws());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->credentials.access_key_id, "EC2KEY1");
  EXPECT_NE(picked_.find("IMDSv2"), std::string::npos);
  EXPECT_EQ(imds.refused_without_token.load(), 0);

  // The fake refuses a read without the token (IMDSv1 is not used).
  s3::HttpClient plain(http_);
  auto v1 = plain.perform("GET", imds.endpoint() + "/latest/meta-data/iam/security-credentials/", {}, {});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->status, 401);

  testing::FakeImds roleless(issuer, "");
  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = roleless.endpoint();
  EXPECT_NE(fetch(non_aws()).status().message().find("no role attached"), std::string::npos);

  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.endpoint();
  vars_["AWS_EC2_METADATA_DISABLED"] = "true";
  auto disabled = resolve(non_aws());
  ASSERT_FALSE(disabled.ok());
  EXPECT_NE(disabled.status().message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
}

TEST_F(ChainTest, NoSourceAtAllSaysWhatWasTriedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  auto none = fetch(non_aws());
  ASSERT_FALSE(none.ok());
  const std::string m = none.status().message();
  for (const char* tried : {"AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "profile default",
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "IMDSv2"}) {
    EXPECT_NE(m.find(tried), std::string::npos) << tried << " in " << m;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// One test per adjacent pair of the default chain: the earlier source wins
// when both are set up.
class Precedence : public ChainTest {
 protected:
  CredentialIssuer sts_issuer_{"STS"}, container_issuer_{"CTR"}, imds_issuer_{"EC2"};
  testing::FakeSts sts_{sts_issuer_, 1h};
  testing::FakeContainerEndpoint container_{container_issuer_, "", 1h};
  testing::FakeImds imds_{imds_issuer_, "role"};

  void set_up_environment_keys() {
    vars_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
    vars_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  }
  void set_up_web_identity() {
    sts_.expected_token = "jwt";
    write("jwt", "jwt");
    vars_["AWS_WEB_IDENTITY_TOKEN_FILE"] = path("jwt");
    vars_["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/web";
    vars_["AWS_ENDPOINT_URL_STS"] = sts_.endpoint();
  }
  void set_up_profile() {
    write(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = file-secret\n");
  }
  void set_up_container() { vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container_.url(); }
  void set_up_imds() { vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds_.endpoint(); }
  std::string winner() {
    auto c = fetch(non_aws());
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? c->credentials.access_key_id : "";
  }
};

TEST_F(Precedence, EnvironmentBeforeWebIdentity) {
  set_up_web_identity();
  EXPECT_EQ(winner(), "STSKEY1");
  set_up_environment_keys();
  EXPECT_EQ(winner(), "ENVKEY");
}

TEST_F(Precedence, WebIdentityBeforeSharedFiles) {
  set_up_profile();
  EXPECT_EQ(winner(), "FILEKEY");
  set_up_web_identity();
  EXPECT_EQ(winner(), "STSKEY1");
}

TEST_F(Precedence, SharedFilesBeforeContainer) {
  set_up_container();
  EXPECT_EQ(winner(), "CTRKEY1");
  set_up_profile();
  EXPECT_EQ(winner(), "FILEKEY");
}

TEST_F(Precedence, ContainerBeforeInstanceMetadata) {
  set_up_imds();
  EXPECT_EQ(winner(), "EC2KEY1");
  set_up_container();
  EXPECT_EQ(winner(), "CTRKEY1");
}

TEST_F(Precedence, AnExplicitSourceReplacesTheChain) {
  set_up_environment_keys();
  set_up_container();
  S3BackendOptions o = non_aws();
  o.credentials.source = "container";
  EXPECT_EQ(fetch(o)->credentials.access_key_id, "CTRKEY1");
  o.credentials.source = "instance_metadata";
  set_up_imds();
  EXPECT_EQ(fetch(o)->credentials.access_key_id, "EC2KEY1");
  o.credentials.source = "web_identity";
  sts_.expected_token = "cfg-jwt";
  write("cfg-jwt", "cfg-jwt");
  o.credentials.role_arn = "arn:aws:iam::1:role/cfg";
  o.credentials.web_identity_token_file = path("cfg-jwt");
  vars_["AWS_ENDPOINT_URL_STS"] = sts_.endpoint();
  EXPECT_EQ(fetch(o)->credentials.access_key_id, "STSKEY1");
  EXPECT_EQ(sts_.calls().back().at("RoleArn"), "arn:aws:iam::1:role/cfg");
}

TEST_F(ChainTest, RegionAndEndpointFollowTheAwsOrder) {
  vars_["AWS_ACCESS_KEY_ID"] = "K";
  vars_["AWS_SECRET_ACCESS_KEY"] = "S";
  write(".aws/config",
        "[default]\nregion = from-profile\nendpoint_url = http://profile-endpoint:1\n"
        "services = mine\n[services mine]\ns3 =\n  endpoint_url = http://profile-s3:2\n");
  auto setup = resolve();
  ASSERT_TRUE(setup.ok()) << setup.status().to_string();
  EXPECT_EQ(setup->region, "from-profile");
  EXPECT_EQ(setup->endpoint, "http://profile-s3:2");
  write(".aws/config", "[default]\nregion = from-profile\nendpoint_url = http://profile-endpoint:1\n");
  EXPECT_EQ(resolve()->endpoint, "http://profile-endpoint:1");
  vars_["AWS_ENDPOINT_URL"] = "http://env-all:3";
  EXPECT_EQ(resolve()->endpoint, "http://env-all:3");
  vars_["AWS_ENDPOINT_URL_S3"] = "http://env-s3:4";
  EXPECT_EQ(resolve()->endpoint, "http://env-s3:4");
  EXPECT_EQ(resolve()->endpoint_source, "AWS_ENDPOINT_URL_S3");
  S3BackendOptions configured;
  configured.endpoint = "http://config:5";
  configured.region = "config-region";
  EXPECT_EQ(resolve(configured)->endpoint, "http://config:5");
  EXPECT_EQ(resolve(configured)->region, "config-region");
  vars_["AWS_DEFAULT_REGION"] = "default-region";
  EXPECT_EQ(resolve()->region, "default-region");
  vars_["AWS_REGION"] = "aws-region";
  EXPECT_EQ(resolve()->region, "aws-region");
  EXPECT_EQ(resolve()->region_source, "AWS_REGION");

  // No endpoint anywhere: AWS's, for the region.
  vars_.erase("AWS_ENDPOINT_URL");
  vars_.erase("AWS_ENDPOINT_URL_S3");
  write(".aws/config", "");
  EXPECT_EQ(resolve()->endpoint, "https://s3.aws-region.amazonaws.com");
  // AWS without a region is an error naming every place a region may be.
  vars_.erase("AWS_REGION");
  vars_.erase("AWS_DEFAULT_REGION");
  auto no_region = resolve();
  ASSERT_FALSE(no_region.ok());
  for (const char* named : {"region:", "AWS_REGION", "AWS_DEFAULT_REGION", "profile default"}) {
    EXPECT_NE(no_region.status().message().find(named), std::string::npos) << no_region.status().message();
  }
  S3BackendOptions aws_host;
  aws_host.endpoint = "https://s3.amazonaws.com";
  EXPECT_FALSE(resolve(aws_host).ok());
  // Another S3 server: AWS clients' customary us-east-1.
  EXPECT_EQ(resolve(non_aws())->region, "us-east-1");
}

// A provider handing out credentials that live `lifetime`, counting calls.
class ShortLived final : public s3::CredentialProvider {
 public:
  explicit ShortLived(std::chrono::milliseconds lifetime) : lifetime_(lifetime) {}
  std::atomic<int> calls{0};
  std::atomic<bool> failing{false};
  StatusOr<s3::TimedCredentials> fetch(std::stop_token) override {
    const int n = ++calls;
    if (failing) return unavailable_error("the source is down");
    return s3::TimedCredentials{{"KEY" + std::to_string(n), "secret", "tok" + std::to_string(n)},
                                Clock::now() + lifetime_};
  }
  std::string describe() const override { return "short-lived test source"; }

 private:
  std::chrono::milliseconds lifetime_;
};

TEST(RefreshingCredentials, RefreshedInTheBackgroundBeforeTheyExpire) {
  auto provider = std::make_unique<ShortLived>(1200ms);
  ShortLived* source = provider.get();
  auto creds = s3::RefreshingCredentials::start(std::move(provider));
  ASSERT_TRUE(creds.ok());
  const auto until = Clock::now() + 3500ms;
  std::set<std::string> seen;
  while (Clock::now() < until) {
    auto c = (*creds)->current({});
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    seen.insert(c->access_key_id);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE((*creds)->refreshes(), 3);
  EXPECT_GE(seen.size(), 3u);
  EXPECT_GT(*(*creds)->expiration(), Clock::now());

  // The source fails: the old credentials serve while refreshes are retried,
  // then current() says what failed.
  source->failing = true;
  const int before = source->calls;
  std::this_thread::sleep_for(700ms);
  EXPECT_GT(source->calls.load(), before + 1);  // retried
  std::this_thread::sleep_for(1200ms);
  auto expired = (*creds)->current({});
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.status().message().find("short-lived test source"), std::string::npos);
  EXPECT_NE(expired.status().message().find("the source is down"), std::string::npos);
  source->failing = false;
  auto back = (*creds)->current({});
  EXPECT_TRUE(back.ok()) << back.status().to_string();
}

TEST(RefreshingCredentials, ARejectionRenewsOnceForEveryThreadThatSawIt) {
  auto provider = std::make_unique<ShortLived>(1h);
  ShortLived* source = provider.get();
  auto creds = s3::RefreshingCredentials::start(std::move(provider));
  ASSERT_TRUE(creds.ok());
  const s3::Credentials rejected = *(*creds)->current({});
  std::vector<std::thread> threads;
  std::atomic<int> renewed_to_two{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c = (*creds)->renew_after_rejection(rejected, {});
      if (c.ok() && c->access_key_id == "KEY2") ++renewed_to_two;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(renewed_to_two.load(), 4);
  EXPECT_EQ(source->calls.load(), 2);  // the first fetch and one renewal
  // Static credentials cannot be renewed: say so.
  auto fixed = s3::RefreshingCredentials::start(s3::fixed_credentials({"K", "S", ""}, "static"));
  EXPECT_NE((*fixed)->renew_after_rejection({"K", "S", ""}, {}).status().message().find("cannot be refreshed"),
            std::string::npos);
}

// Credentials from a container endpoint that expire every two seconds,
// during a pass of a few seconds against an S3 that refuses expired ones.
// A server that checks every signature against the credentials `issuer`
// handed out, and a backend on its bucket "phys" that finds its credentials
// in the environment (a container endpoint, or static keys).
class CredentialRefresh : public ::testing::Test {
 protected:
  testing::TempDir home_;
  testing::ScopedAwsEnvironment env_{home_.str()};
  CredentialIssuer issuer_{"TMP"};
  testing::CheckingS3 s3_{issuer_, "us-east-1"};
  std::unique_ptr<testing::FakeContainerEndpoint> container_;

  // Credentials of `lifetime` from a container endpoint that wants `token`
  // ("" for none), named by the environment.
  testing::FakeContainerEndpoint& serve_credentials(const std::string& token, std::chrono::milliseconds lifetime) {
    container_ = std::make_unique<testing::FakeContainerEndpoint>(issuer_, token, lifetime);
    env_.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", container_->url());
    if (!token.empty()) env_.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", token);
    return *container_;
  }

  std::unique_ptr<S3Backend> open(S3BackendOptions o) {
    o.endpoint = s3_.endpoint();
    o.bucket = "phys";
    o.addressing = S3Addressing::kPath;
    auto backend = S3Backend::open(o);
    EXPECT_TRUE(backend.ok()) << backend.status().to_string();
    return backend.ok() ? std::move(*backend) : nullptr;
  }

  Status list_all(S3Backend& backend, std::size_t* listed = nullptr) {
    return backend.list(ListRequest{},
                        [&](std::vector<ListedObject>& page, bool) {
                          if (listed != nullptr) *listed += page.size();
                          return true;
                        },
                        {});
  }
};

TEST_F(CredentialRefresh, APassOutlivesItsCredentialsWithoutAFailedRequest) {
  serve_credentials("tok", 2000ms);
  env_.set("AWS_EC2_METADATA_DISABLED", "true");
  for (int i = 0; i < 600; ++i) s3_.bucket.objects[fmt::format("k{:05}", i)] = i;
  s3_.delay = 25ms;
  S3BackendOptions o;
  o.page_size = 3;  // 200 pages of 25 ms or more: five seconds and up
  auto backend = open(o);
  ASSERT_NE(backend, nullptr);
  std::size_t listed = 0;
  Status s = list_all(*backend, &listed);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(listed, 600u);
  EXPECT_GE(backend->setup().refreshes, 2);
  EXPECT_GE(issuer_.count(), 3);
  EXPECT_EQ(s3_.refused.load(), 0) << s3_.last_refusal();
}

TEST_F(CredentialRefresh, AnExpiredTokenAnswerForcesOneRefreshAndOneRetry) {
  auto& container = serve_credentials("", 1h);
  s3_.bucket.objects["a"] = 1;
  S3BackendOptions o;
  o.max_attempts = 1;  // the retry after ExpiredToken is not an attempt
  auto backend = open(o);
  ASSERT_NE(backend, nullptr);
  // The server ends the session before its stated expiry (its clock, not ours).
  s3_.expire_now("TMPKEY1");
  auto probed = backend->probe("a", {});
  ASSERT_TRUE(probed.ok()) << probed.status().to_string();
  EXPECT_TRUE(probed->has_value());
  EXPECT_EQ(container.requests(), 2);  // the first fetch and one renewal
  EXPECT_EQ(s3_.refused.load(), 1);
  EXPECT_EQ(s3_.last_refusal(), "ExpiredToken");

  // Only once per request: a server that keeps saying so fails the request.
  s3_.expire_now("TMPKEY2");
  s3_.expire_now("TMPKEY3");
  Status again = list_all(*backend);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.message().find("ExpiredToken"), std::string::npos) << again.message();
  EXPECT_EQ(container.requests(), 3);
}

// HEADs sent together (probe_many) that the server refuses as expired: the
// credentials are renewed once for all of them and each is asked again.
TEST_F(CredentialRefresh, ABatchOfProbesRefusedAsExpiredRenewsOnceAndIsAskedAgain) {
  auto& container = serve_credentials("", 1h);
  s3_.bucket.objects["a"] = 1;
  s3_.bucket.objects["c"] = 3;
  S3BackendOptions o;
  o.max_attempts = 1;
  auto backend = open(o);
  ASSERT_NE(backend, nullptr);
  s3_.expire_now("TMPKEY1");
  const std::vector<std::string> keys = {"a", "b", "c"};
  const auto answers = backend->probe_many(keys, {});
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& answer : answers) ASSERT_TRUE(answer.ok()) << answer.status().to_string();
  EXPECT_TRUE(answers[0]->has_value());
  EXPECT_FALSE(answers[1]->has_value());
  EXPECT_EQ((*answers[2])->size, 3);
  EXPECT_EQ(s3_.refused.load(), 3) << "the three HEADs of the batch";
  EXPECT_EQ(container.requests(), 2) << "the first fetch and one renewal for the three";
}

// Credentials that expired and cannot be renewed: every HEAD of a batch is
// an error naming its key and why, none is sent, and the source is not asked
// again for each key (it was: a lone probe each, a renewal attempt each).
TEST_F(CredentialRefresh, ABatchWithoutCredentialsFailsEveryKeyAskingTheSourceOnce) {
  auto& container = serve_credentials("", 1500ms);
  s3_.bucket.objects["a"] = 1;
  auto backend = open({});
  ASSERT_NE(backend, nullptr);
  container.break_down();
  std::this_thread::sleep_for(1600ms);  // past the expiry: renewal attempts failed
  const int asked_before = container.requests();
  const int sent_before = s3_.served.load() + s3_.refused.load();
  const std::vector<std::string> keys = {"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"};
  const auto answers = backend->probe_many(keys, {});
  ASSERT_EQ(answers.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_FALSE(answers[i].ok()) << keys[i];
    EXPECT_NE(answers[i].status().message().find("HeadObject"), std::string::npos) << answers[i].status().message();
    EXPECT_NE(answers[i].status().message().find(keys[i]), std::string::npos) << answers[i].status().message();
    EXPECT_NE(answers[i].status().message().find("container"), std::string::npos) << answers[i].status().message();
  }
  EXPECT_EQ(s3_.served.load() + s3_.refused.load(), sent_before) << "nothing unsigned is sent";
  // One renewal attempt for the batch; a second may be the background
  // refresh's own. Eight would be one per key.
  EXPECT_LE(container.requests() - asked_before, 2);
}

TEST_F(CredentialRefresh, StaticKeysTheServerCallsExpiredFailNamingTheSource) {
  issuer_.allow("STATICKEY", "static-secret");
  s3_.expire_now("STATICKEY");
  env_.set("AWS_ACCESS_KEY_ID", "STATICKEY");
  env_.set("AWS_SECRET_ACCESS_KEY", "static-secret");
  auto backend = open({});
  ASSERT_NE(backend, nullptr);
  Status listed = list_all(*backend);
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.message().find("environment (AWS_ACCESS_KEY_ID)"), std::string::npos) << listed.message();
  EXPECT_EQ(listed.message().find("static-secret"), std::string::npos);
}

}  // namespace
}  // namespace s3reconcile
