#include "s3reconcile/s3_backend.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <random>

#include <unordered_set>

#include <fmt/format.h>

#include "s3/addressing.h"
#include "s3/aws_setup.h"
#include "s3/hidden_storage_walk.h"
#include "s3/http_client.h"
#include "s3/list_xml.h"
#include "s3/refreshing_credentials.h"
#include "s3/retry.h"
#include "s3/sigv4.h"
#include "s3reconcile/key_order.h"
#include "s3reconcile/mutex.h"
#include "s3reconcile/printable.h"
#include "s3reconcile/read_ahead.h"

namespace s3reconcile {
namespace {

// SHA-256 of the empty body: every request we send (GET, HEAD, and the DELETE
// of an incomplete upload) has none.
constexpr const char* kEmptyPayloadSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool retryable_code(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable";
}

// What a server answers to a request signed with temporary credentials
// past their expiry (AWS: ExpiredToken; some SDKs also know these two).
bool expired_token_code(std::string_view code) {
  return code == "ExpiredToken" || code == "ExpiredTokenException" || code == "TokenRefreshRequired";
}

bool retryable_status(long status) { return status == 500 || status == 502 || status == 503 || status == 504; }

StatusCode code_for_status(long status) {
  if (status == 404) return StatusCode::kNotFound;
  if (status == 400) return StatusCode::kInvalidArgument;
  if (status >= 500) return StatusCode::kUnavailable;
  return StatusCode::kFailedPrecondition;  // 401, 403, 405, 409, ...: fix the setup, do not retry
}

// HTTP clients (or batches of them) kept between requests for their
// kept-alive connections: taken by one caller at a time, made when none is idle.
template <typename Http>
class IdlePool {
 public:
  std::unique_ptr<Http> take(const s3::HttpOptions& options) {
    MutexLock lock(mu_);
    if (idle_.empty()) return std::make_unique<Http>(options);
    auto http = std::move(idle_.back());
    idle_.pop_back();
    return http;
  }
  void put_back(std::unique_ptr<Http> http) {
    MutexLock lock(mu_);
    idle_.push_back(std::move(http));
  }

 private:
  Mutex mu_;
  std::vector<std::unique_ptr<Http>> idle_ S3R_GUARDED_BY(mu_);
};

// What a HeadObject's errors say after the operation.
std::string head_context(std::string_view storage_key) { return fmt::format(" key {}", quote_key(storage_key)); }

}  // namespace

struct S3Backend::Impl {
  S3BackendOptions options;
  s3::Endpoint endpoint;
  std::string region_source, endpoint_source;
  std::unique_ptr<s3::RefreshingCredentials> credentials;
  s3::RetryPolicy retry;
  s3::HttpOptions http;
  std::atomic<long> connections{0};

  // Idle clients for probe(), so that concurrent probes each have one and a
  // probe after another reuses a kept-alive connection; idle batches for
  // probe_many(), one per caller at a time, each keeping its connections.
  IdlePool<s3::HttpClient> probe_clients;
  IdlePool<s3::HttpBatch> probe_batches;

  Mutex rng_mu;
  std::mt19937_64 rng S3R_GUARDED_BY(rng_mu){std::random_device{}()};

  std::string where() const { return fmt::format("endpoint={} bucket={}", options.endpoint, options.bucket); }

  // A request that could not be signed: why, and which request it was.
  Status unsigned_request(const Status& why, std::string_view operation, std::string_view context) const {
    return why.with_context(fmt::format("s3 {} {}{}", operation, where(), context));
  }

  // "s3 ListObjectsV2 endpoint=... bucket=...<context>: HTTP 403 SignatureDoesNotMatch: ... (request id ...)"
  Status http_failure(std::string_view operation, std::string_view context, const s3::HttpResponse& r) const {
    auto error = s3::parse_s3_error(r.body);
    std::string id = error && !error->request_id.empty() ? error->request_id : "";
    if (id.empty()) {
      if (auto h = r.headers.find("x-amz-request-id"); h != r.headers.end()) id = h->second;
    }
    // What the server said is escaped and cut (it may hold escape codes, or
    // megabytes) and has our secrets taken out (a server may echo headers).
    std::string said;
    if (error && !error->code.empty()) said += " " + printable(error->code, 64);
    if (error && !error->message.empty()) said += ": " + printable(error->message);
    if (!id.empty()) said += fmt::format(" (request id {})", printable(id, 128));
    for (const std::string& secret : credentials->secrets()) said = redact(std::move(said), {secret});
    return Status(code_for_status(r.status),
                  fmt::format("s3 {} {}{}: HTTP {}{}", operation, where(), context, r.status, said));
  }

  // What a HeadObject answer says: 200 present (with its size), 404 absent,
  // anything else an error.
  StatusOr<std::optional<ObjectInfo>> head_answer(std::string_view storage_key,
                                                  const s3::HttpResponse& response) const {
    if (response.status == 404) return std::optional<ObjectInfo>();
    if (response.status != 200) return http_failure("HeadObject", head_context(storage_key), response);
    ObjectInfo info;
    if (auto length = response.headers.find("content-length"); length != response.headers.end()) {
      info.size = std::strtoll(length->second.c_str(), nullptr, 10);
    }
    return std::optional<ObjectInfo>(info);
  }

  // The headers of one request, signed with `credentials` now.
  std::vector<std::string> signed_headers(const std::string& method, const s3::Target& target,
                                          const s3::NameValues& query, const s3::Credentials& credentials) const {
    const auto now = Clock::now();
    s3::RequestToSign request{method, target.canonical_uri, query, {}, kEmptyPayloadSha256};
    request.headers = {
        {"host", target.host_header}, {"x-amz-content-sha256", kEmptyPayloadSha256}, {"x-amz-date", s3::amz_date(now)}};
    if (!credentials.session_token.empty()) {
      request.headers.emplace_back("x-amz-security-token", credentials.session_token);
    }
    const s3::Signature signature = s3::sign_v4(request, credentials, options.region, "s3", now);
    std::vector<std::string> wire;
    for (const auto& [name, value] : request.headers) wire.push_back(name + ": " + value);
    wire.push_back("Authorization: " + signature.authorization);
    return wire;
  }

  // An attempt made elsewhere (a batch of HEADs), for send() to judge as
  // its first: the response, how long it took, what signed it.
  struct Attempt {
    StatusOr<s3::HttpResponse> response;
    std::chrono::steady_clock::duration elapsed;
    s3::Credentials signed_with;
  };

  // Tells the observer of one attempt.
  void observe(std::string_view operation, const StatusOr<s3::HttpResponse>& response,
               std::chrono::steady_clock::duration elapsed, bool retried) const {
    if (!options.observer) return;
    options.observer->on_request(
        S3RequestEvent{operation, response.ok() ? response->status : 0, response.ok() ? response->body.size() : 0,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed), retried});
  }

  // Signs and sends one request, retrying what is worth retrying. Returns
  // the final response (any status the caller must judge), or an error when
  // every attempt failed in transport or with a retryable status. With
  // `first`, that is attempt 1 and is judged like one sent here.
  StatusOr<s3::HttpResponse> send(s3::HttpClient& client, const std::string& method, std::string_view key,
                                  const s3::NameValues& query, std::string_view operation, std::string_view context,
                                  std::stop_token stop, std::optional<Attempt> first = std::nullopt) {
    const s3::Target target = s3::request_target(endpoint, options.addressing, options.bucket, key);
    const std::string query_string = s3::canonical_query(query);
    const std::string url = target.url + (query_string.empty() ? "" : "?" + query_string);
    std::string last_failure;
    bool renewed = false;  // an ExpiredToken answer renews the credentials once per request
    // A renewal after a rejection names the credentials that were rejected.
    StatusOr<s3::Credentials> credentials =
        first ? StatusOr<s3::Credentials>(first->signed_with) : this->credentials->current(stop);
    for (int attempt = 1;; ++attempt) {
      if (!credentials.ok()) return unsigned_request(credentials.status(), operation, context);
      const auto sent_at = std::chrono::steady_clock::now();
      StatusOr<s3::HttpResponse> response = internal_error("not sent");
      if (first) {
        response = std::move(first->response);
      } else {
        const std::vector<std::string> wire = signed_headers(method, target, query, *credentials);
        const long before = client.connects();
        response = client.perform(method, url, wire, stop);
        connections += client.connects() - before;
      }
      const auto elapsed = first ? first->elapsed : std::chrono::steady_clock::now() - sent_at;
      first.reset();
      // Every attempt is seen, the retried ones too: retries are what an
      // operator watching a slow pass needs to know about.
      auto observe = [&](bool retried) { this->observe(operation, response, elapsed, retried); };
      if (response.ok()) {
        const auto error = response->status >= 300 ? s3::parse_s3_error(response->body) : std::nullopt;
        // A HEAD answer has no body to name its error: a 400 to a request
        // signed with a session token is taken for an expired one.
        const bool expired = (error && expired_token_code(error->code)) ||
                             (method == "HEAD" && response->status == 400 && !credentials->session_token.empty());
        if (expired && !renewed) {
          renewed = true;
          observe(true);
          credentials = this->credentials->renew_after_rejection(*credentials, stop);
          --attempt;  // not the server's fault: the retry is free
          continue;
        }
        const bool retry = retryable_status(response->status) || (error && retryable_code(error->code));
        if (!retry) {
          observe(false);
          return response;
        }
        last_failure = http_failure(operation, context, *response).message();
      } else if (response.status().code() == StatusCode::kCancelled ||
                 response.status().code() == StatusCode::kDataLoss) {  // cancelled, or an oversized answer
        observe(false);
        return response.status().with_context(fmt::format("s3 {} {}{}", operation, where(), context));
      } else {
        last_failure = fmt::format("s3 {} {}{}: {}", operation, where(), context, response.status().message());
      }
      observe(attempt < retry.max_attempts);
      if (attempt >= retry.max_attempts) break;
      std::chrono::milliseconds delay;
      {
        MutexLock lock(rng_mu);
        delay = s3::backoff_delay(retry, attempt, rng);
      }
      if (!s3::sleep_unless_stopped(delay, stop)) {
        return cancelled_error(fmt::format("s3 {} {}{}: cancelled while backing off", operation, where(), context));
      }
    }
    return unavailable_error(fmt::format("{} (gave up after {} attempts)", last_failure, retry.max_attempts));
  }
};

S3Backend::S3Backend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Backend::~S3Backend() = default;

StatusOr<std::unique_ptr<S3Backend>> S3Backend::open(S3BackendOptions options) {
  auto impl = std::make_unique<Impl>();
  if (options.bucket.empty()) return invalid_argument_error("s3 backend needs a bucket");
  if (options.page_size == 0 || options.page_size > 1000) {
    return invalid_argument_error(fmt::format("s3 page_size must be 1..1000, not {}", options.page_size));
  }
  if (options.max_attempts < 1) return invalid_argument_error("s3 max_attempts must be at least 1");
  impl->http = s3::HttpOptions{options.connect_timeout, options.request_timeout, !options.insecure_skip_tls_verify,
                               options.ca_bundle};
  const std::string context = fmt::format("s3 bucket {}", options.bucket);
  auto setup = s3::resolve_aws_setup(options, s3::AwsEnvironment::from_process(), impl->http);
  if (!setup.ok()) return setup.status().with_context(context);
  auto endpoint = s3::parse_endpoint(setup->endpoint);
  if (!endpoint.ok())
    return endpoint.status().with_context(fmt::format("{}: endpoint from {}", context, setup->endpoint_source));
  auto credentials = s3::RefreshingCredentials::start(std::move(setup->credentials));
  if (!credentials.ok()) return credentials.status().with_context(context);
  impl->endpoint = std::move(*endpoint);
  impl->credentials = std::move(*credentials);
  impl->region_source = setup->region_source;
  impl->endpoint_source = setup->endpoint_source;
  options.region = setup->region;
  options.endpoint = setup->endpoint;
  impl->retry = s3::RetryPolicy{options.max_attempts, options.retry_base_delay, options.retry_max_delay};
  impl->options = std::move(options);
  return std::unique_ptr<S3Backend>(new S3Backend(std::move(impl)));
}

Status S3Backend::validate(const S3BackendOptions& options) {
  const s3::HttpOptions http{options.connect_timeout, options.request_timeout, !options.insecure_skip_tls_verify,
                             options.ca_bundle};
  const std::string context = fmt::format("s3 bucket {}", options.bucket);
  auto setup = s3::resolve_aws_setup(options, s3::AwsEnvironment::from_process(), http);
  if (!setup.ok()) return setup.status().with_context(context);
  return s3::parse_endpoint(setup->endpoint)
      .status()
      .with_context(fmt::format("{}: endpoint from {}", context, setup->endpoint_source));
}

std::unique_ptr<HiddenStorageLister> S3Backend::hidden_storage() {
  Impl* im = impl_.get();
  s3::S3Requests requests{im->http, im->where(), im->options.page_size, {}, {}};
  requests.send = [im](s3::HttpClient& client, const std::string& method, std::string_view key,
                       const s3::NameValues& query, std::string_view operation, std::string_view context,
                       std::stop_token stop) { return im->send(client, method, key, query, operation, context, stop); };
  requests.failure = [im](std::string_view operation, std::string_view context, const s3::HttpResponse& r) {
    return im->http_failure(operation, context, r);
  };
  return std::make_unique<s3::HiddenStorageWalk>(std::move(requests));
}

long S3Backend::connections_opened() const { return impl_->connections.load(); }

S3Backend::Setup S3Backend::setup() const {
  return Setup{impl_->credentials->describe(),
               impl_->credentials->expiration(),
               impl_->credentials->refreshes(),
               impl_->options.region,
               impl_->region_source,
               impl_->options.endpoint,
               impl_->endpoint_source};
}

namespace {

// The continuation token as it stands in a raw ListObjectsV2 body, when it
// can be read without parsing: plain text between the tags, no entity, no
// CDATA, no namespace prefix. Lets the next page be requested while this
// one is parsed; the full parse still checks the token (see list()).
std::optional<std::string> peek_continuation_token(std::string_view body) {
  constexpr std::string_view open = "<NextContinuationToken>", close = "</NextContinuationToken>";
  const auto from = body.find(open);
  if (from == std::string_view::npos) return std::nullopt;
  const auto begin = from + open.size();
  const auto to = body.find(close, begin);
  if (to == std::string_view::npos) return std::nullopt;
  const std::string_view token = body.substr(begin, to - begin);
  if (token.empty() || token.find_first_of("&<") != std::string_view::npos) return std::nullopt;
  return std::string(token);
}

}  // namespace

Status S3Backend::list(const ListRequest& request, const PageCallback& on_page, std::stop_token stop) {
  Impl& im = *impl_;
  // With read_ahead, two keep-alive connections taking turns: while one
  // page is parsed and handed over, the next is already being fetched on the
  // other. Without, one.
  std::array<std::unique_ptr<s3::HttpClient>, 2> clients = {
      std::make_unique<s3::HttpClient>(im.http),
      request.read_ahead ? std::make_unique<s3::HttpClient>(im.http) : nullptr};
  std::size_t turn = 0;
  auto context_of = [&](int page_number) {
    return fmt::format(" page {} (prefix {})", page_number, quote_key(request.prefix));
  };
  auto fetch = [&im, &request, &context_of, &clients, stop](std::size_t client, const std::string& token,
                                                            int page_number) -> StatusOr<s3::HttpResponse> {
    s3::NameValues query = {
        {"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", std::to_string(im.options.page_size)}};
    if (!request.prefix.empty()) query.emplace_back("prefix", request.prefix);
    if (token.empty() && !request.start_after.empty()) query.emplace_back("start-after", request.start_after);
    if (!token.empty()) query.emplace_back("continuation-token", token);
    return im.send(*clients[client], "GET", "", query, "ListObjectsV2", context_of(page_number), stop);
  };
  // The next page, requested ahead with `ahead_token` on one thread kept for
  // the walk (declared after the clients and `fetch`: destroyed, and so
  // waited for, first).
  ReadAhead<StatusOr<s3::HttpResponse>> ahead;
  std::string ahead_token;

  std::string token;
  std::string last_key = request.start_after;
  // The tokens sent since the last page that held keys. A token sent again
  // would walk in a circle: a page with keys cannot repeat unnoticed (its
  // keys would not ascend), so only a run of empty pages needs remembering,
  // and that run is bounded by max_empty_pages.
  std::unordered_set<std::string> tokens_since_keys;
  // One page, written over by each response: its keys' buffers serve the
  // next page's keys instead of a malloc and a free for every key.
  s3::ListPage page;
  for (int page_number = 1;; ++page_number) {
    if (stop.stop_requested()) return cancelled_error(fmt::format("s3 ListObjectsV2 {}: cancelled", im.where()));
    const std::string context = context_of(page_number);
    StatusOr<s3::HttpResponse> response = internal_error("no response");
    if (ahead.pending() && ahead_token == token) {
      response = ahead.take();
    } else {
      if (ahead.pending()) ahead.take().status().ignore_error();  // asked with a token that turned out wrong
      response = fetch(turn, token, page_number);
      if (request.read_ahead) turn ^= 1;
    }
    if (!response.ok()) return response.status();
    if (response->status != 200) return im.http_failure("ListObjectsV2", context, *response);
    if (auto next = request.read_ahead ? peek_continuation_token(response->body) : std::nullopt;
        next && *next != token) {
      ahead_token = *next;
      ahead.start(
          [&fetch, turn, next_token = ahead_token, page_number] { return fetch(turn, next_token, page_number + 1); });
      turn ^= 1;
    }
    if (Status parsed = s3::parse_list_objects_v2(response->body, page); !parsed.ok()) {
      return parsed.with_context(fmt::format("s3 ListObjectsV2 {}{}", im.where(), context));
    }
    if (page.objects.size() > im.options.page_size) {
      return data_loss_error(fmt::format("s3 ListObjectsV2 {}{}: the page holds {} keys, more than the {} asked for",
                                         im.where(), context, page.objects.size(), im.options.page_size));
    }
    if (page.key_count && static_cast<std::size_t>(*page.key_count) != page.objects.size()) {
      return data_loss_error(fmt::format("s3 ListObjectsV2 {}{}: KeyCount says {} but the page holds {} keys",
                                         im.where(), context, *page.key_count, page.objects.size()));
    }
    // Each key after the one before it: the first after the last key of the
    // page before (or start_after), the others after their neighbour.
    const std::string* previous = &last_key;
    for (const auto& object : page.objects) {
      if (!object.key.starts_with(request.prefix)) {
        return data_loss_error(fmt::format("s3 ListObjectsV2 {}{}: key {} is outside the prefix", im.where(), context,
                                           quote_key(object.key)));
      }
      if (!previous->empty() && compare_keys(object.key, *previous) <= 0) {
        return failed_precondition_error(
            fmt::format("s3 ListObjectsV2 {}{}: not in ascending key order: {} came after {}", im.where(), context,
                        quote_key(object.key), quote_key(*previous)));
      }
      previous = &object.key;
    }
    if (!page.objects.empty()) last_key = page.objects.back().key;
    if (!on_page(page.objects, !page.is_truncated)) return ok_status();
    if (!page.is_truncated) return ok_status();
    if (page.next_continuation_token.empty()) {
      return data_loss_error(fmt::format(
          "s3 ListObjectsV2 {}{}: IsTruncated is true but there is no NextContinuationToken", im.where(), context));
    }
    if (!page.objects.empty()) tokens_since_keys.clear();
    if (page.next_continuation_token == token || tokens_since_keys.count(page.next_continuation_token) != 0) {
      return data_loss_error(fmt::format(
          "s3 ListObjectsV2 {}{}: the server sent continuation token {} again: the listing would go in a circle",
          im.where(), context, quote_key(page.next_continuation_token)));
    }
    if (page.objects.empty() && tokens_since_keys.size() + 1 > im.options.max_empty_pages) {
      return data_loss_error(fmt::format(
          "s3 ListObjectsV2 {}{}: {} truncated pages in a row held no key (max_empty_pages); giving up rather "
          "than listing for ever",
          im.where(), context, tokens_since_keys.size() + 1));
    }
    if (page.objects.empty()) tokens_since_keys.insert(page.next_continuation_token);
    token = std::move(page.next_continuation_token);
  }
}

StatusOr<std::vector<std::string>> S3Backend::list_top_level(const std::string& prefix, char delimiter,
                                                             std::stop_token stop) {
  Impl& im = *impl_;
  s3::HttpClient client(im.http);
  s3::NameValues query = {{"list-type", "2"},
                          {"encoding-type", "url"},
                          {"delimiter", std::string(1, delimiter)},
                          {"max-keys", std::to_string(im.options.page_size)}};
  if (!prefix.empty()) query.emplace_back("prefix", prefix);
  const std::string context = fmt::format(" with delimiter (prefix {})", quote_key(prefix));
  auto response = im.send(client, "GET", "", query, "ListObjectsV2", context, stop);
  if (!response.ok()) return response.status();
  if (response->status != 200) return im.http_failure("ListObjectsV2", context, *response);
  auto page = s3::parse_list_objects_v2(response->body);
  if (!page.ok()) return page.status().with_context(fmt::format("s3 ListObjectsV2 {}{}", im.where(), context));
  std::vector<std::string> names = std::move(page->common_prefixes);
  for (auto& object : page->objects) names.push_back(std::move(object.key));
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return compare_keys(a, b) < 0; });
  return names;
}

namespace {

// A "." or ".." segment would be folded away on the way (by libcurl or the
// server), asking about another object; an empty one may be merged. Such a
// key is a failure of its row, never a request.
Status refuse_unsendable_key(std::string_view storage_key) {
  if (storage_key.empty()) return invalid_argument_error("HeadObject of an empty key");
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(storage_key.find('/', start), storage_key.size());
    const std::string_view part = storage_key.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return invalid_argument_error(fmt::format(
          "HeadObject of key {}: a path with an empty, \".\" or \"..\" segment is not sent (it would name another "
          "object)",
          quote_key(storage_key)));
    }
    if (end == storage_key.size()) return ok_status();
    start = end + 1;
  }
}

}  // namespace

StatusOr<std::optional<ObjectInfo>> S3Backend::probe(std::string_view storage_key, std::stop_token stop) {
  Impl& im = *impl_;
  S3R_RETURN_IF_ERROR(refuse_unsendable_key(storage_key));
  auto client = im.probe_clients.take(im.http);
  auto response = im.send(*client, "HEAD", storage_key, {}, "HeadObject", head_context(storage_key), stop);
  im.probe_clients.put_back(std::move(client));
  if (!response.ok()) return response.status();
  return im.head_answer(storage_key, *response);
}

std::vector<StatusOr<std::optional<ObjectInfo>>> S3Backend::probe_many(std::span<const std::string> keys,
                                                                       std::stop_token stop) {
  Impl& im = *impl_;
  // Never "absent" by default: only a 404 says so.
  std::vector<StatusOr<std::optional<ObjectInfo>>> answers(keys.size(), internal_error("not asked"));
  auto credentials = im.credentials->current(stop);
  std::vector<std::size_t> sent;  // the index in `keys` of each request
  std::vector<s3::HttpBatch::Request> requests;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (Status refused = refuse_unsendable_key(keys[i]); !refused.ok()) {
      answers[i] = std::move(refused);
    } else if (!credentials.ok()) {
      // As a lone probe says it, without asking for credentials once a key.
      answers[i] = im.unsigned_request(credentials.status(), "HeadObject", head_context(keys[i]));
    } else {
      const s3::Target target = s3::request_target(im.endpoint, im.options.addressing, im.options.bucket, keys[i]);
      requests.push_back(
          s3::HttpBatch::Request{"HEAD", target.url, im.signed_headers("HEAD", target, {}, *credentials)});
      sent.push_back(i);
    }
  }
  if (requests.empty()) return answers;
  auto batch = im.probe_batches.take(im.http);
  const long connects_before = batch->connects();
  const auto sent_at = std::chrono::steady_clock::now();
  auto responses = batch->perform(requests, stop);
  const auto elapsed = std::chrono::steady_clock::now() - sent_at;  // the batch's: each took at most this
  im.connections += batch->connects() - connects_before;
  im.probe_batches.put_back(std::move(batch));
  std::unique_ptr<s3::HttpClient> client;  // for the keys whose first answer is not the last
  for (std::size_t j = 0; j < sent.size(); ++j) {
    const std::size_t i = sent[j];
    StatusOr<s3::HttpResponse>& response = responses[j];
    if (response.ok() && (response->status == 200 || response->status == 404)) {
      im.observe("HeadObject", response, elapsed, /*retried=*/false);
      answers[i] = im.head_answer(keys[i], *response);
      continue;
    }
    // Judged as the first attempt of a lone probe: retried, renewed or
    // reported as that would be, within the same max_attempts.
    if (!client) client = im.probe_clients.take(im.http);
    auto judged = im.send(*client, "HEAD", keys[i], {}, "HeadObject", head_context(keys[i]), stop,
                          Impl::Attempt{std::move(response), elapsed, *credentials});
    answers[i] = judged.ok() ? im.head_answer(keys[i], *judged) : StatusOr<std::optional<ObjectInfo>>(judged.status());
  }
  if (client) im.probe_clients.put_back(std::move(client));
  return answers;
}

}  // namespace s3reconcile
