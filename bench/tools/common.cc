#include "common.h"

#include <sys/resource.h>

#include <cstdio>
#include <stdexcept>

#include "s3reconcile/postgres_store.h"

namespace s3r_bench {

std::unique_ptr<s3reconcile::S3Backend> open_s3(const Args& args) {
  s3reconcile::S3BackendOptions o;
  o.endpoint = args.required("endpoint");
  o.bucket = args.required("bucket");
  o.region = args.str("region", "us-east-1");
  o.addressing = s3reconcile::S3Addressing::kPath;
  o.page_size = static_cast<std::size_t>(args.num("page-size", 1000));
  o.credentials.access_key_env = args.str("access-key-env", "S3R_TEST_ACCESS_KEY");
  o.credentials.secret_key_env = args.str("secret-key-env", "S3R_TEST_SECRET_KEY");
  auto opened = s3reconcile::S3Backend::open(std::move(o));
  check(opened.status(), "opening the S3 backend");
  return std::move(*opened);
}

std::unique_ptr<s3reconcile::IndexStore> open_index(const Args& args) {
  s3reconcile::PostgresStoreOptions o;
  o.dsn = args.required("dsn");
  auto opened = s3reconcile::open_postgres_store(o);
  check(opened.status(), "opening the PostgreSQL index");
  return std::move(*opened);
}

std::string synthetic_key(const std::string& prefix, std::int64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "d%05lld/o%012lld", static_cast<long long>(i / 10000), static_cast<long long>(i));
  return prefix + buf;
}

s3reconcile::KeyRange prefix_range(const std::string& prefix) {
  if (prefix.empty()) return {};
  std::string end = prefix;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return {prefix, end};
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

void check(const s3reconcile::Status& status, const std::string& what) {
  if (!status.ok()) throw std::runtime_error(what + ": " + status.to_string());
}

}  // namespace s3r_bench
