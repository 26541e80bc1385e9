// Index layouts whose rows live at other paths than their keys, shared by
// the end-to-end tests of both stores.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes.h"
#include "s3reconcile/index_store.h"
#include "support/run_tool.h"
#include "temp_dir.h"

namespace s3reconcile::testing {

// A consistent index (every row points at real bytes) in which no row's
// storage_key equals its object_key: per-write paths ("key!writeid"),
// content-addressed blobs, UUID-named blobs, an adopted key, and two names
// for one path. Writes the files under `folder` of `dir` and returns the
// rows as (object_key, storage_key).
inline std::vector<std::pair<std::string, std::string>> write_rows_at_other_paths(const TempDir& dir,
                                                                                  const std::string& folder) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"photos/a1.jpg", "photos/a1.jpg!w1"},
      {"photos/a2.jpg", "photos/a2.jpg!w7"},
      {"photos/sunset.jpg", "cas/9f86d081884c7d65"},
      {"photos/copy-of-sunset.jpg", "cas/9f86d081884c7d65"},
      {"docs/report.pdf", "blobs/6f1c2a0e-3b7d-4c55-9a3e-0d2b8f1e7c41"},
      {"docs/notes.txt", "docs/notes.txt!w2"},
      {"photos/loose.txt", "loose.txt"},
  };
  for (const auto& [key, path] : rows) {
    if (!std::filesystem::exists(dir.path() / folder / path)) dir.write(folder + "/" + path, 5);
  }
  return rows;
}

inline void seed_rows(IndexStore& store, const std::string& backend,
                      const std::vector<std::pair<std::string, std::string>>& rows, Clock::time_point created_at) {
  for (const auto& [key, path] : rows) {
    auto inserted = store.insert_if_absent(backend, entry_at(key, path, 5), created_at);
    ASSERT_TRUE(inserted.ok() && *inserted) << key << ": " << inserted.status().to_string();
  }
}

// `check` exits 0 and `run` changes nothing on such an index: the merge
// compares paths, and every path is listed.
inline void expect_clean_and_unchanged(const TempDir& dir, const std::string& config) {
  auto check = run_tool(dir, "check --config " + config + " --output json");
  EXPECT_EQ(check.exit_code, 0) << check.out << read_stderr(dir);
  auto run = run_tool(dir, "run --config " + config + " --output json");
  ASSERT_EQ(run.exit_code, 0) << run.out << read_stderr(dir);
  const auto doc = nlohmann::json::parse(run.out);
  ASSERT_EQ(doc["passes"].size(), 1u);
  const auto& pass = doc["passes"][0];
  EXPECT_EQ(pass["imported"], 0) << pass;
  EXPECT_EQ(pass["removed"], 0) << pass;
  EXPECT_EQ(pass["raced"], 0) << pass;
  EXPECT_EQ(pass["listed"], 6) << pass;  // six paths, seven rows: two names share one blob
  EXPECT_EQ(pass["rows"], 7) << pass;
  auto diff = run_tool(dir, "diff --config " + config);
  EXPECT_EQ(diff.exit_code, 0);
  EXPECT_EQ(diff.out, "") << "no drift to print";
}

}  // namespace s3reconcile::testing
