#include "s3/credentials.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

namespace s3reconcile::s3 {
namespace {

std::string env(const std::string& name) {
  const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
  return v ? v : "";
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::string shared_credentials_path() {
  if (auto p = env("AWS_SHARED_CREDENTIALS_FILE"); !p.empty()) return p;
  return env("HOME") + "/.aws/credentials";
}

}  // namespace

StatusOr<Credentials> read_shared_credentials(const std::string& path, const std::string& profile) {
  std::ifstream in(path);
  if (!in) return not_found_error(fmt::format("cannot read AWS credentials file \"{}\"", path));
  Credentials found;
  bool in_profile = false, seen_profile = false;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(line.substr(1, line.size() - 2)) == profile;
      seen_profile = seen_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") found.access_key_id = value;
    else if (key == "aws_secret_access_key") found.secret_access_key = value;
    else if (key == "aws_session_token") found.session_token = value;
  }
  if (!seen_profile) {
    return not_found_error(fmt::format("AWS credentials file \"{}\" has no profile [{}]", path, profile));
  }
  if (found.access_key_id.empty() || found.secret_access_key.empty()) {
    return invalid_argument_error(fmt::format(
        "profile [{}] in \"{}\" lacks aws_access_key_id or aws_secret_access_key", profile, path));
  }
  return found;
}

StatusOr<Credentials> resolve_credentials(const S3CredentialSource& source) {
  if (!source.access_key_env.empty() || !source.secret_key_env.empty()) {
    Credentials c{env(source.access_key_env), env(source.secret_key_env), env(source.session_token_env)};
    if (c.access_key_id.empty()) {
      return invalid_argument_error(fmt::format("environment variable {} (access key) is not set", source.access_key_env));
    }
    if (c.secret_access_key.empty()) {
      return invalid_argument_error(fmt::format("environment variable {} (secret key) is not set", source.secret_key_env));
    }
    return c;
  }
  std::string profile = source.profile.empty() ? env("AWS_PROFILE") : source.profile;
  if (!profile.empty()) return read_shared_credentials(shared_credentials_path(), profile);
  if (!env("AWS_ACCESS_KEY_ID").empty()) {
    Credentials c{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
    if (c.secret_access_key.empty()) {
      return invalid_argument_error("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    }
    return c;
  }
  auto from_file = read_shared_credentials(shared_credentials_path(), "default");
  if (!from_file.ok()) {
    return from_file.status().with_context(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile, or");
  }
  return from_file;
}

}  // namespace s3reconcile::s3
