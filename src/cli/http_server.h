// The HTTP server of `serve`: civetweb underneath, one handler for every
// request. Probes, scrapes, the passes API and the status page all go
// through it, so that they share one listen address.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3reconcile/status.h"

struct mg_context;
struct mg_connection;

namespace s3reconcile::cli {

struct HttpRequest {
  std::string method;
  std::string path;   // decoded, without the query
  std::string query;  // as sent, without the '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  // The value of `name` in the query, url-decoded, or "".
  std::string query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request and the way back to its client: answer it whole, or stream
// it (application/x-ndjson) a line at a time.
class HttpExchange {
 public:
  HttpExchange(mg_connection* conn, HttpRequest request) : conn_(conn), request_(std::move(request)) {}
  const HttpRequest& request() const { return request_; }

  void respond(const HttpResponse& response);
  // Sends the status line and headers of a response of unknown length
  // (chunked); then write() each piece, false once the client is gone.
  void start_stream(int status, const std::string& content_type);
  bool write(std::string_view piece);
  // The last (empty) chunk: the response is complete.
  void end_stream();

 private:
  mg_connection* conn_;
  HttpRequest request_;
  bool streaming_ = false;
};

class HttpServer {
 public:
  using Handler = std::function<void(HttpExchange&)>;

  explicit HttpServer(Handler handler) : handler_(std::move(handler)) {}
  ~HttpServer() { stop(); }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on `listen` ("127.0.0.1:9464", "[::1]:9464").
  Status start(const std::string& listen);
  void stop();

 private:
  static int on_request(mg_connection* conn, void* self);

  Handler handler_;
  mg_context* ctx_ = nullptr;
};

}  // namespace s3reconcile::cli
