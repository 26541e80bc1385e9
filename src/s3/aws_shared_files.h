// The AWS shared files, ~/.aws/credentials and ~/.aws/config, read as the
// AWS CLI reads them: INI sections, `[profile name]` in the config file,
// `[name]` in the credentials file, and nested service settings
// ("s3 =" followed by indented "endpoint_url = ..." lines), either inside a
// profile or in a `[services name]` section the profile names.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "s3/aws_environment.h"
#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

struct IniSection {
  std::map<std::string, std::string> values;                         // names lowercased
  std::map<std::string, std::map<std::string, std::string>> nested;  // "s3" -> {"endpoint_url": ...}
};

// One profile, the two files merged: the credentials file's keys win over
// the config file's for the same name, as in the AWS CLI.
struct AwsProfile {
  std::string name;
  std::map<std::string, std::string> values;
  // Per service ("s3", "sts"): settings from the profile's nested
  // sections and from its `services` section.
  std::map<std::string, std::map<std::string, std::string>> services;
  // Where it was found, for messages: "profile prod in /root/.aws/config".
  std::string where;

  std::string get(const std::string& name) const;
  std::string service_setting(const std::string& service, const std::string& name) const;
};

class AwsSharedFiles {
 public:
  // Reads both files. A file that does not exist is empty; one that exists
  // but cannot be read, is larger than 1 MiB or has a line that is not INI
  // is an error naming the file and the line (never the line's text: it may
  // hold a secret).
  static StatusOr<AwsSharedFiles> load(const AwsEnvironment& env);

  // The profile `name` from either file; std::nullopt when neither has it.
  std::optional<AwsProfile> profile(const std::string& name) const;

  const std::string& credentials_file() const { return credentials_file_; }
  const std::string& config_file() const { return config_file_; }

 private:
  std::string credentials_file_, config_file_;
  std::map<std::string, IniSection> credentials_;  // profile -> section
  std::map<std::string, IniSection> config_;       // profile -> section
  std::map<std::string, IniSection> services_;     // [services name]
};

// Parses INI text of `file` into sections keyed by their header as written
// ("default", "profile prod", "services local"). Exposed for tests.
StatusOr<std::map<std::string, IniSection>> parse_aws_ini(const std::string& text, const std::string& file);

}  // namespace s3reconcile::s3
