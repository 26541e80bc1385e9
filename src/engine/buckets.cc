#include "s3reconcile/buckets.h"

#include <fmt/format.h>

namespace s3reconcile {

std::string bucket_prefix(std::string_view bucket) {
  std::string prefix(bucket);
  prefix += '/';
  return prefix;
}

std::vector<std::string> sibling_prefixes(const std::vector<std::string>& known_buckets,
                                          std::string_view current) {
  std::vector<std::string> out;
  out.reserve(known_buckets.size());
  for (const auto& bucket : known_buckets) {
    if (bucket != current) out.push_back(bucket_prefix(bucket));
  }
  return out;
}

Status validate_bucket_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return invalid_argument_error(fmt::format("bucket name \"{}\" {}", name, why));
  };
  if (name.size() < 3 || name.size() > 63) return bad("must be 3 to 63 characters long");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return bad("may hold only a-z, 0-9, '.' and '-'");
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return bad("must start and end with a letter or digit");
  }
  if (name.find("..") != std::string_view::npos) return bad("must not contain \"..\"");
  return ok_status();
}

}  // namespace s3reconcile
