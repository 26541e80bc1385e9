// Runs the built s3reconcile binary and captures stdout and the exit code.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "temp_dir.h"

namespace s3reconcile::testing {

struct ToolOutcome {
  int exit_code = -1;
  std::string out;
};

// Runs `S3R_BINARY args` through the shell; stderr goes to dir/stderr.txt.
inline ToolOutcome run_tool(const TempDir& dir, const std::string& args) {
  const std::string command = std::string(S3R_BINARY) + " " + args + " 2>" + (dir.path() / "stderr.txt").string();
  ToolOutcome o;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return o;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) o.out.append(buf, n);
  const int status = ::pclose(pipe);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

inline std::string read_stderr(const TempDir& dir) {
  std::ifstream in(dir.path() / "stderr.txt");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace s3reconcile::testing
