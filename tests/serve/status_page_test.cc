// The status page as an operator sees it: rendered by a real headless
// Chromium (Debian's), screenshotted, and read back from the DOM the
// browser built, number by number, against what /v1/passes says.
#include <filesystem>
#include <map>

#include "serve/serve_fixture.h"

namespace s3reconcile {
namespace {

using testing::Reply;

constexpr const char* kChromium = "/usr/bin/chromium";

// Runs headless Chromium on `url` with `what` ("--dump-dom" or
// "--screenshot=FILE"); returns its stdout.
std::string chromium(const testing::TempDir& dir, const std::string& what, const std::string& url) {
  testing::ChildProcess browser(
      {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
       "--window-size=1400,1000", "--user-data-dir=" + (dir.path() / "chromium-profile").string(), what, url},
      (dir.path() / "chromium.out").string(), (dir.path() / "chromium.err").string());
  EXPECT_EQ(browser.wait(), 0) << browser.err();
  return browser.out();
}

// What the page shows of each pass row: data-pass -> (data-field -> text).
std::map<std::string, std::map<std::string, std::string>> shown_rows(const std::string& dom, const std::string& where) {
  std::map<std::string, std::map<std::string, std::string>> rows;
  const std::size_t section = dom.find(where);
  if (section == std::string::npos) return rows;
  const std::size_t end = dom.find("</section>", section);
  const std::string tr = "<tr data-pass=\"";
  for (std::size_t at = dom.find(tr, section); at != std::string::npos && at < end; at = dom.find(tr, at + 1)) {
    const std::size_t id_end = dom.find('"', at + tr.size());
    const std::string id = dom.substr(at + tr.size(), id_end - at - tr.size());
    const std::size_t row_end = dom.find("</tr>", at);
    const std::string field = "data-field=\"";
    for (std::size_t f = dom.find(field, at); f != std::string::npos && f < row_end; f = dom.find(field, f + 1)) {
      const std::size_t name_end = dom.find('"', f + field.size());
      const std::size_t text_start = dom.find('>', name_end) + 1;
      rows[id][dom.substr(f + field.size(), name_end - f - field.size())] =
          dom.substr(text_start, dom.find('<', text_start) - text_start);
    }
  }
  return rows;
}

class StatusPageTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kChromium)) {
      if (std::getenv("S3R_REQUIRE_BROWSER") != nullptr) FAIL() << kChromium << " is missing";
      GTEST_SKIP() << "no " << kChromium << " (apt-get install chromium); S3R_REQUIRE_BROWSER=1 makes this a failure";
    }
    start_endpoint(400);  // a pass of 12 s: time to look at it while it runs
    ::setenv("S3R_SERVE_API_TOKEN", "page-token", 1);
    // The index read 100 rows a query, as the listing lists 100 keys a page:
    // the merge takes a page of rows at once and the bar counts them as it
    // takes them, so with pages of 1,000 the bar of this 3,000-row pass
    // would stand at its end for the last third of the pass.
    write_config(synthetic_backend(),
                 "  interval: 1h\n  api_token_env: S3R_SERVE_API_TOKEN\nreconcile:\n  page_size: 100\n");
    start_serve();
  }
};

TEST_F(StatusPageTest, ShowsThePassInFlightAndTheLatestPassesAsTheApiDoes) {
  ASSERT_TRUE(wait_for_metric("s3reconcile_passes_total{backend=\"synth\",result=\"ok\"}", 1));
  const std::string base = fmt::format("http://127.0.0.1:{}/", port_);

  // A pass asked for now is in flight for seconds: the page shows it with
  // a progress bar measured against the rows the first pass scanned.
  const Reply asked = call("POST", "/v1/passes", {"Authorization: Bearer page-token"}, R"({"dry_run":true})");
  ASSERT_EQ(asked.status, 202) << asked.body;
  ASSERT_TRUE(wait_for_metric("s3reconcile_keys_listed_total{backend=\"synth\",bucket=\"vbk\"}", kKeys + 200));
  std::filesystem::create_directories(S3R_ARTIFACTS_DIR);
  const std::string shot = std::string(S3R_ARTIFACTS_DIR) + "/status-page-in-flight.png";
  std::filesystem::remove(shot);
  chromium(dir_, "--screenshot=" + shot, base);
  const std::string in_flight_dom = chromium(dir_, "--dump-dom", base);
  const auto pass_id =
      call("GET", "/v1/passes/" + asked.json()["id"].get<std::string>()).json()["passes"][0]["pass_id"];
  ASSERT_TRUE(pass_id.is_string());
  const std::size_t flight = in_flight_dom.find("<div class=\"in-flight\" data-pass=\"" + pass_id.get<std::string>());
  ASSERT_NE(flight, std::string::npos) << in_flight_dom;
  const std::size_t bar = in_flight_dom.find("<progress max=\"" + std::to_string(kKeys) + "\" value=\"", flight);
  ASSERT_NE(bar, std::string::npos) << "no progress bar against the index's " << kKeys << " rows:\n" << in_flight_dom;
  const long value = std::stol(in_flight_dom.substr(in_flight_dom.find("value=\"", bar) + 7));
  EXPECT_GT(value, 0);
  EXPECT_LT(value, kKeys) << "the bar of a pass half-way";
  std::cout << "screenshot of the page during a pass: " << shot << "\n";
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 20000u) << "a screenshot that small shows next to nothing";
  std::ifstream png(shot, std::ios::binary);
  std::string head(24, '\0');
  png.read(head.data(), 24);
  EXPECT_EQ(head.substr(1, 3), "PNG");
  const auto be32 = [&](int at) {
    return (static_cast<unsigned char>(head[at]) << 24) | (static_cast<unsigned char>(head[at + 1]) << 16) |
           (static_cast<unsigned char>(head[at + 2]) << 8) | static_cast<unsigned char>(head[at + 3]);
  };
  EXPECT_EQ(be32(16), 1400);  // the window asked for
  EXPECT_EQ(be32(20), 1000);

  // Once it ended, every number of every pass the page lists is the one
  // /v1/passes gives.
  for (int i = 0; i < 300; ++i) {
    if (call("GET", "/v1/passes/" + asked.json()["id"].get<std::string>()).json()["state"] == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string dom = chromium(dir_, "--dump-dom", base);
  chromium(dir_, "--screenshot=" + std::string(S3R_ARTIFACTS_DIR) + "/status-page.png", base);
  const auto api = call("GET", "/v1/passes").json();
  ASSERT_TRUE(api.is_object());
  const auto& recent = api["backends"][0]["recent"];
  ASSERT_EQ(recent.size(), 2u) << api.dump();
  const auto shown = shown_rows(dom, "data-backend=\"synth\"");
  ASSERT_EQ(shown.size(), recent.size()) << dom;
  int compared = 0;
  for (const auto& record : recent) {
    const auto row = shown.find(record["pass_id"].get<std::string>());
    ASSERT_NE(row, shown.end()) << record.dump() << "\n" << dom;
    EXPECT_EQ(row->second.at("outcome"), record["outcome"].get<std::string>());
    for (const auto& [name, value] : row->second) {
      if (name == "outcome") continue;
      EXPECT_EQ(value, std::to_string(record["counts"][name].get<std::uint64_t>())) << name;
      ++compared;
    }
  }
  EXPECT_GE(compared, 2 * 12);
  EXPECT_NE(dom.find("No pass in flight"), std::string::npos);
  EXPECT_NE(dom.find("(dry run)"), std::string::npos);
  // And they are the numbers the passes made: the first imported every key,
  // the dry run found nothing to do.
  EXPECT_EQ(shown.at(recent[1]["pass_id"].get<std::string>()).at("imported"), std::to_string(kKeys));
  EXPECT_EQ(shown.at(recent[0]["pass_id"].get<std::string>()).at("rows"), std::to_string(kKeys));
}

}  // namespace
}  // namespace s3reconcile
