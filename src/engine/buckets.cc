#include "s3reconcile/buckets.h"

#include <algorithm>

#include <fmt/format.h>

namespace s3reconcile {

std::string bucket_prefix(std::string_view bucket) {
  std::string prefix(bucket);
  prefix += '/';
  return prefix;
}

std::vector<std::string> sibling_prefixes(const std::vector<std::string>& known_buckets, std::string_view current) {
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

namespace {

// Whether `path` starts with "bucket/".
bool under_bucket(std::string_view path, std::string_view bucket) {
  return path.size() > bucket.size() && path[bucket.size()] == '/' && path.starts_with(bucket);
}

}  // namespace

PathClassifier::PathClassifier(std::vector<std::string> backend_buckets, const std::vector<std::string>& known_buckets,
                               bool adopt_unprefixed)
    : own_(std::move(backend_buckets)), adopt_unprefixed_(adopt_unprefixed) {
  if (own_.empty()) own_.push_back("");  // no bucket: nothing native, nothing adopted
  for (const auto& k : known_buckets) known_.push_back(k);
  for (const auto& b : own_) {
    if (std::find(known_.begin(), known_.end(), b) == known_.end()) known_.push_back(b);
  }
}

PathClassifier::Class PathClassifier::classify(std::string_view path) const {
  for (const auto& b : own_) {
    if (!b.empty() && under_bucket(path, b)) return Class{Kind::kNative, b};
  }
  for (const auto& k : known_) {
    if (under_bucket(path, k)) return Class{Kind::kOut, {}};
  }
  if (adopt_unprefixed_ && !own_.front().empty()) return Class{Kind::kAdopted, own_.front()};
  return Class{Kind::kOut, {}};
}

std::string_view PathClassifier::bucket_of_key(std::string_view object_key) const {
  for (const auto& k : known_) {
    if (under_bucket(object_key, k)) return k;
  }
  return {};
}

}  // namespace s3reconcile
