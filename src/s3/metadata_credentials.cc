#include "s3/metadata_credentials.h"

#include <algorithm>

#include <fmt/format.h>

#include "s3/addressing.h"
#include "s3/http_client.h"
#include "s3reconcile/printable.h"

namespace s3reconcile::s3 {
namespace {

constexpr const char* kEcsHost = "http://169.254.170.2";

HttpOptions metadata_http() {
  HttpOptions http;
  http.connect_timeout = std::chrono::milliseconds(1000);
  http.request_timeout = std::chrono::milliseconds(5000);
  http.max_body_bytes = 64u << 10;
  return http;
}

bool allowed_full_uri_host(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "169.254.170.2" || host == "169.254.170.23" ||
      host == "[fd00:ec2::23]") {
    return true;
  }
  return host.starts_with("127.");  // 127.0.0.0/8
}

class ContainerCredentials final : public CredentialProvider {
 public:
  ContainerCredentials(std::string url, std::string token, std::string token_file, std::string variable)
      : url_(std::move(url)),
        token_(std::move(token)),
        token_file_(std::move(token_file)),
        variable_(std::move(variable)) {}

  StatusOr<TimedCredentials> fetch(std::stop_token stop) override {
    std::string token = token_;
    if (!token_file_.empty()) {
      auto read = read_token_file(token_file_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
      if (!read.ok()) return read.status().with_context(describe());
      token = *read;
    }
    std::vector<std::string> headers;
    if (!token.empty()) headers.push_back("Authorization: " + token);
    HttpClient client(metadata_http());
    auto response = client.perform("GET", url_, headers, stop);
    if (!response.ok()) return response.status().with_context(describe());
    if (response->status != 200) {
      return Status(response->status >= 500 ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
                    redact(fmt::format("{}: HTTP {}: {}", describe(), response->status, printable(response->body, 200)),
                           {token}));
    }
    return parse_credentials_json(response->body, describe());
  }

  std::string describe() const override {
    return fmt::format("container credentials ({} {}{})", variable_, url_,
                       token_file_.empty() ? (token_.empty() ? "" : ", token from AWS_CONTAINER_AUTHORIZATION_TOKEN")
                                           : ", token file " + token_file_);
  }

 private:
  std::string url_, token_, token_file_, variable_;
};

class InstanceMetadataCredentials final : public CredentialProvider {
 public:
  explicit InstanceMetadataCredentials(std::string endpoint) : endpoint_(std::move(endpoint)) {
    while (endpoint_.ends_with('/')) endpoint_.pop_back();
  }

  StatusOr<TimedCredentials> fetch(std::stop_token stop) override {
    HttpClient client(metadata_http());
    auto token =
        client.perform("PUT", endpoint_ + "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 21600"}, stop);
    if (!token.ok()) return token.status().with_context(describe() + ": no session token");
    if (token->status != 200 || token->body.empty()) {
      return failed_precondition_error(
          fmt::format("{}: the token request answered HTTP {}", describe(), token->status));
    }
    const std::string header = "X-aws-ec2-metadata-token: " + token->body;
    const std::string base = endpoint_ + "/latest/meta-data/iam/security-credentials/";
    auto role = client.perform("GET", base, {header}, stop);
    if (!role.ok()) return role.status().with_context(describe());
    if (role->status == 404 || (role->status == 200 && role->body.empty())) {
      return failed_precondition_error(fmt::format("{}: no role attached to this instance", describe()));
    }
    if (role->status != 200) {
      return failed_precondition_error(fmt::format("{}: the role request answered HTTP {}", describe(), role->status));
    }
    std::string name = role->body.substr(0, role->body.find('\n'));
    if (name.find_first_of("/?#% ") != std::string::npos) {
      return data_loss_error(fmt::format("{}: the role name {} is not a name", describe(), printable(name, 128)));
    }
    auto credentials = client.perform("GET", base + name, {header}, stop);
    if (!credentials.ok()) return credentials.status().with_context(describe());
    if (credentials->status != 200) {
      return failed_precondition_error(fmt::format("{}: role {}: HTTP {}", describe(), name, credentials->status));
    }
    return parse_credentials_json(credentials->body, fmt::format("{}: role {}", describe(), name));
  }

  std::string describe() const override { return fmt::format("IMDSv2 ({})", endpoint_); }

 private:
  std::string endpoint_;
};

}  // namespace

bool container_credentials_configured(const AwsEnvironment& env) {
  return env.has("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env.has("AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

StatusOr<std::unique_ptr<CredentialProvider>> container_credentials(const AwsEnvironment& env) {
  const std::string token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  const std::string token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (env.has("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    const std::string relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!relative.starts_with("/")) {
      return invalid_argument_error("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /");
    }
    return std::unique_ptr<CredentialProvider>(std::make_unique<ContainerCredentials>(
        kEcsHost + relative, token, token_file, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
  }
  const std::string full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  auto parsed = parse_endpoint(full);
  if (!parsed.ok() || (parsed->scheme != "http" && parsed->scheme != "https")) {
    return invalid_argument_error(
        fmt::format("AWS_CONTAINER_CREDENTIALS_FULL_URI {} is not an http(s) URL", printable(full, 200)));
  }
  if (!allowed_full_uri_host(parsed->host)) {
    return invalid_argument_error(fmt::format(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI host {} is neither loopback nor 169.254.170.2, 169.254.170.23 or "
        "fd00:ec2::23: refused, so that credentials are only ever fetched from the platform",
        printable(parsed->host, 200)));
  }
  return std::unique_ptr<CredentialProvider>(
      std::make_unique<ContainerCredentials>(full, token, token_file, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

bool instance_metadata_enabled(const AwsEnvironment& env) {
  std::string disabled = env.get("AWS_EC2_METADATA_DISABLED");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(), [](unsigned char c) { return std::tolower(c); });
  return disabled != "true";
}

std::unique_ptr<CredentialProvider> instance_metadata_credentials(const AwsEnvironment& env) {
  const std::string endpoint = env.has("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                                   ? env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                                   : "http://169.254.169.254";
  return std::make_unique<InstanceMetadataCredentials>(endpoint);
}

}  // namespace s3reconcile::s3
