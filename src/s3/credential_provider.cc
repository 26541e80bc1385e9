#include "s3/credential_provider.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "s3/list_xml.h"  // parse_iso8601

namespace s3reconcile::s3 {
namespace {

class FixedCredentials final : public CredentialProvider {
 public:
  FixedCredentials(Credentials credentials, std::string description)
      : credentials_(std::move(credentials)), description_(std::move(description)) {}
  StatusOr<TimedCredentials> fetch(std::stop_token) override { return TimedCredentials{credentials_, std::nullopt}; }
  std::string describe() const override { return description_; }

 private:
  Credentials credentials_;
  std::string description_;
};

std::string string_field(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::unique_ptr<CredentialProvider> fixed_credentials(Credentials credentials, std::string description) {
  return std::make_unique<FixedCredentials>(std::move(credentials), std::move(description));
}

StatusOr<std::string> read_token_file(const std::string& path, std::string_view what) {
  constexpr off_t kMaxTokenFileBytes = 64 << 10;
  struct stat st {};
  std::ifstream in(path, std::ios::binary);
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || !in) {
    return failed_precondition_error(fmt::format("{} {}: not readable", what, path));
  }
  if (st.st_size > kMaxTokenFileBytes) {
    return failed_precondition_error(fmt::format("{} {}: larger than 64 KiB", what, path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return token;
}

StatusOr<Clock::time_point> parse_expiration(std::string_view text) {
  std::string normal(text);
  for (const char* utc : {"+00:00", "+0000"}) {
    if (normal.ends_with(utc)) normal = normal.substr(0, normal.size() - std::string_view(utc).size()) + "Z";
  }
  return parse_iso8601(normal);
}

StatusOr<TimedCredentials> parse_credentials_json(std::string_view body, std::string_view source) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return data_loss_error(fmt::format("{}: the answer is not a JSON object", source));
  }
  TimedCredentials out;
  out.credentials.access_key_id = string_field(j, "AccessKeyId");
  out.credentials.secret_access_key = string_field(j, "SecretAccessKey");
  out.credentials.session_token = string_field(j, "Token");
  if (out.credentials.session_token.empty()) out.credentials.session_token = string_field(j, "SessionToken");
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty()) {
    const std::string code = string_field(j, "Code");
    return data_loss_error(fmt::format("{}: the answer has no AccessKeyId and SecretAccessKey{}", source,
                                       code.empty() ? "" : fmt::format(" (Code {})", code.substr(0, 64))));
  }
  if (const std::string expiration = string_field(j, "Expiration"); !expiration.empty()) {
    auto when = parse_expiration(expiration);
    if (!when.ok()) return data_loss_error(fmt::format("{}: Expiration is not an ISO 8601 time", source));
    out.expiration = *when;
  }
  return out;
}

}  // namespace s3reconcile::s3
