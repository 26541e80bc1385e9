#include "http_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

namespace s3r_synthetic {
namespace {

int log_to_stderr(const mg_connection*, const char* message) {
  std::fprintf(stderr, "civetweb: %s\n", message);
  return 1;  // handled: civetweb logs nothing else
}

}  // namespace

int HttpServer::start(int port, int threads, std::string& error) {
  mg_init_library(0);
  const std::string ports = "127.0.0.1:" + std::to_string(port);
  const std::string thread_count = std::to_string(threads);
  // civetweb queues accepted connections until a worker is free; room for
  // every worker keeps a burst of parallel listings from being refused.
  const std::string queue = std::to_string(std::max(threads, 20));
  const char* options[] = {"listening_ports", ports.c_str(), "num_threads", thread_count.c_str(), "connection_queue",
                           queue.c_str(), "enable_keep_alive", "yes",
                           // Idle time a client may take between two pages of one listing.
                           "keep_alive_timeout_ms", "10000", "request_timeout_ms", "60000",
                           // The raw path is what the client signed: no decoding, no dot-segment cleaning.
                           "decode_url", "no",
                           // Keys up to 1024 bytes become up to 3 KiB encoded in the request line.
                           "max_request_size", "65536",
                           // Small responses must not wait for Nagle.
                           "tcp_nodelay", "1", "enable_directory_listing", "no", nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = log_to_stderr;
  ctx_ = mg_start(&callbacks, this, options);
  if (!ctx_) {
    error = "cannot listen on " + ports + " (in use?)";
    return -1;
  }
  mg_set_request_handler(ctx_, "**", &HttpServer::on_request, this);
  mg_server_port bound[4];
  const int n = mg_get_server_ports(ctx_, 4, bound);
  if (n < 1) {
    error = "civetweb reports no listening port";
    stop();
    return -1;
  }
  return bound[0].port;
}

void HttpServer::stop() {
  if (ctx_) mg_stop(ctx_);
  ctx_ = nullptr;
}

int HttpServer::on_request(mg_connection* conn, void* self) { return static_cast<HttpServer*>(self)->serve(conn); }

int HttpServer::serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  Request request;
  request.method = info->request_method;
  request.raw_path = info->local_uri_raw ? info->local_uri_raw : info->request_uri;
  request.raw_query = info->query_string ? info->query_string : "";
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers.emplace_back(info->http_headers[i].name, info->http_headers[i].value);
  }
  // The whole body, before answering: PutObject keeps it, and a body left
  // unread would be taken for the next request on a kept-alive connection.
  char buffer[16384];
  for (int got; (got = mg_read(conn, buffer, sizeof buffer)) > 0;)
    request.body.append(buffer, static_cast<std::size_t>(got));

  if (latency_.count() > 0) std::this_thread::sleep_for(latency_);  // each worker sleeps on its own
  const Response response = service_.handle(request);

  mg_response_header_start(conn, response.status);
  for (const auto& [name, value] : response.headers) mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  const long long length =
      response.content_length >= 0 ? response.content_length : static_cast<long long>(response.body.size());
  mg_response_header_add(conn, "Content-Length", std::to_string(length).c_str(), -1);
  mg_response_header_send(conn);
  if (request.method != "HEAD" && !response.body.empty()) mg_write(conn, response.body.data(), response.body.size());
  return response.status;
}

}  // namespace s3r_synthetic
