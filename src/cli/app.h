// The s3reconcile command line.
#pragma once

namespace s3reconcile::cli {

// Exit codes (SPEC section 4).
inline constexpr int kExitOk = 0;
inline constexpr int kExitPassFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDrift = 3;

// Parses the arguments, runs the command, prints results on stdout and logs
// on stderr, and returns the process exit code.
int run_app(int argc, char** argv);

}  // namespace s3reconcile::cli
