#include "cli/explain_credentials.h"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/report.h"
#include "config/config.h"
#include "s3reconcile/s3_backend.h"
#include "s3reconcile/time_format.h"

namespace s3reconcile::cli {

int explain_credentials_command(const std::string& config_file, const std::vector<std::string>& backends,
                                const std::string& output) {
  auto config = config::load_config(config_file);
  if (!config.ok()) {
    std::cerr << "s3reconcile: " << config.status().message() << "\n";
    return kExitUsage;
  }
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  bool ok = true;
  for (const auto& b : config->backends) {
    if (!backends.empty() && std::find(backends.begin(), backends.end(), b.name) == backends.end()) continue;
    nlohmann::ordered_json j;
    j["backend"] = b.name;
    j["type"] = b.type;
    if (b.type != "s3") {
      j["credentials"] = nullptr;
      if (output == "text") std::cout << fmt::format("backend {}: local folder {}, no credentials\n", b.name, b.path);
      all.push_back(std::move(j));
      continue;
    }
    auto opened = S3Backend::open(b.s3);
    if (!opened.ok()) {
      ok = false;
      j["error"] = opened.status().message();
      if (output == "text") std::cout << fmt::format("backend {}: {}\n", b.name, opened.status().message());
      all.push_back(std::move(j));
      continue;
    }
    const S3Backend::Setup setup = (*opened)->setup();
    j["credentials"] = setup.credentials;
    j["expires"] = setup.expiration ? nlohmann::ordered_json(iso8601_utc_micros(*setup.expiration)) : nullptr;
    j["region"] = setup.region;
    j["region_from"] = setup.region_source;
    j["endpoint"] = setup.endpoint;
    j["endpoint_from"] = setup.endpoint_source;
    if (output == "text") {
      std::cout << fmt::format(
          "backend {}:\n  credentials: {}\n  expire:      {}\n  region:      {} ({})\n"
          "  endpoint:    {} ({})\n",
          b.name, setup.credentials, setup.expiration ? iso8601_utc_micros(*setup.expiration) : "never (static keys)",
          setup.region, setup.region_source, setup.endpoint, setup.endpoint_source);
    }
    all.push_back(std::move(j));
  }
  if (output == "json") std::cout << dump(all) << "\n";
  std::cout.flush();
  return ok ? kExitOk : kExitPassFailed;
}

}  // namespace s3reconcile::cli
