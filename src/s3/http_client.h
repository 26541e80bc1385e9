// One HTTP connection (a libcurl easy handle), reused across requests so that
// the pages of a listing share one TCP/TLS connection (keep-alive).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "s3reconcile/status.h"

namespace s3reconcile::s3 {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};  // whole request, first byte to last
  bool verify_tls = true;
  std::string ca_bundle;  // PEM file; empty = the system's store
  // The most bytes of an answer's body (and of its headers) read: a listing
  // page of 1,000 keys of 1,024 bytes, each URL-encoded three bytes a byte,
  // is under 4 MiB. A larger (or endless) answer fails the request instead
  // of growing the process.
  std::size_t max_body_bytes = 16u << 20;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request ("GET", "HEAD", or "PUT"/"DELETE" with `body`) with
  // `headers` ("Name: value").
  // Any HTTP status is a response; only a transport failure is an error:
  // UNAVAILABLE with libcurl's description (connection refused or reset,
  // timeout, TLS failure), or CANCELLED when `stop` was requested, which
  // aborts a request in flight within a fraction of a second.
  StatusOr<HttpResponse> perform(const std::string& method, const std::string& url,
                                 const std::vector<std::string>& headers, std::stop_token stop,
                                 const std::string& body = "");

  // Connections libcurl opened so far on this client (1 when keep-alive works).
  long connects() const { return connects_; }

 private:
  friend class HttpBatch;
  struct Handle;
  // One request set up on the handle, from begin() to finish().
  struct Transfer;

  // Sets the handle up for one request (perform() then runs it, or a batch's
  // multi handle does); CANCELLED when `stop` is already requested.
  StatusOr<std::unique_ptr<Transfer>> begin(const std::string& method, const std::string& url,
                                            const std::vector<std::string>& headers, std::stop_token stop,
                                            const std::string& body);
  // The response of a request that ended with libcurl's `result`.
  StatusOr<HttpResponse> finish(Transfer& transfer, int result);
  void* curl() const;  // the libcurl easy handle

  HttpOptions options_;
  std::unique_ptr<Handle> handle_;
  long connects_ = 0;
};

// Requests in flight together on the calling thread: a libcurl multi handle
// and a client per request (its connection kept from one run to the next).
// Several HEADs at once this way cost one thread and one wait for all of
// them, where a thread each costs a context switch per answer.
class HttpBatch {
 public:
  explicit HttpBatch(HttpOptions options);
  ~HttpBatch();
  HttpBatch(const HttpBatch&) = delete;
  HttpBatch& operator=(const HttpBatch&) = delete;

  struct Request {
    std::string method;  // "HEAD", "GET"
    std::string url;
    std::vector<std::string> headers;
  };

  // Sends every request at once and waits for all of them; the answers in
  // the order of `requests`, each as HttpClient::perform() gives it.
  std::vector<StatusOr<HttpResponse>> perform(const std::vector<Request>& requests, std::stop_token stop);

  // Connections opened so far by the batch's clients.
  long connects() const;

 private:
  HttpOptions options_;
  void* multi_;  // CURLM*
  std::vector<std::unique_ptr<HttpClient>> clients_;
};

}  // namespace s3reconcile::s3
