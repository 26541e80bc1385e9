// A tiny HTTP/1.1 server on 127.0.0.1 for tests: keep-alive, and faults on
// demand (status codes, hung requests, connection resets, raw bytes).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace s3reconcile::testing {

struct FakeRequest {
  std::string method;
  std::string path;                            // as sent (still percent-encoded)
  std::string raw_query;                       // after '?', as sent
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

struct FakeResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool hang = false;   // never answer; the connection is held until the server stops
  bool reset = false;  // close the connection abruptly (RST) without answering
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::condition_variable hung_;
  std::vector<std::thread> workers_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace s3reconcile::testing
