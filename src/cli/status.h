// `s3reconcile status`: the passes recorded in the index (every store), and
// the shared passes with their ranges (PostgreSQL).
#pragma once

#include <cstddef>
#include <string>

namespace s3reconcile::cli {

struct StatusFlags {
  std::string config_file;
  std::string output = "text";
  std::size_t limit = 20;  // records per backend, and shared passes
};

// Prints, per backend of the config, its latest pass records; then, when
// the index keeps a ledger, the latest shared passes with their ranges.
// Exit 0, 1 when the index cannot be read, 2 on a bad config.
int status_command(const StatusFlags& flags);

}  // namespace s3reconcile::cli
