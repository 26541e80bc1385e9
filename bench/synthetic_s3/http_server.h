// civetweb underneath the Service: many worker threads (one per open
// connection, so parallel listings with injected latency overlap),
// keep-alive, and the request path handed over exactly as the client sent
// it, because SigV4 signs the encoded path.
#pragma once

#include <chrono>
#include <string>

#include "service.h"

struct mg_context;
struct mg_connection;

namespace s3r_synthetic {

class HttpServer {
 public:
  HttpServer(Service& service, std::chrono::milliseconds latency) : service_(service), latency_(latency) {}
  ~HttpServer() { stop(); }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on 127.0.0.1:port (0: any free port). Returns the port, or -1
  // with `error` set.
  int start(int port, int threads, std::string& error);
  void stop();

 private:
  static int on_request(mg_connection* conn, void* self);
  int serve(mg_connection* conn);

  Service& service_;
  const std::chrono::milliseconds latency_;
  mg_context* ctx_ = nullptr;
};

}  // namespace s3r_synthetic
