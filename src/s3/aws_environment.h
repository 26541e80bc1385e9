// The process environment as the AWS conventions read it: a snapshot taken
// once, so that a backend resolves its setup from one consistent view, and
// tests can hand in their own without touching the process's.
#pragma once

#include <map>
#include <string>

namespace s3reconcile::s3 {

class AwsEnvironment {
 public:
  AwsEnvironment() = default;
  explicit AwsEnvironment(std::map<std::string, std::string> variables) : variables_(std::move(variables)) {}

  // Every variable of this process, as it is now.
  static AwsEnvironment from_process();

  // The value of `name`; "" when unset (an empty value counts as unset, as
  // the AWS CLI treats it).
  std::string get(const std::string& name) const;
  bool has(const std::string& name) const { return !get(name).empty(); }

  // ~/.aws/credentials and ~/.aws/config, or the files the variables name.
  std::string shared_credentials_file() const;
  std::string shared_config_file() const;

 private:
  std::map<std::string, std::string> variables_;
};

}  // namespace s3reconcile::s3
