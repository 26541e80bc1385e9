// s3r-synthetic-s3: a synthetic S3 endpoint for large benchmarks (see
// options.h for the command line). Prints `listening on http://127.0.0.1:PORT`
// once it accepts requests, serves until SIGINT or SIGTERM, then exits 0.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "http_server.h"
#include "options.h"
#include "service.h"

int main(int argc, char** argv) {
  using namespace s3r_synthetic;
  const ParsedOptions parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (!parsed.options) {
    std::cerr << "s3r-synthetic-s3: " << parsed.error << "\n" << kUsage;
    return 2;
  }
  const Options& o = *parsed.options;

  // Blocked before any thread starts, so every civetweb worker inherits the
  // mask and the signals wait for sigwait() below.
  // A shell starts background jobs with SIGINT ignored, and an ignored signal
  // never reaches sigwait(): take the default back first.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  Service service(AuthConfig{o.access_key, o.secret_key, o.region}, o.bucket, KeySpace(o.key_prefix, o.keys));
  if (o.session_ttl_ms > 0) service.issue_session_credentials(std::chrono::milliseconds(o.session_ttl_ms));
  HttpServer server(service, std::chrono::milliseconds(o.latency_ms));
  std::string error;
  const int port = server.start(o.port, o.threads, error);
  if (port < 0) {
    std::cerr << "s3r-synthetic-s3: " << error << "\n";
    return 1;
  }
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  return 0;
}
