// The YAML configuration file: its shape, loading and validation.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "s3reconcile/reconcile.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/status.h"

namespace s3reconcile::config {

struct StoreConfig {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  // kSqlite: the file (absolute, or relative to the config file's folder).
  std::string sqlite_path;
  // kPostgres: the libpq connection string, ${VAR}s expanded. It may hold a
  // password: never print it (describe_postgres_dsn names the server).
  std::string postgres_dsn;
  // store.pending_delete_query: says whether the service has queued a path
  // for deletion ($1 the path, $2 the backend); "" = none.
  std::string pending_delete_query;
  // store.keep_pass_history: pass records (and settled shared passes) are
  // deleted this long after their pass ended; 0 keeps them all.
  std::chrono::milliseconds keep_pass_history = std::chrono::hours(24 * 90);
};

struct BackendConfig {
  std::string name;
  std::string type;  // "local" | "s3"
  // local: the folder (absolute, or relative to the config file's folder).
  std::string path;
  // s3: where and how to reach the bucket.
  S3BackendOptions s3;
  // The virtual buckets stored here; the first is the default bucket.
  // Defaults to every known bucket.
  std::vector<std::string> buckets;
  // unprefixed_keys: adopt (true, default) | ignore (false).
  bool adopt_unprefixed = true;
  // orphans: import (true, default) | report (false).
  bool import_orphans = true;
};

// The most key ranges one pass may walk at once: each holds an index
// connection, and a server's connection limit is usually in the hundreds.
inline constexpr std::size_t kMaxParallelism = 256;

struct ReconcileConfig {
  std::size_t page_size = 1000;                                // index rows per query and local keys per page
  std::size_t queue_size = 1000;                               // listing entries queued ahead of the merge
  std::size_t batch_size = 500;                                // index changes per transaction (1 = each on its own)
  std::size_t parallelism = 1;                                 // key ranges of one pass walked at once
  std::size_t ranges = 32;                                     // ranges a shared pass (run --join) is planned with
  std::chrono::milliseconds lease = std::chrono::seconds(30);  // a silent range owner is taken over after this
  RemovalLimits limits;                                        // removal guards
  bool fix_sizes = false;                                      // set size_bytes to the backend's size when they differ
  bool index_read_ahead = false;                               // query the next index page while the merge works
  std::uint64_t max_list_requests = 0;                         // listing pages per pass and backend (0 = no limit)
};

struct ServeConfig {
  std::chrono::milliseconds interval = std::chrono::hours(24);
  std::string listen = "127.0.0.1:9464";
  // Share each pass with the other instances range by range (run --join)
  // instead of taking a backend whole under its advisory lock.
  bool join = false;
  // Where the bearer token of POST /v1/passes comes from: a file (its first
  // line) or an environment variable; at most one. Neither: passes on
  // demand are disabled.
  std::string api_token_file;
  std::string api_token_env;
  // /readyz and /healthz fail for a backend whose last pass ended longer
  // ago than this many intervals (or none ended that long after start).
  std::size_t stale_after = 3;
  // serve.survey_interval: run the hidden storage survey this often and
  // export its gauges; 0 = never.
  std::chrono::milliseconds survey_interval{0};
};

struct Config {
  std::string file;  // where it was loaded from
  StoreConfig store;
  std::vector<std::string> buckets;  // every known virtual bucket
  std::vector<BackendConfig> backends;
  ReconcileConfig reconcile;
  ServeConfig serve;
};

// The largest config file read: far more than any real one.
inline constexpr long kMaxConfigBytes = 1 << 20;

// The longest duration accepted (serve.interval and the like): a year. More
// is a typo, and would overflow the clocks it is added to.
inline constexpr std::chrono::hours kMaxDuration{24 * 366};

// Reads, expands and validates a config file. Every error names the file,
// the line and the field, and says what is wrong (INVALID_ARGUMENT; an
// unreadable file is NOT_FOUND or UNAVAILABLE).
StatusOr<Config> load_config(const std::string& path);

// The same on text already in memory. `origin` names it in errors; relative
// paths resolve against `base_dir`.
StatusOr<Config> parse_config(const std::string& text, const std::string& origin, const std::string& base_dir);

// Replaces ${NAME} with the environment variable NAME ("$$" is a literal
// "$"). An unset variable is an error naming it.
StatusOr<std::string> expand_env(const std::string& value);

// "500ms", "30s", "10m", "24h", "1h30m"; at most kMaxDuration.
StatusOr<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace s3reconcile::config
