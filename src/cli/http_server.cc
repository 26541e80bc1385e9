#include "cli/http_server.h"

#include <civetweb.h>

#include <strings.h>

#include <fmt/format.h>

namespace s3reconcile::cli {
namespace {

int quiet(const mg_connection*, const char*) { return 1; }  // serve logs what matters itself

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), name.size()) == 0) return v;
  }
  return "";
}

std::string HttpRequest::query_param(std::string_view name) const {
  std::string value(query.size() + 1, '\0');
  const int n = mg_get_var(query.data(), query.size(), std::string(name).c_str(), value.data(), value.size());
  if (n < 0) return "";
  value.resize(static_cast<std::size_t>(n));
  return value;
}

void HttpExchange::respond(const HttpResponse& response) {
  mg_response_header_start(conn_, response.status);
  mg_response_header_add(conn_, "Content-Type", response.content_type.c_str(), -1);
  mg_response_header_add(conn_, "Cache-Control", "no-store", -1);
  for (const auto& [name, value] : response.headers) mg_response_header_add(conn_, name.c_str(), value.c_str(), -1);
  mg_response_header_add(conn_, "Content-Length", std::to_string(response.body.size()).c_str(), -1);
  mg_response_header_send(conn_);
  if (request_.method != "HEAD" && !response.body.empty()) mg_write(conn_, response.body.data(), response.body.size());
}

void HttpExchange::start_stream(int status, const std::string& content_type) {
  mg_response_header_start(conn_, status);
  mg_response_header_add(conn_, "Content-Type", content_type.c_str(), -1);
  mg_response_header_add(conn_, "Cache-Control", "no-store", -1);
  mg_response_header_add(conn_, "Transfer-Encoding", "chunked", -1);
  mg_response_header_send(conn_);
  streaming_ = true;
}

bool HttpExchange::write(std::string_view piece) {
  if (!streaming_ || piece.empty()) return streaming_;
  return mg_send_chunk(conn_, piece.data(), static_cast<unsigned>(piece.size())) > 0;
}

void HttpExchange::end_stream() {
  if (streaming_) mg_send_chunk(conn_, "", 0);
  streaming_ = false;
}

Status HttpServer::start(const std::string& listen) {
  mg_init_library(0);
  // Idle or slow clients each hold a worker until their request times out:
  // enough workers, and a short timeout, keep probes answered while some
  // connections sit idle. A streamed POST /v1/passes holds one for its pass.
  const char* options[] = {"listening_ports",
                           listen.c_str(),
                           "num_threads",
                           "16",
                           "request_timeout_ms",
                           "5000",
                           "enable_keep_alive",
                           "yes",
                           "enable_directory_listing",
                           "no",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = quiet;
  ctx_ = mg_start(&callbacks, this, options);
  if (ctx_ == nullptr) return invalid_argument_error(fmt::format("cannot listen on {} (in use?)", listen));
  mg_set_request_handler(ctx_, "**", &HttpServer::on_request, this);
  return ok_status();
}

void HttpServer::stop() {
  if (ctx_ != nullptr) mg_stop(ctx_);
  ctx_ = nullptr;
}

int HttpServer::on_request(mg_connection* conn, void* self) {
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request;
  request.method = info->request_method;
  request.path = info->local_uri ? info->local_uri : "/";
  request.query = info->query_string ? info->query_string : "";
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers.emplace_back(info->http_headers[i].name, info->http_headers[i].value);
  }
  // Bodies are small JSON objects: a bound keeps a client from holding memory.
  char buffer[4096];
  for (int got; (got = mg_read(conn, buffer, sizeof buffer)) > 0 && request.body.size() < (64 << 10);) {
    request.body.append(buffer, static_cast<std::size_t>(got));
  }
  HttpExchange exchange(conn, std::move(request));
  static_cast<HttpServer*>(self)->handler_(exchange);
  return 1;
}

}  // namespace s3reconcile::cli
