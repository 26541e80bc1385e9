#include "s3/http_client.h"

#include <curl/curl.h>

#include <strings.h>
#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace s3reconcile::s3 {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Where an answer goes, and how much of it may come.
struct Sink {
  CURL* curl;
  std::string* body;
  std::map<std::string, std::string>* headers;
  std::size_t limit;
  std::size_t header_bytes = 0;
  bool too_large = false;
};

// Returning less than was handed over aborts the transfer (CURLE_WRITE_ERROR).
size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body->size() + size * count > sink->limit) {
    sink->too_large = true;
    return 0;
  }
  if (sink->body->empty()) {
    // A listing page is a few hundred KiB: taken in one allocation when the
    // answer says its length, instead of growing (and copying) it chunk by chunk.
    curl_off_t length = -1;
    if (curl_easy_getinfo(sink->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0 &&
        static_cast<std::size_t>(length) <= sink->limit) {
      sink->body->reserve(static_cast<std::size_t>(length));
    }
  }
  sink->body->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  sink->header_bytes += size * count;
  if (sink->header_bytes > sink->limit) {
    sink->too_large = true;
    return 0;
  }
  auto* headers = sink->headers;
  std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    (*headers)[name] = std::string(value);
  }
  return size * count;
}

// libcurl calls this often while a transfer runs, idle or not; a non-zero
// return aborts the transfer. This is how a stop reaches a hung request.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::stop_token*>(user)->stop_requested() ? 1 : 0;
}

}  // namespace

struct HttpClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
  global_init();
  handle_->curl = curl_easy_init();
  CURL* curl = handle_->curl;
  if (curl == nullptr) return;
  // What every request of this client shares, set once: the handle keeps
  // its options from one request to the next.
  // Reads of up to 256 KiB: a listing page comes in a few reads (and as
  // many system calls) rather than one per 16 KiB, the default.
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 256L * 1024L);
  // Nothing rewritten on the way (keys with dot segments are refused before).
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
}

HttpClient::~HttpClient() = default;

struct HttpClient::Transfer {
  std::string method;
  std::string url;
  std::stop_token stop;  // the progress callback reads it: a Transfer never moves
  HttpResponse response;
  curl_slist* list = nullptr;
  Sink sink{};
};

void* HttpClient::curl() const { return handle_->curl; }

StatusOr<std::unique_ptr<HttpClient::Transfer>> HttpClient::begin(const std::string& method, const std::string& url,
                                                                  const std::vector<std::string>& headers,
                                                                  std::stop_token stop, const std::string& body) {
  CURL* curl = handle_->curl;
  if (curl == nullptr) return internal_error("libcurl could not create a handle");
  if (stop.stop_requested()) return cancelled_error(fmt::format("{} {} cancelled", method, url));

  auto transfer = std::make_unique<Transfer>();
  transfer->method = method;
  transfer->url = url;
  transfer->stop = std::move(stop);
  curl_slist*& list = transfer->list;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  // No "Expect: 100-continue", no Accept default noise in the signature.
  list = curl_slist_append(list, "Accept:");
  list = curl_slist_append(list, "Expect:");
  // No Content-Type either, unless the caller sends one (STS's form body).
  const bool typed = std::any_of(headers.begin(), headers.end(), [](const std::string& h) {
    return h.size() >= 13 && strncasecmp(h.c_str(), "content-type:", 13) == 0;
  });
  if (!typed) list = curl_slist_append(list, "Content-Type:");

  curl_easy_setopt(curl, CURLOPT_URL, transfer->url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  // Each request sets the method afresh: the handle remembers the last one.
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, transfer->method.c_str());
  }
  transfer->sink = Sink{curl, &transfer->response.body, &transfer->response.headers, options_.max_body_bytes};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer->sink);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer->sink);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer->stop);
  return transfer;
}

StatusOr<HttpResponse> HttpClient::finish(Transfer& transfer, int result) {
  CURL* curl = handle_->curl;
  const auto rc = static_cast<CURLcode>(result);
  curl_slist_free_all(transfer.list);
  transfer.list = nullptr;
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  long new_connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &new_connects);
  connects_ += new_connects;

  const std::string& method = transfer.method;
  const std::string& url = transfer.url;
  if (rc == CURLE_ABORTED_BY_CALLBACK || (rc != CURLE_OK && transfer.stop.stop_requested())) {
    return cancelled_error(fmt::format("{} {} cancelled", method, url));
  }
  if (transfer.sink.too_large) {
    // Not retried: the same server would send the same again.
    return data_loss_error(fmt::format("{} {}: the answer is larger than {} bytes; not read further", method, url,
                                       options_.max_body_bytes));
  }
  if (rc != CURLE_OK) {
    return unavailable_error(fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  return std::move(transfer.response);
}

StatusOr<HttpResponse> HttpClient::perform(const std::string& method, const std::string& url,
                                           const std::vector<std::string>& headers, std::stop_token stop,
                                           const std::string& body) {
  auto transfer = begin(method, url, headers, std::move(stop), body);
  if (!transfer.ok()) return transfer.status();
  const CURLcode rc = curl_easy_perform(handle_->curl);
  return finish(**transfer, rc);
}

HttpBatch::HttpBatch(HttpOptions options) : options_(std::move(options)) {
  global_init();
  multi_ = curl_multi_init();
}

HttpBatch::~HttpBatch() {
  // The clients' handles are out of the multi handle between runs.
  clients_.clear();
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

long HttpBatch::connects() const {
  long sum = 0;
  for (const auto& client : clients_) sum += client->connects();
  return sum;
}

std::vector<StatusOr<HttpResponse>> HttpBatch::perform(const std::vector<Request>& requests, std::stop_token stop) {
  std::vector<StatusOr<HttpResponse>> answers(requests.size(), internal_error("not sent"));
  auto* multi = static_cast<CURLM*>(multi_);
  if (multi == nullptr) {
    for (auto& answer : answers) answer = internal_error("libcurl could not create a multi handle");
    return answers;
  }
  if (clients_.size() < requests.size()) {
    while (clients_.size() < requests.size()) clients_.push_back(std::make_unique<HttpClient>(options_));
    // A connection kept for every client. libcurl's default keeps four per
    // transfer still in the multi handle, so as the last answers of a full
    // batch came in it closed one, which the next batch opened again: 540
    // connections for 10,000 HEADs (a TLS handshake each, against AWS).
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(clients_.size()));
  }
  std::vector<std::unique_ptr<HttpClient::Transfer>> transfers(requests.size());
  std::map<CURL*, std::size_t> slot_of;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto transfer = clients_[i]->begin(requests[i].method, requests[i].url, requests[i].headers, stop, "");
    if (!transfer.ok()) {
      answers[i] = transfer.status();
      continue;
    }
    auto* curl = static_cast<CURL*>(clients_[i]->curl());
    if (curl_multi_add_handle(multi, curl) != CURLM_OK) {
      answers[i] = clients_[i]->finish(**transfer, CURLE_FAILED_INIT);
      continue;
    }
    transfers[i] = std::move(*transfer);
    slot_of[curl] = i;
  }
  // Until every transfer has ended. A stop reaches them through their
  // progress callbacks, which libcurl calls at least every wait below.
  int running = static_cast<int>(slot_of.size());
  while (!slot_of.empty()) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      const auto found = slot_of.find(message->easy_handle);
      if (found == slot_of.end()) continue;
      const std::size_t i = found->second;
      const CURLcode result = message->data.result;
      curl_multi_remove_handle(multi, message->easy_handle);
      slot_of.erase(found);
      answers[i] = clients_[i]->finish(*transfers[i], result);
      transfers[i].reset();
    }
    // Nothing running but a transfer never said it ended: finished below as an error.
    if (slot_of.empty() || running == 0) break;
    if (curl_multi_poll(multi, nullptr, 0, 100, nullptr) != CURLM_OK) break;
  }
  // A multi handle that failed leaves its transfers unfinished: each is an error.
  for (const auto& [curl, i] : slot_of) {
    curl_multi_remove_handle(multi, curl);
    answers[i] =
        clients_[i]->finish(*transfers[i], stop.stop_requested() ? CURLE_ABORTED_BY_CALLBACK : CURLE_RECV_ERROR);
  }
  return answers;
}

}  // namespace s3reconcile::s3
