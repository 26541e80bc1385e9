#include "s3/sts.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include "s3/addressing.h"
#include "s3/retry.h"
#include "s3reconcile/printable.h"

namespace s3reconcile::s3 {
namespace {

std::string form_body(const NameValues& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  return body;
}

std::string session_name_or_default(const std::string& name) {
  if (!name.empty()) return name;
  return fmt::format("s3reconcile-{}",
                     std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count());
}

// <...Response><...Result><Credentials> from a successful answer, or the
// <ErrorResponse><Error> of a failed one, as an error naming `action`.
StatusOr<TimedCredentials> parse_sts_answer(const HttpResponse& r, const std::string& action, const std::string& where,
                                            std::initializer_list<std::string_view> secrets) {
  pugi::xml_document doc;
  const bool parsed = doc.load_buffer(r.body.data(), r.body.size());
  if (r.status != 200) {
    std::string said;
    if (parsed) {
      const pugi::xml_node error = doc.select_node("//Error").node();
      const std::string code = error.child_value("Code"), message = error.child_value("Message");
      if (!code.empty()) said += " " + printable(code, 64);
      if (!message.empty()) said += ": " + printable(message);
    }
    const StatusCode status = r.status >= 500 ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition;
    return Status(status, redact(fmt::format("{}: STS {}: HTTP {}{}", where, action, r.status, said), secrets));
  }
  const pugi::xml_node credentials = parsed ? doc.select_node("//Credentials").node() : pugi::xml_node();
  TimedCredentials out;
  out.credentials.access_key_id = credentials.child_value("AccessKeyId");
  out.credentials.secret_access_key = credentials.child_value("SecretAccessKey");
  out.credentials.session_token = credentials.child_value("SessionToken");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    return data_loss_error(fmt::format("{}: STS {}: the answer holds no <Credentials>", where, action));
  }
  auto expiration = parse_expiration(credentials.child_value("Expiration"));
  if (!expiration.ok()) return data_loss_error(fmt::format("{}: STS {}: <Expiration> is not a time", where, action));
  out.expiration = *expiration;
  return out;
}

// Posts one STS Query API call, a few attempts on transport failures and 5xx.
StatusOr<TimedCredentials> call_sts(const StsEndpoint& sts, const HttpOptions& http, const std::string& action,
                                    const NameValues& fields, const Credentials* signer, const std::string& where,
                                    std::initializer_list<std::string_view> secrets, std::stop_token stop) {
  auto endpoint = parse_endpoint(sts.url);
  if (!endpoint.ok()) return endpoint.status().with_context(fmt::format("{}: STS endpoint", where));
  NameValues all = {{"Action", action}, {"Version", "2011-06-15"}};
  all.insert(all.end(), fields.begin(), fields.end());
  const std::string body = form_body(all);
  const std::string path = endpoint->base_path.empty() ? "/" : endpoint->base_path + "/";
  const std::string host = endpoint->port.empty() ? endpoint->host : endpoint->host + ":" + endpoint->port;
  const std::string url = endpoint->scheme + "://" + host + path;
  HttpClient client(http);
  const RetryPolicy retry{3, std::chrono::milliseconds(200), std::chrono::milliseconds(2000)};
  std::mt19937_64 rng{std::random_device{}()};
  Status last = ok_status();
  for (int attempt = 1; attempt <= retry.max_attempts; ++attempt) {
    std::vector<std::string> headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
    if (signer != nullptr) {
      const auto now = Clock::now();
      RequestToSign request{"POST", path, {}, {}, sha256_hex(body)};
      request.headers = {{"host", host},
                         {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                         {"x-amz-date", amz_date(now)}};
      if (!signer->session_token.empty()) request.headers.emplace_back("x-amz-security-token", signer->session_token);
      const Signature signature = sign_v4(request, *signer, sts.region, "sts", now);
      headers = {};
      for (const auto& [name, value] : request.headers) {
        if (name != "host") headers.push_back(name + ": " + value);
      }
      headers.push_back("Authorization: " + signature.authorization);
    }
    auto response = client.perform("POST", url, headers, stop, body);
    if (response.ok()) {
      auto answer = parse_sts_answer(*response, action, where, secrets);
      if (answer.ok() || answer.status().code() != StatusCode::kUnavailable) return answer;
      last = answer.status();
    } else if (response.status().code() == StatusCode::kCancelled) {
      return response.status();
    } else {
      last = response.status().with_context(fmt::format("{}: STS {}", where, action));
    }
    if (attempt < retry.max_attempts && !sleep_unless_stopped(backoff_delay(retry, attempt, rng), stop)) {
      return cancelled_error(fmt::format("{}: STS {} cancelled", where, action));
    }
  }
  return last;
}

class WebIdentityCredentials final : public CredentialProvider {
 public:
  WebIdentityCredentials(StsEndpoint sts, RoleToAssume role, std::string token_file, HttpOptions http,
                         std::string where)
      : sts_(std::move(sts)),
        role_(std::move(role)),
        token_file_(std::move(token_file)),
        http_(std::move(http)),
        where_(std::move(where)) {}

  StatusOr<TimedCredentials> fetch(std::stop_token stop) override {
    auto read = read_token_file(token_file_, "web identity token file");
    if (!read.ok()) return read.status().with_context(describe());
    const std::string token = std::move(*read);
    if (token.empty()) {
      return failed_precondition_error(fmt::format("{}: web identity token file {}: empty", describe(), token_file_));
    }
    NameValues fields = {{"RoleArn", role_.role_arn},
                         {"RoleSessionName", session_name_or_default(role_.session_name)},
                         {"WebIdentityToken", token}};
    if (role_.duration_seconds > 0) fields.emplace_back("DurationSeconds", std::to_string(role_.duration_seconds));
    return call_sts(sts_, http_, "AssumeRoleWithWebIdentity", fields, nullptr, describe(), {token}, stop);
  }

  std::string describe() const override {
    return fmt::format("web identity (role {}, token file {}{})", role_.role_arn, token_file_,
                       where_.empty() ? "" : ", " + where_);
  }

 private:
  StsEndpoint sts_;
  RoleToAssume role_;
  std::string token_file_;
  HttpOptions http_;
  std::string where_;
};

class AssumedRoleCredentials final : public CredentialProvider {
 public:
  AssumedRoleCredentials(StsEndpoint sts, RoleToAssume role, std::unique_ptr<CredentialProvider> source,
                         HttpOptions http, std::string where)
      : sts_(std::move(sts)),
        role_(std::move(role)),
        source_(std::move(source)),
        http_(std::move(http)),
        where_(std::move(where)) {}

  StatusOr<TimedCredentials> fetch(std::stop_token stop) override {
    auto source = source_->fetch(stop);
    if (!source.ok()) return source.status().with_context(fmt::format("{}: source credentials", describe()));
    NameValues fields = {{"RoleArn", role_.role_arn}, {"RoleSessionName", session_name_or_default(role_.session_name)}};
    if (!role_.external_id.empty()) fields.emplace_back("ExternalId", role_.external_id);
    if (role_.duration_seconds > 0) fields.emplace_back("DurationSeconds", std::to_string(role_.duration_seconds));
    const Credentials& signer = source->credentials;
    return call_sts(sts_, http_, "AssumeRole", fields, &signer, describe(),
                    {signer.secret_access_key, signer.session_token}, stop);
  }

  std::string describe() const override {
    return fmt::format("assumed role ({}{}, source {})", role_.role_arn, where_.empty() ? "" : " from " + where_,
                       source_->describe());
  }

 private:
  StsEndpoint sts_;
  RoleToAssume role_;
  std::unique_ptr<CredentialProvider> source_;
  HttpOptions http_;
  std::string where_;
};

}  // namespace

StsEndpoint sts_endpoint(const AwsEnvironment& env, const AwsProfile* profile, const std::string& region) {
  const std::string signing_region = region.empty() ? "us-east-1" : region;
  if (env.has("AWS_ENDPOINT_URL_STS")) return {env.get("AWS_ENDPOINT_URL_STS"), signing_region};
  if (profile != nullptr && !profile->service_setting("sts", "endpoint_url").empty()) {
    return {profile->service_setting("sts", "endpoint_url"), signing_region};
  }
  if (env.has("AWS_ENDPOINT_URL")) return {env.get("AWS_ENDPOINT_URL"), signing_region};
  if (profile != nullptr && !profile->get("endpoint_url").empty())
    return {profile->get("endpoint_url"), signing_region};
  if (region.empty()) return {"https://sts.amazonaws.com", "us-east-1"};
  return {fmt::format("https://sts.{}.amazonaws.com", region), region};
}

std::unique_ptr<CredentialProvider> web_identity_credentials(StsEndpoint sts, RoleToAssume role, std::string token_file,
                                                             HttpOptions http, std::string where) {
  return std::make_unique<WebIdentityCredentials>(std::move(sts), std::move(role), std::move(token_file),
                                                  std::move(http), std::move(where));
}

std::unique_ptr<CredentialProvider> assumed_role_credentials(StsEndpoint sts, RoleToAssume role,
                                                             std::unique_ptr<CredentialProvider> source,
                                                             HttpOptions http, std::string where) {
  return std::make_unique<AssumedRoleCredentials>(std::move(sts), std::move(role), std::move(source), std::move(http),
                                                  std::move(where));
}

}  // namespace s3reconcile::s3
