// Flags of s3r-bench subcommands: "--name value" pairs, nothing fancier.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace s3r_bench {

class Args {
 public:
  // Parses argv[first..argc); a flag without a value or a stray word throws.
  Args(int argc, char** argv, int first);

  std::string str(const std::string& name, const std::string& fallback) const;
  // The flag's value; throws when it was not given.
  std::string required(const std::string& name) const;
  std::int64_t num(const std::string& name, std::int64_t fallback) const;
  bool has(const std::string& name) const { return values_.count(name) != 0; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace s3r_bench
