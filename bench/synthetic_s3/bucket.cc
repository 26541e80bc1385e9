#include "bucket.h"

#include <mutex>

#include <openssl/evp.h>

namespace s3r_synthetic {
namespace {

// Real S3 gives a single-part upload the MD5 of its bytes as ETag; clients
// that check it keep working.
std::string md5_etag(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned int i = 0; i < size; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 0x0F];
  }
  return out + "\"";
}

}  // namespace

ObjectInfo Bucket::generated_info(std::uint64_t i) const {
  return ObjectInfo{generated_.key(i), KeySpace::size(i), KeySpace::etag(i), std::string(kGeneratedLastModified)};
}

std::optional<ObjectInfo> Bucket::seek(std::string_view position) const {
  std::optional<ObjectInfo> generated;
  std::uint64_t i = generated_.lower_bound(position);
  for (auto h = hidden_.lower_bound(i); h != hidden_.end() && *h == i; ++h) ++i;
  if (i < generated_.count()) generated = generated_info(i);

  const auto stored = overlay_.lower_bound(position);
  if (stored != overlay_.end() && (!generated || stored->first < generated->key)) {
    return ObjectInfo{stored->first, static_cast<std::int64_t>(stored->second.body.size()), stored->second.etag,
                      stored->second.last_modified};
  }
  return generated;
}

std::optional<ObjectInfo> Bucket::head(std::string_view key) const {
  std::shared_lock lock(mu_);
  if (auto it = overlay_.find(key); it != overlay_.end()) {
    return ObjectInfo{it->first, static_cast<std::int64_t>(it->second.body.size()), it->second.etag,
                      it->second.last_modified};
  }
  if (auto i = generated_.find(key); i && !hidden_.contains(*i)) return generated_info(*i);
  return std::nullopt;
}

std::optional<std::pair<ObjectInfo, std::string>> Bucket::get(std::string_view key) const {
  {
    std::shared_lock lock(mu_);
    if (auto it = overlay_.find(key); it != overlay_.end()) {
      return std::pair{ObjectInfo{it->first, static_cast<std::int64_t>(it->second.body.size()), it->second.etag,
                                  it->second.last_modified},
                       it->second.body};
    }
  }
  auto info = head(key);
  if (!info) return std::nullopt;
  return std::pair{*info, std::string(static_cast<std::size_t>(info->size), 'x')};
}

std::string Bucket::put(std::string key, std::string body, std::string last_modified) {
  std::string etag = md5_etag(body);
  std::unique_lock lock(mu_);
  if (auto i = generated_.find(key)) hidden_.insert(*i);
  overlay_.insert_or_assign(std::move(key), Stored{std::move(body), etag, std::move(last_modified)});
  return etag;
}

void Bucket::remove(std::string_view key) {
  std::unique_lock lock(mu_);
  if (auto it = overlay_.find(key); it != overlay_.end()) overlay_.erase(it);
  if (auto i = generated_.find(key)) hidden_.insert(*i);
}

bool Bucket::empty() const {
  std::shared_lock lock(mu_);
  return overlay_.empty() && hidden_.size() == generated_.count();
}

ListResult Bucket::list(const ListQuery& query) const {
  std::shared_lock lock(mu_);
  return list_objects(query, [this](std::string_view position) { return seek(position); });
}

}  // namespace s3r_synthetic
