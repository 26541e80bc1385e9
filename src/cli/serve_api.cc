#include "cli/serve_api.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include "cli/pass_json.h"
#include "cli/passes_view.h"
#include "cli/report.h"
#include "cli/status_page.h"

namespace s3reconcile::cli {
namespace {

constexpr std::string_view kRunsPath = "/v1/passes";
// Runs and records shown by /v1/passes and the status page, per backend.
constexpr std::size_t kShown = 20;
// How often a streamed POST /v1/passes sends a progress line.
constexpr auto kStreamEvery = std::chrono::seconds(1);

HttpResponse json_response(int status, const nlohmann::ordered_json& body) {
  return HttpResponse{status, "application/json", dump(body) + "\n", {}};
}

HttpResponse error_response(int status, const std::string& message) {
  nlohmann::ordered_json body;
  body["error"] = message;
  return json_response(status, body);
}

// The body of POST /v1/passes: {"backend": "...", "bucket": "...", "dry_run": true}, each optional.
struct PassAsk {
  std::string backend;
  std::string bucket;
  bool dry_run = false;
};

StatusOr<PassAsk> parse_ask(const std::string& body) {
  PassAsk ask;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return ask;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return invalid_argument_error(
        "the body must be a JSON object: {\"backend\", \"bucket\", \"dry_run\"}, each optional");
  }
  for (const auto& [name, value] : j.items()) {
    if (name == "backend" || name == "bucket") {
      if (!value.is_string()) return invalid_argument_error(fmt::format("\"{}\" must be a string", name));
      (name == "backend" ? ask.backend : ask.bucket) = value.get<std::string>();
    } else if (name == "dry_run") {
      if (!value.is_boolean()) return invalid_argument_error("\"dry_run\" must be true or false");
      ask.dry_run = value.get<bool>();
    } else {
      return invalid_argument_error(fmt::format("unknown field \"{}\": give backend, bucket, dry_run", name));
    }
  }
  return ask;
}

bool wants_ndjson(const HttpRequest& request) {
  return request.header("Accept").find("application/x-ndjson") != std::string::npos;
}

}  // namespace

bool same_token(std::string_view presented, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

void ServeApi::handle(HttpExchange& exchange) {
  const HttpRequest& request = exchange.request();
  const std::string& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == kRunsPath && request.method == "POST") return start_passes(exchange);
  if (!get)
    return exchange.respond(error_response(405, fmt::format("{} {}: method not allowed", request.method, path)));
  if (path == "/livez") return exchange.respond(HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}});
  if (path == "/readyz" || path == "/healthz") return health(exchange);
  if (path == "/metrics") {
    return exchange.respond(
        HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", context_.metrics->render(), {}});
  }
  if (path == "/" || path == kRunsPath) {
    const auto config = context_.config();
    const auto view = passes_view(*config, *context_.board, *context_.index, context_.instance, kShown);
    if (path == kRunsPath) return exchange.respond(json_response(200, view));
    return exchange.respond(HttpResponse{200, "text/html; charset=utf-8", render_status_page(view, 5), {}});
  }
  if (path.starts_with(std::string(kRunsPath) + "/")) return show_run(exchange, path.substr(kRunsPath.size() + 1));
  exchange.respond(error_response(404, fmt::format("{}: not found", path)));
}

void ServeApi::health(HttpExchange& exchange) {
  HealthReport report;
  {
    MutexLock lock(health_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!last_health_ || now - last_health_->first >= std::chrono::seconds(1)) {
      last_health_.emplace(now, check_health(*context_.config(), *context_.index, context_.started_at, Clock::now()));
    }
    report = last_health_->second;
  }
  exchange.respond(json_response(report.healthy ? 200 : 503, report.body));
}

void ServeApi::start_passes(HttpExchange& exchange) {
  const HttpRequest& request = exchange.request();
  const std::optional<std::string> token = context_.api_token();
  if (!token) {
    return exchange.respond(error_response(
        403, "passes on demand are disabled: set serve.api_token_file or serve.api_token_env and reload"));
  }
  const std::string authorization = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) {
    HttpResponse r = error_response(401, "a bearer token is needed: Authorization: Bearer <token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"s3reconcile\"");
    return exchange.respond(r);
  }
  if (!same_token(std::string_view(authorization).substr(kBearer.size()), *token)) {
    return exchange.respond(error_response(403, "the bearer token does not match"));
  }
  auto ask = parse_ask(request.body);
  if (!ask.ok()) return exchange.respond(error_response(400, ask.status().message()));

  const auto config = context_.config();
  PassSelection selection;
  if (!ask->backend.empty()) selection.backends = {ask->backend};
  if (!ask->bucket.empty()) selection.buckets = {ask->bucket};
  if (Status valid = check_selection(*config, selection); !valid.ok()) {
    return exchange.respond(error_response(400, valid.message()));
  }
  std::vector<std::string> backends = selection.backends;
  if (backends.empty()) {
    for (const auto& b : config->backends) backends.push_back(b.name);
  }
  if (auto busy = context_.board->try_claim_all(backends)) {
    nlohmann::ordered_json body;
    body["error"] = fmt::format("backend {} has a pass running; ask again once it ends", *busy);
    body["backend"] = *busy;
    return exchange.respond(json_response(409, body));
  }
  const std::string id = context_.launch(ask->dry_run, selection, backends);
  if (wants_ndjson(request)) return stream(exchange, id);
  nlohmann::ordered_json body;
  body["id"] = id;
  body["state"] = "queued";
  body["dry_run"] = ask->dry_run;
  body["url"] = fmt::format("{}/{}", kRunsPath, id);
  HttpResponse r = json_response(202, body);
  r.headers.emplace_back("Location", body["url"].get<std::string>());
  exchange.respond(r);
}

void ServeApi::stream(HttpExchange& exchange, const std::string& id) {
  exchange.start_stream(202, "application/x-ndjson");
  auto line = [&](const char* event, const nlohmann::ordered_json& run) {
    nlohmann::ordered_json j;
    j["event"] = event;
    for (const auto& [k, v] : run.items()) j[k] = v;
    return exchange.write(dump(j) + "\n");
  };
  if (auto run = context_.board->find(id); !run || !line("accepted", board_run_json(*run))) return;
  for (;;) {
    const bool ended = context_.board->wait_for_end(id, kStreamEvery);
    const auto run = context_.board->find(id);
    if (!run) break;
    if (ended) {
      line("summary", board_run_json(*run));
      break;
    }
    // A client gone is no reason to stop the pass: it goes on, and is shown.
    if (!line("progress", board_run_json(*run))) return;
  }
  exchange.end_stream();
}

void ServeApi::show_run(HttpExchange& exchange, const std::string& id) {
  const auto run = context_.board->find(id);
  if (!run) return exchange.respond(error_response(404, fmt::format("no pass {} on this instance", id)));
  exchange.respond(json_response(200, board_run_json(*run)));
}

}  // namespace s3reconcile::cli
