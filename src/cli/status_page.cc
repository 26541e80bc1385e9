#include "cli/status_page.h"

#include <fmt/format.h>

namespace s3reconcile::cli {
namespace {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A JSON value as page text: strings as they are, null as a dash.
std::string text(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "–";
  if (v.is_string()) return escape(v.get<std::string>());
  return escape(v.dump());
}

// The counts the tables show, in this order.
constexpr const char* kShownCounts[] = {"listed",          "rows",    "imported",      "removed",
                                        "already_present", "raced",   "too_new",       "collisions",
                                        "size_mismatch",   "resized", "import_failed", "delete_failed"};

std::string count_headers() {
  std::string out;
  for (const char* name : kShownCounts) out += fmt::format("<th>{}</th>", name);
  return out;
}

std::string count_cells(const nlohmann::ordered_json& counts) {
  std::string out;
  for (const char* name : kShownCounts) {
    out += fmt::format("<td class=\"num\" data-field=\"{}\">{}</td>", name,
                       text(counts.contains(name) ? counts[name] : nlohmann::ordered_json()));
  }
  return out;
}

std::string paths_of(const nlohmann::ordered_json& pass) {
  const std::string paths = pass.value("paths", "");
  return paths.empty() ? "all paths" : escape(paths);
}

std::string in_flight_html(const nlohmann::ordered_json& p) {
  const auto& counts = p["counts"];
  const std::uint64_t rows = counts.value("rows", std::uint64_t{0});
  std::string bar;
  if (p["expected_rows"].is_number() && p["expected_rows"].get<std::uint64_t>() > 0) {
    const std::uint64_t expected = p["expected_rows"].get<std::uint64_t>();
    const double share = std::min(1.0, static_cast<double>(rows) / static_cast<double>(expected));
    bar = fmt::format(
        "<progress max=\"{}\" value=\"{}\"></progress> <span class=\"bar-text\">rows scanned <b data-field=\"rows\">{}"
        "</b> of about <b data-field=\"expected_rows\">{}</b> ({:.0f}%)</span>",
        expected, std::min(rows, expected), rows, expected, share * 100);
  } else {
    bar = fmt::format(
        "<progress></progress> <span class=\"bar-text\">rows scanned <b data-field=\"rows\">{}</b> (no completed "
        "pass to compare with yet)</span>",
        rows);
  }
  return fmt::format(
      "<div class=\"in-flight\" data-pass=\"{0}\"><p>pass <code>{0}</code> over {1}, started {2}</p><p>{3}</p>"
      "<table><tr>{4}</tr><tr data-pass=\"{0}\">{5}</tr></table></div>",
      text(p["pass_id"]), paths_of(p), text(p["started_at"]), bar, count_headers(), count_cells(counts));
}

std::string shared_html(const nlohmann::ordered_json& pass) {
  std::string rows;
  for (const auto& r : pass["ranges"]) {
    rows += fmt::format(
        "<tr data-range=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td>"
        "<td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td>{}</td></tr>",
        text(r["range"]), text(r["range"]), text(r["state"]), text(r["owner"]), text(r["after"]), text(r["through"]),
        text(r["counts"]["listed"]), text(r["counts"]["imported"]), text(r["counts"]["removed"]), text(r["error"]));
  }
  return fmt::format(
      "<h3>Shared pass {} over {} ({})</h3><table><tr><th>range</th><th>state</th><th>owner</th><th>after</th>"
      "<th>through</th><th>listed</th><th>imported</th><th>removed</th><th>error</th></tr>{}</table>",
      text(pass["pass"]), paths_of(pass), text(pass["state"]), rows);
}

std::string recent_html(const nlohmann::ordered_json& records) {
  if (records.empty()) return "<p class=\"none\">No pass recorded yet.</p>";
  std::string rows;
  for (const auto& r : records) {
    const std::string outcome = r.value("outcome", "");
    rows += fmt::format(
        "<tr data-pass=\"{}\"><td><code>{}</code></td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"outcome {}\" data-field=\"outcome\">{}</td>{}<td class=\"error\">{}</td></tr>",
        text(r["pass_id"]), text(r["pass_id"]), text(r["kind"]), r.value("dry_run", false) ? " (dry run)" : "",
        paths_of(r), text(r["started_at"]), text(r["finished_at"]), escape(outcome), escape(outcome),
        count_cells(r["counts"]), text(r["error"]));
  }
  return fmt::format(
      "<table class=\"recent\"><tr><th>pass</th><th>kind</th><th>paths</th><th>started</th><th>finished</th>"
      "<th>outcome</th>{}<th>error</th></tr>{}</table>",
      count_headers(), rows);
}

constexpr const char* kStyle = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
header p { color: #555; margin: .2em 0 1em; }
table { border-collapse: collapse; margin: .5em 0 1em; background: #fff; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; white-space: nowrap; }
th { background: #f0f0f0; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.error { white-space: normal; max-width: 30em; color: #a00; }
.outcome.ok { color: #176f2c; } .outcome.error { color: #a00; font-weight: 600; } .outcome.running { color: #0a58ca; }
progress { width: 24em; height: 1.2em; vertical-align: middle; }
.in-flight { border-left: 4px solid #0a58ca; padding-left: .8em; }
.none { color: #777; } .warning { color: #a00; font-weight: 600; }
)css";

}  // namespace

std::string render_status_page(const nlohmann::ordered_json& view, int refresh_seconds) {
  std::string body;
  if (!view["index_error"].is_null()) {
    body += fmt::format("<p class=\"warning\">The index cannot be read: {}</p>", text(view["index_error"]));
  }
  for (const auto& b : view["backends"]) {
    body += fmt::format("<section class=\"backend\" data-backend=\"{0}\"><h2>Backend {0}</h2>", text(b["name"]));
    body += "<h3>In flight</h3>";
    if (b["in_flight"].empty()) body += "<p class=\"none\">No pass in flight on this instance.</p>";
    for (const auto& p : b["in_flight"]) body += in_flight_html(p);
    for (const auto& p : b["shared"]) body += shared_html(p);
    body += "<h3>Latest passes</h3>" + recent_html(b["recent"]) + "</section>";
  }
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"{}\"><title>s3reconcile on {}</title><style>{}</style></head>"
      "<body><header><h1>s3reconcile</h1><p>instance <code>{}</code>, as of {} · "
      "<a href=\"/v1/passes\">JSON</a> · <a href=\"/metrics\">metrics</a> · <a href=\"/healthz\">health</a></p>"
      "</header>{}</body></html>\n",
      refresh_seconds, text(view["instance"]), kStyle, text(view["instance"]), text(view["generated_at"]), body);
}

}  // namespace s3reconcile::cli
