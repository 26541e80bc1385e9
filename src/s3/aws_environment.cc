#include "s3/aws_environment.h"

#include <unistd.h>

extern char** environ;

namespace s3reconcile::s3 {

AwsEnvironment AwsEnvironment::from_process() {
  std::map<std::string, std::string> variables;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) variables.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return AwsEnvironment(std::move(variables));
}

std::string AwsEnvironment::get(const std::string& name) const {
  const auto it = variables_.find(name);
  return it == variables_.end() ? std::string() : it->second;
}

std::string AwsEnvironment::shared_credentials_file() const {
  if (has("AWS_SHARED_CREDENTIALS_FILE")) return get("AWS_SHARED_CREDENTIALS_FILE");
  return get("HOME") + "/.aws/credentials";
}

std::string AwsEnvironment::shared_config_file() const {
  if (has("AWS_CONFIG_FILE")) return get("AWS_CONFIG_FILE");
  return get("HOME") + "/.aws/config";
}

}  // namespace s3reconcile::s3
