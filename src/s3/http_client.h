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
  struct Handle;
  HttpOptions options_;
  std::unique_ptr<Handle> handle_;
  long connects_ = 0;
};

}  // namespace s3reconcile::s3
