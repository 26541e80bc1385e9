// What the s3r-bench subcommands share: opening the S3 backend and the
// PostgreSQL index from flags, the key naming of the synthetic endpoint, a
// stopwatch, and the one-line "name=value ..." report bench/run parses.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "args.h"
#include "s3reconcile/index_store.h"
#include "s3reconcile/s3_backend.h"

namespace s3r_bench {

// --endpoint, --bucket, --region (us-east-1), --page-size (1000); the keys
// come from the environment variables named by --access-key-env and
// --secret-key-env (S3R_TEST_ACCESS_KEY, S3R_TEST_SECRET_KEY), path-style.
std::unique_ptr<s3reconcile::S3Backend> open_s3(const Args& args);

// --dsn: the PostgreSQL index (created or migrated on open).
std::unique_ptr<s3reconcile::IndexStore> open_index(const Args& args);

// The synthetic endpoint's key i under `prefix`: prefix + "d" + lpad(i / 10000, 5)
// + "/o" + lpad(i, 12), e.g. "vb/d00000/o000000000000".
std::string synthetic_key(const std::string& prefix, std::int64_t i);

// The key range [prefix, prefix with its last byte incremented): everything
// under `prefix`.
s3reconcile::KeyRange prefix_range(const std::string& prefix);

class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count(); }

 private:
  std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
};

// This process's peak resident set so far, in KiB (getrusage).
long peak_rss_kib();

// Throws std::runtime_error with the status when it is an error.
void check(const s3reconcile::Status& status, const std::string& what);

}  // namespace s3r_bench
