#include "s3/aws_shared_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace s3reconcile::s3 {
namespace {

constexpr std::size_t kMaxFileBytes = 1u << 20;

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The file's text; "" when it does not exist.
StatusOr<std::string> read_if_present(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::string();
  if (!S_ISREG(st.st_mode))
    return invalid_argument_error(fmt::format("AWS shared file \"{}\" is not a regular file", path));
  if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    return invalid_argument_error(fmt::format("AWS shared file \"{}\" is larger than 1 MiB", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed_precondition_error(fmt::format("AWS shared file \"{}\" exists but is not readable", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

StatusOr<std::map<std::string, IniSection>> parse_aws_ini(const std::string& text, const std::string& file) {
  std::map<std::string, IniSection> sections;
  IniSection* section = nullptr;
  std::string nested_name;  // the "s3 =" being filled by indented lines
  std::istringstream in(text);
  std::string raw;
  for (int line_number = 1; std::getline(in, raw); ++line_number) {
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (line.front() == '[') {
      if (line.back() != ']') {
        return invalid_argument_error(fmt::format("{}:{}: a section header without its closing ]", file, line_number));
      }
      section = &sections[trim(line.substr(1, line.size() - 2))];
      nested_name.clear();
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || section == nullptr) {
      return invalid_argument_error(
          fmt::format("{}:{}: not a \"name = value\" line inside a [section]", file, line_number));
    }
    const std::string name = lower(trim(line.substr(0, eq)));
    const std::string value = trim(line.substr(eq + 1));
    if (indented && !nested_name.empty()) {
      section->nested[nested_name][name] = value;
      continue;
    }
    nested_name.clear();
    if (value.empty()) {
      nested_name = name;  // "s3 =": indented settings follow
      section->nested[name];
      continue;
    }
    section->values[name] = value;
  }
  return sections;
}

std::string AwsProfile::get(const std::string& name) const {
  const auto it = values.find(name);
  return it == values.end() ? std::string() : it->second;
}

std::string AwsProfile::service_setting(const std::string& service, const std::string& name) const {
  const auto s = services.find(service);
  if (s == services.end()) return "";
  const auto it = s->second.find(name);
  return it == s->second.end() ? std::string() : it->second;
}

StatusOr<AwsSharedFiles> AwsSharedFiles::load(const AwsEnvironment& env) {
  AwsSharedFiles files;
  files.credentials_file_ = env.shared_credentials_file();
  files.config_file_ = env.shared_config_file();
  auto credentials_text = read_if_present(files.credentials_file_);
  if (!credentials_text.ok()) return credentials_text.status();
  auto credentials = parse_aws_ini(*credentials_text, files.credentials_file_);
  if (!credentials.ok()) return credentials.status();
  files.credentials_ = std::move(*credentials);
  auto config_text = read_if_present(files.config_file_);
  if (!config_text.ok()) return config_text.status();
  auto config = parse_aws_ini(*config_text, files.config_file_);
  if (!config.ok()) return config.status();
  for (auto& [header, section] : *config) {
    if (header == "default") {
      files.config_.try_emplace("default", std::move(section));
    } else if (header.starts_with("profile ")) {
      files.config_[trim(header.substr(8))] = std::move(section);  // [profile default] wins over [default]
    } else if (header.starts_with("services ")) {
      files.services_[trim(header.substr(9))] = std::move(section);
    }
    // [sso-session ...] and other sections are not ours to read.
  }
  return files;
}

std::optional<AwsProfile> AwsSharedFiles::profile(const std::string& name) const {
  const auto in_config = config_.find(name);
  const auto in_credentials = credentials_.find(name);
  if (in_config == config_.end() && in_credentials == credentials_.end()) return std::nullopt;
  AwsProfile p;
  p.name = name;
  std::vector<std::string> found_in;
  if (in_config != config_.end()) {
    p.values = in_config->second.values;
    p.services = in_config->second.nested;
    found_in.push_back(config_file_);
  }
  if (in_credentials != credentials_.end()) {
    for (const auto& [k, v] : in_credentials->second.values) p.values[k] = v;
    found_in.insert(found_in.begin(), credentials_file_);
  }
  if (const auto services = p.values.find("services"); services != p.values.end()) {
    if (const auto s = services_.find(services->second); s != services_.end()) {
      for (const auto& [service, settings] : s->second.nested) {
        for (const auto& [k, v] : settings) p.services[service].try_emplace(k, v);
      }
    }
  }
  p.where = fmt::format("profile {} in {}", name, fmt::join(found_in, " and "));
  return p;
}

}  // namespace s3reconcile::s3
