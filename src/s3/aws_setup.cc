#include "s3/aws_setup.h"

#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "s3/addressing.h"
#include "s3/aws_shared_files.h"
#include "s3/metadata_credentials.h"
#include "s3/process_credentials.h"
#include "s3/sts.h"

namespace s3reconcile::s3 {
namespace {

struct Context {
  const AwsEnvironment& env;
  const AwsSharedFiles& files;
  const HttpOptions& http;
  std::string region;  // for STS
};

StatusOr<std::unique_ptr<CredentialProvider>> environment_keys(const AwsEnvironment& env, const std::string& key_var,
                                                               const std::string& secret_var,
                                                               const std::string& token_var) {
  if (!env.has(key_var))
    return not_found_error(fmt::format("environment variable {} (access key) is not set", key_var));
  if (!env.has(secret_var)) {
    return invalid_argument_error(fmt::format("{} is set but {} (secret key) is not", key_var, secret_var));
  }
  return fixed_credentials(
      Credentials{env.get(key_var), env.get(secret_var), token_var.empty() ? "" : env.get(token_var)},
      fmt::format("environment ({})", key_var));
}

StatusOr<std::unique_ptr<CredentialProvider>> web_identity_from_environment(const Context& c,
                                                                            const AwsProfile* profile) {
  const bool file = c.env.has("AWS_WEB_IDENTITY_TOKEN_FILE"), role = c.env.has("AWS_ROLE_ARN");
  if (!file && !role) return not_found_error("AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set");
  if (!file || !role) {
    return invalid_argument_error(fmt::format("web identity: {} is set but {} is not",
                                              file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                                              file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE"));
  }
  return web_identity_credentials(sts_endpoint(c.env, profile, c.region),
                                  RoleToAssume{c.env.get("AWS_ROLE_ARN"), c.env.get("AWS_ROLE_SESSION_NAME")},
                                  c.env.get("AWS_WEB_IDENTITY_TOKEN_FILE"), c.http, "AWS_WEB_IDENTITY_TOKEN_FILE");
}

StatusOr<std::unique_ptr<CredentialProvider>> instance_metadata(const AwsEnvironment& env) {
  if (!instance_metadata_enabled(env)) return not_found_error("IMDSv2: AWS_EC2_METADATA_DISABLED is true");
  return instance_metadata_credentials(env);
}

// The credentials a profile describes. NOT_FOUND when the profile holds no
// credential setting at all (a profile of region and endpoint only), so
// that the default chain can go on past it.
StatusOr<std::unique_ptr<CredentialProvider>> profile_credentials(const Context& c, const std::string& name,
                                                                  std::set<std::string> visited) {
  const auto profile = c.files.profile(name);
  if (!profile) {
    return not_found_error(
        fmt::format("profile {}: in neither {} nor {}", name, c.files.credentials_file(), c.files.config_file()));
  }
  const AwsProfile& p = *profile;
  visited.insert(name);
  auto static_keys = [&]() -> StatusOr<std::unique_ptr<CredentialProvider>> {
    const std::string key = p.get("aws_access_key_id"), secret = p.get("aws_secret_access_key");
    if (key.empty() && secret.empty()) return not_found_error(fmt::format("{}: no credentials", p.where));
    if (key.empty() || secret.empty()) {
      return invalid_argument_error(fmt::format("{}: has {} without {}", p.where,
                                                key.empty() ? "aws_secret_access_key" : "aws_access_key_id",
                                                key.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
    }
    return fixed_credentials(Credentials{key, secret, p.get("aws_session_token")}, p.where);
  };
  const std::string role_arn = p.get("role_arn");
  RoleToAssume role{role_arn, p.get("role_session_name"), p.get("external_id"), 0};
  if (const std::string d = p.get("duration_seconds"); !d.empty()) {
    try {
      role.duration_seconds = std::stoi(d);
    } catch (const std::exception&) {
      return invalid_argument_error(fmt::format("{}: duration_seconds is not a number", p.where));
    }
  }
  Context here = c;
  if (!p.get("region").empty() && here.region.empty()) here.region = p.get("region");
  const StsEndpoint sts = sts_endpoint(c.env, &p, here.region);
  if (!role_arn.empty()) {
    const std::string source_profile = p.get("source_profile"), credential_source = p.get("credential_source");
    if (!source_profile.empty() && !credential_source.empty()) {
      return invalid_argument_error(fmt::format("{}: has both source_profile and credential_source", p.where));
    }
    StatusOr<std::unique_ptr<CredentialProvider>> source = not_found_error("");
    if (!source_profile.empty()) {
      if (source_profile == name) {
        source = static_keys();
      } else if (visited.count(source_profile) != 0) {
        return invalid_argument_error(
            fmt::format("{}: source_profile {} leads back to itself", p.where, source_profile));
      } else {
        source = profile_credentials(c, source_profile, visited);
      }
      if (!source.ok())
        return source.status().with_context(fmt::format("{}: source_profile {}", p.where, source_profile));
    } else if (credential_source == "Environment") {
      source = environment_keys(c.env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
    } else if (credential_source == "Ec2InstanceMetadata") {
      source = instance_metadata(c.env);
    } else if (credential_source == "EcsContainer") {
      source = container_credentials(c.env);
    } else if (!credential_source.empty()) {
      return invalid_argument_error(
          fmt::format("{}: credential_source {} is not Environment, Ec2InstanceMetadata or EcsContainer", p.where,
                      credential_source));
    } else if (!p.get("web_identity_token_file").empty()) {
      return web_identity_credentials(sts, role, p.get("web_identity_token_file"), c.http, p.where);
    } else {
      return invalid_argument_error(
          fmt::format("{}: role_arn without source_profile, credential_source or web_identity_token_file", p.where));
    }
    if (!source.ok()) return source.status().with_context(fmt::format("{}: credential_source", p.where));
    return assumed_role_credentials(sts, role, std::move(*source), c.http, p.where);
  }
  if (!p.get("web_identity_token_file").empty()) {
    return invalid_argument_error(fmt::format("{}: web_identity_token_file without role_arn", p.where));
  }
  if (const std::string command = p.get("credential_process"); !command.empty()) {
    auto argv = split_command_line(command);
    if (!argv.ok()) return argv.status().with_context(p.where);
    return process_credentials(std::move(*argv), p.where);
  }
  return static_keys();
}

// A source whose first failure says what the chain tried before it.
class LastResort final : public CredentialProvider {
 public:
  LastResort(std::unique_ptr<CredentialProvider> inner, std::string tried)
      : inner_(std::move(inner)), tried_(std::move(tried)) {}
  StatusOr<TimedCredentials> fetch(std::stop_token stop) override {
    auto fetched = inner_->fetch(stop);
    if (fetched.ok()) {
      served_ = true;
    } else if (!served_) {
      return fetched.status().with_context(tried_);
    }
    return fetched;
  }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<CredentialProvider> inner_;
  std::string tried_;
  bool served_ = false;  // only the refresh thread calls fetch() after the first
};

// The documented default chain; the first source that is set up wins.
StatusOr<std::unique_ptr<CredentialProvider>> default_chain(const Context& c, const std::string& profile_name,
                                                            bool profile_named) {
  std::vector<std::string> tried;
  auto env = environment_keys(c.env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
  if (env.ok() || env.status().code() != StatusCode::kNotFound) return env;
  tried.push_back("AWS_ACCESS_KEY_ID is not set");
  const auto profile = c.files.profile(profile_name);
  auto web = web_identity_from_environment(c, profile ? &*profile : nullptr);
  if (web.ok() || web.status().code() != StatusCode::kNotFound) return web;
  tried.push_back("AWS_WEB_IDENTITY_TOKEN_FILE is not set");
  auto shared = profile_credentials(c, profile_name, {});
  // A profile someone named must exist; the implicit default one may be
  // absent. Either may hold no credentials (a region only): the chain goes on.
  if (shared.ok() || shared.status().code() != StatusCode::kNotFound || (profile_named && !profile)) return shared;
  tried.push_back(shared.status().message());
  if (container_credentials_configured(c.env)) return container_credentials(c.env);
  tried.push_back("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
  auto imds = instance_metadata(c.env);
  if (!imds.ok()) {
    tried.push_back(imds.status().message());
    return not_found_error(fmt::format("no AWS credentials found; tried: {}", fmt::join(tried, "; ")));
  }
  // The last resort: off EC2 its failure is the chain's, so say all that was tried.
  return std::unique_ptr<CredentialProvider>(std::make_unique<LastResort>(
      std::move(*imds), fmt::format("no AWS credentials found; tried: {}; then", fmt::join(tried, "; "))));
}

StatusOr<std::unique_ptr<CredentialProvider>> choose_credentials(const S3CredentialSource& source, const Context& c,
                                                                 const std::string& profile_name, bool profile_named) {
  if (!source.access_key_env.empty() || !source.secret_key_env.empty()) {
    auto named = environment_keys(c.env, source.access_key_env, source.secret_key_env, source.session_token_env);
    if (!named.ok() && named.status().code() == StatusCode::kNotFound) {
      return invalid_argument_error(named.status().message());
    }
    return named;
  }
  const std::string& kind = source.source;
  if (kind.empty() || kind == "chain") {
    // A `profile:` in the config chooses the profile as the source.
    if (!source.profile.empty()) return profile_credentials(c, profile_name, {});
    return default_chain(c, profile_name, profile_named);
  }
  if (kind == "environment")
    return environment_keys(c.env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
  if (kind == "profile") return profile_credentials(c, profile_name, {});
  if (kind == "web_identity") {
    if (!source.role_arn.empty() || !source.web_identity_token_file.empty()) {
      if (source.role_arn.empty() || source.web_identity_token_file.empty()) {
        return invalid_argument_error(
            "credentials.source web_identity needs both role_arn and web_identity_token_file");
      }
      return web_identity_credentials(sts_endpoint(c.env, nullptr, c.region),
                                      RoleToAssume{source.role_arn, source.role_session_name},
                                      source.web_identity_token_file, c.http, "credentials: in the config");
    }
    const auto profile = c.files.profile(profile_name);
    return web_identity_from_environment(c, profile ? &*profile : nullptr);
  }
  if (kind == "container") {
    if (!container_credentials_configured(c.env)) {
      return invalid_argument_error(
          "credentials.source container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
    }
    return container_credentials(c.env);
  }
  if (kind == "instance_metadata") return instance_metadata(c.env);
  return invalid_argument_error(fmt::format("unknown credentials source \"{}\"", kind));
}

bool is_aws_host(const std::string& endpoint) {
  auto parsed = parse_endpoint(endpoint);
  if (!parsed.ok()) return false;
  return parsed->host.ends_with(".amazonaws.com") || parsed->host.ends_with(".amazonaws.com.cn");
}

}  // namespace

StatusOr<AwsSetup> resolve_aws_setup(const S3BackendOptions& options, const AwsEnvironment& env,
                                     const HttpOptions& http) {
  auto files = AwsSharedFiles::load(env);
  if (!files.ok()) return files.status();
  const bool profile_named = !options.credentials.profile.empty() || env.has("AWS_PROFILE");
  const std::string profile_name = !options.credentials.profile.empty() ? options.credentials.profile
                                   : env.has("AWS_PROFILE")             ? env.get("AWS_PROFILE")
                                                                        : "default";
  const auto profile = files->profile(profile_name);
  AwsSetup setup;

  // The endpoint first: whether it is AWS's decides whether a region is required.
  const bool ignore_configured = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true";
  if (!options.endpoint.empty()) {
    setup.endpoint = options.endpoint, setup.endpoint_source = "endpoint: in the config";
  } else if (!ignore_configured && env.has("AWS_ENDPOINT_URL_S3")) {
    setup.endpoint = env.get("AWS_ENDPOINT_URL_S3"), setup.endpoint_source = "AWS_ENDPOINT_URL_S3";
  } else if (!ignore_configured && env.has("AWS_ENDPOINT_URL")) {
    setup.endpoint = env.get("AWS_ENDPOINT_URL"), setup.endpoint_source = "AWS_ENDPOINT_URL";
  } else if (!ignore_configured && profile && !profile->service_setting("s3", "endpoint_url").empty()) {
    setup.endpoint = profile->service_setting("s3", "endpoint_url");
    setup.endpoint_source = "s3 endpoint_url of " + profile->where;
  } else if (!ignore_configured && profile && !profile->get("endpoint_url").empty()) {
    setup.endpoint = profile->get("endpoint_url"), setup.endpoint_source = "endpoint_url of " + profile->where;
  }
  if (!setup.endpoint.empty() && !setup.endpoint.starts_with("http://") && !setup.endpoint.starts_with("https://")) {
    return invalid_argument_error(fmt::format("endpoint {} (from {}) must start with http:// or https://",
                                              setup.endpoint, setup.endpoint_source));
  }

  if (!options.region.empty()) {
    setup.region = options.region, setup.region_source = "region: in the config";
  } else if (env.has("AWS_REGION")) {
    setup.region = env.get("AWS_REGION"), setup.region_source = "AWS_REGION";
  } else if (env.has("AWS_DEFAULT_REGION")) {
    setup.region = env.get("AWS_DEFAULT_REGION"), setup.region_source = "AWS_DEFAULT_REGION";
  } else if (profile && !profile->get("region").empty()) {
    setup.region = profile->get("region"), setup.region_source = "region of " + profile->where;
  } else if (setup.endpoint.empty() || is_aws_host(setup.endpoint)) {
    return invalid_argument_error(fmt::format(
        "no region for an AWS endpoint: set region: in the config, AWS_REGION, AWS_DEFAULT_REGION, or region in "
        "profile {} of {}",
        profile_name, files->config_file()));
  } else {
    // S3-compatible servers (radosgw, MinIO, Swift's s3api) accept the
    // signing region AWS clients default to.
    setup.region = "us-east-1", setup.region_source = "default for a non-AWS endpoint";
  }
  if (setup.endpoint.empty()) {
    setup.endpoint = fmt::format("https://s3.{}.amazonaws.com", setup.region);
    setup.endpoint_source = "AWS's endpoint for the region";
  }

  const Context context{env, *files, http, setup.region};
  auto credentials = choose_credentials(options.credentials, context, profile_name, profile_named);
  if (!credentials.ok()) return credentials.status();
  setup.credentials = std::move(*credentials);
  return setup;
}

}  // namespace s3reconcile::s3
