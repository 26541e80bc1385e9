// What a HeadObject costs the client's CPU: the product's
// S3Backend::probe_many, against the floor of this machine, the same HEADs
// pre-signed and sent on plain sockets (no HTTP library, no signing in the
// timed loop). A pass confirms each stale row with a HEAD (SPEC section 6),
// so the floor bounds the CPU per key of a pass with drift from below.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "commands.h"
#include "common.h"
#include "s3/sigv4.h"

namespace s3r_bench {
namespace {

struct Cpu {
  double user_us = 0, sys_us = 0;
  long voluntary_switches = 0;
};

Cpu cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return {us(u.ru_utime), us(u.ru_stime), u.ru_nvcsw};
}

namespace s3 = s3reconcile::s3;

// The keys and region the product's client signs with (open_s3's flags).
struct Signer {
  s3::Credentials credentials;
  std::string region;
};

Signer signer_from(const Args& args) {
  auto env = [&](const char* flag, const char* fallback) {
    const char* value = std::getenv(args.str(flag, fallback).c_str());
    return std::string(value != nullptr ? value : "");
  };
  return {{env("access-key-env", "S3R_TEST_ACCESS_KEY"), env("secret-key-env", "S3R_TEST_SECRET_KEY"), ""},
          args.str("region", "us-east-1")};
}

// Each HEAD the product's client would send for `key`, as bytes on the wire.
std::string signed_head(const Signer& signer, const std::string& host, const std::string& bucket,
                        const std::string& key) {
  const auto now = s3reconcile::Clock::now();
  const std::string empty = s3::sha256_hex("");
  s3::RequestToSign r;
  r.method = "HEAD";
  r.canonical_uri = "/" + bucket + "/" + s3::uri_encode(key, true);
  r.headers = {{"host", host}, {"x-amz-content-sha256", empty}, {"x-amz-date", s3::amz_date(now)}};
  r.payload_hash = empty;
  const auto signature = s3::sign_v4(r, signer.credentials, signer.region, "s3", now);
  std::string out = "HEAD " + r.canonical_uri + " HTTP/1.1\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  return out + "Authorization: " + signature.authorization + "\r\n\r\n";
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    throw std::runtime_error("connecting to 127.0.0.1:" + std::to_string(port));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// `requests` sent `batch` at a time on `batch` keep-alive connections; each
// round waits for every answer's header block (a HEAD answer has no body).
// Returns how many answers were not 404.
std::size_t send_on_sockets(int port, const std::vector<std::string>& requests, std::size_t batch) {
  std::vector<int> fds;
  for (std::size_t i = 0; i < batch; ++i) fds.push_back(connect_to(port));
  std::vector<std::string> answers(batch);
  std::vector<pollfd> polled(batch);
  std::size_t not_found = 0;
  char buffer[16384];
  for (std::size_t first = 0; first < requests.size(); first += batch) {
    const std::size_t n = std::min(batch, requests.size() - first);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& r = requests[first + i];
      if (::write(fds[i], r.data(), r.size()) != static_cast<ssize_t>(r.size())) throw std::runtime_error("write");
      answers[i].clear();
      polled[i] = {fds[i], POLLIN, 0};
    }
    for (std::size_t waiting = n; waiting > 0;) {
      if (::poll(polled.data(), n, 10000) <= 0) throw std::runtime_error("no answer in 10 s");
      for (std::size_t i = 0; i < n; ++i) {
        if ((polled[i].revents & POLLIN) == 0) continue;
        const ssize_t got = ::read(fds[i], buffer, sizeof buffer);
        if (got <= 0) throw std::runtime_error("the endpoint closed a connection");
        answers[i].append(buffer, static_cast<std::size_t>(got));
        if (answers[i].find("\r\n\r\n") == std::string::npos) continue;
        not_found += answers[i].compare(0, 12, "HTTP/1.1 404") == 0 ? 1 : 0;
        polled[i].fd = -1;  // answered: poll skips it
        --waiting;
      }
    }
  }
  for (int fd : fds) ::close(fd);
  return requests.size() - not_found;
}

}  // namespace

int head_command(const Args& args) {
  const std::string endpoint = args.required("endpoint");  // http://127.0.0.1:PORT
  const std::string bucket = args.required("bucket");
  const auto count = static_cast<std::size_t>(args.num("count", 10000));
  const auto batch = static_cast<std::size_t>(args.num("batch", 8));
  const std::string client = args.str("client", "product");
  const std::string host = endpoint.substr(endpoint.find("//") + 2);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < count; ++i) keys.push_back(synthetic_key("absent/", static_cast<std::int64_t>(i)));

  std::size_t wrong = 0;
  Cpu before, after;
  Stopwatch clock;
  if (client == "sockets") {
    std::vector<std::string> requests;
    const Signer signer = signer_from(args);
    for (const auto& key : keys) requests.push_back(signed_head(signer, host, bucket, key));
    before = cpu_now();
    clock = Stopwatch();
    wrong = send_on_sockets(std::atoi(host.substr(host.rfind(':') + 1).c_str()), requests, batch);
    after = cpu_now();
  } else if (client == "product") {
    auto backend = open_s3(args);
    before = cpu_now();
    clock = Stopwatch();
    for (std::size_t first = 0; first < keys.size(); first += batch) {
      const std::span<const std::string> some(keys.data() + first, std::min(batch, keys.size() - first));
      for (const auto& answer : backend->probe_many(some, std::stop_token{})) {
        wrong += answer.ok() && !answer->has_value() ? 0 : 1;
      }
    }
    after = cpu_now();
  } else {
    throw std::runtime_error("--client is product or sockets, not " + client);
  }
  const double seconds = clock.seconds();
  if (wrong != 0) throw std::runtime_error(std::to_string(wrong) + " HEADs were not answered 404");
  const double n = static_cast<double>(count);
  std::printf(
      "client=%s heads=%zu batch=%zu seconds=%.3f cpu_us_per_head=%.1f user_us_per_head=%.1f sys_us_per_head=%.1f "
      "switches_per_head=%.2f\n",
      client.c_str(), count, batch, seconds, (after.user_us + after.sys_us - before.user_us - before.sys_us) / n,
      (after.user_us - before.user_us) / n, (after.sys_us - before.sys_us) / n,
      static_cast<double>(after.voluntary_switches - before.voluntary_switches) / n);
  return 0;
}

}  // namespace s3r_bench
