#include "support/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

#include "s3/list_xml.h"

namespace s3reconcile::testing {
namespace {

bool wait_readable(int fd, const std::atomic<bool>& stopping) {
  while (!stopping.load()) {
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, 50);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
  return false;
}

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

std::string decode(const std::string& s) {
  auto d = s3::url_decode(s, false);
  return d.ok() ? *d : s;
}

FakeRequest parse_head(const std::string& head) {
  FakeRequest r;
  std::size_t line_end = head.find("\r\n");
  const std::string first = head.substr(0, line_end);
  const auto sp1 = first.find(' ');
  const auto sp2 = first.rfind(' ');
  r.method = first.substr(0, sp1);
  const std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    r.raw_query = target.substr(q + 1);
    const std::string& rest = r.raw_query;
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t amp = rest.find('&', start);
      if (amp == std::string::npos) amp = rest.size();
      const std::string pair = rest.substr(start, amp - start);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        r.query[decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
      }
      start = amp + 1;
    }
  }
  std::size_t pos = line_end + 2;
  while (pos < head.size()) {
    const std::size_t end = head.find("\r\n", pos);
    const std::string line = head.substr(pos, end - pos);
    pos = end == std::string::npos ? head.size() : end + 2;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    r.headers[name] = line.substr(v);
  }
  return r;
}

}  // namespace

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeHttpServer::~FakeHttpServer() {
  stopping_ = true;
  hung_.notify_all();
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
}

void FakeHttpServer::accept_loop() {
  while (wait_readable(listen_fd_, stopping_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeHttpServer::serve(int fd) {
  std::string buffer;
  char chunk[8192];
  while (true) {
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!wait_readable(fd, stopping_)) {
        ::close(fd);
        return;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    FakeRequest request = parse_head(buffer.substr(0, head_end + 2));
    buffer.erase(0, head_end + 4);
    if (auto cl = request.headers.find("content-length"); cl != request.headers.end()) {
      const std::size_t body = std::stoul(cl->second);
      while (buffer.size() < body && wait_readable(fd, stopping_)) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      request.body = buffer.substr(0, std::min(body, buffer.size()));
      buffer.erase(0, std::min(body, buffer.size()));
    }
    ++requests_;
    FakeResponse response = handler_(request);
    if (response.hang) {
      std::unique_lock lock(mu_);
      hung_.wait(lock, [this] { return stopping_.load(); });
      ::close(fd);
      return;
    }
    if (response.reset) {
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::close(fd);
      return;
    }
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Fake\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    out += "\r\n";
    if (request.method != "HEAD") out += response.body;
    send_all(fd, out);
  }
}

}  // namespace s3reconcile::testing
