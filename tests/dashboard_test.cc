// The Grafana dashboard shipped in packaging/grafana against the real
// `s3reconcile serve`: every metric its PromQL queries must be one serve
// exports, so a renamed metric breaks this test, not a dashboard in the field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "s3/http_client.h"
#include "support/child_process.h"
#include "temp_dir.h"

namespace s3reconcile {
namespace {

const char* const kDashboard = S3R_SOURCE_DIR "/packaging/grafana/s3reconcile-dashboard.json";

std::string scrape(int port) {
  s3::HttpClient client(s3::HttpOptions{std::chrono::milliseconds(500), std::chrono::milliseconds(2000), true, ""});
  auto r = client.perform("GET", "http://127.0.0.1:" + std::to_string(port) + "/metrics", {}, {});
  return r.ok() && r->status == 200 ? r->body : "";
}

// The PromQL of a dashboard: panel targets' `expr`, and the template
// variables' queries (`label_values(metric, label)` names a metric too).
void collect_queries(const nlohmann::json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (value.is_string() && (key == "expr" || key == "query" || key == "definition")) {
        out.push_back(value.get<std::string>());
      } else {
        collect_queries(value, out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& item : node) collect_queries(item, out);
  }
}

// The tool's metric names a query mentions. Labels, functions and keywords
// never start with the tool's prefix, so the names are the tokens that do.
std::set<std::string> metric_names(const std::string& promql) {
  // Tokens as [a-zA-Z_:][a-zA-Z0-9_:]*. Not std::regex: GCC 12 under ASan
  // warns falsely inside it (-Werror).
  const auto starts = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; };
  const auto continues = [&](char c) { return starts(c) || std::isdigit(static_cast<unsigned char>(c)); };
  std::set<std::string> names;
  for (std::size_t i = 0; i < promql.size();) {
    if (!starts(promql[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < promql.size() && continues(promql[end])) ++end;
    const std::string token = promql.substr(i, end - i);
    if (token.starts_with("s3reconcile_")) names.insert(token);
    i = end;
  }
  return names;
}

// The histogram family a series name belongs to ("x" for "x_bucket"), or
// the name itself.
std::string family_of(const std::string& name) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) return name.substr(0, name.size() - std::string(suffix).size());
  }
  return name;
}

TEST(Dashboard, IsAGrafanaDashboardOfPromQLPanels) {
  std::ifstream in(kDashboard);
  ASSERT_TRUE(in) << kDashboard;
  const auto doc = nlohmann::json::parse(in);  // throws, failing the test, on invalid JSON
  EXPECT_TRUE(doc["title"].is_string());
  EXPECT_TRUE(doc["uid"].is_string());
  EXPECT_TRUE(doc["schemaVersion"].is_number_integer());
  ASSERT_TRUE(doc["panels"].is_array());
  ASSERT_FALSE(doc["panels"].empty());
  std::set<int> ids;
  for (const auto& panel : doc["panels"]) {
    const std::string title = panel.value("title", "");
    EXPECT_FALSE(title.empty());
    EXPECT_TRUE(panel["type"].is_string()) << title;
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "panel id used twice: " << title;
    for (const char* field : {"x", "y", "w", "h"}) EXPECT_TRUE(panel["gridPos"][field].is_number()) << title;
    ASSERT_TRUE(panel["targets"].is_array()) << title;
    EXPECT_FALSE(panel["targets"].empty()) << title;
    for (const auto& target : panel["targets"]) {
      EXPECT_TRUE(target["refId"].is_string()) << title;
      EXPECT_FALSE(metric_names(target.value("expr", "")).empty()) << title << ": a target queries no metric";
    }
  }
}

TEST(Dashboard, EveryMetricItQueriesIsExportedByServeAfterAPass) {
  std::ifstream in(kDashboard);
  ASSERT_TRUE(in) << kDashboard;
  std::vector<std::string> queries;
  collect_queries(nlohmann::json::parse(in), queries);
  std::set<std::string> queried;
  for (const auto& q : queries) queried.merge(metric_names(q));
  ASSERT_GE(queried.size(), 5u) << "the dashboard queries too few metrics to be checked";

  testing::TempDir dir;
  dir.write("objs/photos/a", 3);
  dir.write("objs/photos/b", 3);
  const int port = testing::unused_loopback_port();
  // And an S3 backend nobody answers for, so that the S3 request series
  // (and a failed pass) are there too.
  ::setenv("S3R_DASHBOARD_KEY", "AKIDDASH", 1);
  ::setenv("S3R_DASHBOARD_SECRET", "dash-secret", 1);
  std::ofstream(dir.path() / "config.yaml") << "store:\n  sqlite: index.db\nbuckets: [photos]\nbackends:\n"
                                               "  - name: disk\n    type: local\n    path: objs\n"
                                               "  - name: gone\n    type: s3\n    endpoint: http://127.0.0.1:"
                                            << testing::unused_loopback_port()
                                            << "\n    addressing: path\n    bucket: b\n    max_attempts: 2\n"
                                               "    retry_base_delay: 10ms\n    credentials: {access_key_env: "
                                               "S3R_DASHBOARD_KEY, secret_key_env: S3R_DASHBOARD_SECRET}\n"
                                               "serve:\n  interval: 1h\n  survey_interval: 1h\n  listen: 127.0.0.1:"
                                            << port << "\n";
  testing::ChildProcess serve({S3R_BINARY, "serve", "--config", (dir.path() / "config.yaml").string()},
                              (dir.path() / "serve.out").string(), (dir.path() / "serve.err").string());
  const std::string first_pass = "s3reconcile_passes_total{backend=\"gone\",result=\"error\"} 1";
  // And the first survey (serve.survey_interval), on its own thread.
  const std::string first_survey = "s3reconcile_survey_last_success_timestamp_seconds{backend=\"disk\"}";
  std::string body;
  for (int i = 0;
       i < 200 && (body.find(first_pass) == std::string::npos || body.find(first_survey) == std::string::npos); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    body = scrape(port);
  }
  serve.kill(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.err();
  ASSERT_NE(body.find("s3reconcile_imported_total{backend=\"disk\",bucket=\"photos\"} 2"), std::string::npos)
      << "no completed pass in /metrics:\n"
      << body << serve.err();

  // Series names (the text before `{` or a blank) and each family's type.
  std::set<std::string> series;
  std::map<std::string, std::string> types;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      types[name] = type;
    } else if (!line.empty() && line[0] != '#') {
      series.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  for (const auto& name : queried) {
    EXPECT_TRUE(series.count(name)) << "the dashboard queries " << name << ", which serve does not export";
    const std::string family = family_of(name);
    if (family != name) {
      EXPECT_EQ(types[family], "histogram") << name << ": a histogram's series, but " << family << " is not one";
    }
  }
  // And the other way: each metric serve exports has a panel.
  std::set<std::string> charted;
  for (const auto& name : queried) charted.insert(family_of(name));
  for (const auto& [family, type] : types) {
    if (!family.starts_with("s3reconcile_")) continue;  // the HTTP server's own (exposer_*)
    EXPECT_TRUE(charted.count(family)) << family << " has no panel";
  }
}

}  // namespace
}  // namespace s3reconcile
