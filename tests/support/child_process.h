// Child processes for tests that need several real instances at once: the
// tool (s3reconcile run --join ...) or a server (the synthetic S3 endpoint).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace s3reconcile::testing {

// A loopback port nobody listens on right now (the kernel's pick).
inline int unused_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A process running `argv`, stdout and stderr to files; killed (SIGKILL)
// if still running when destroyed.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string out_file, std::string err_file)
      : out_file_(std::move(out_file)), err_file_(std::move(err_file)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!::freopen(out_file_.c_str(), "w", stdout) || !::freopen(err_file_.c_str(), "w", stderr)) ::_exit(126);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exited_; }
  void kill(int signal) { ::kill(pid_, signal); }

  // The exit code (-1 when killed by a signal).
  int wait() {
    if (!exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      exited_ = true;
    }
    return exit_code_;
  }

  // Sends `signal` and waits for the exit: the exit code, and how long the
  // process took to go.
  std::pair<int, std::chrono::milliseconds> stop_with(int signal) {
    const auto sent = std::chrono::steady_clock::now();
    kill(signal);
    const int code = wait();
    return {code, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent)};
  }

  std::string out() const { return slurp(out_file_); }
  std::string err() const { return slurp(err_file_); }

  // Waits (at most `limit`) until stdout holds `text`.
  bool wait_for_output(const std::string& text, std::chrono::seconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (out().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

 private:
  static std::string slurp(const std::string& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  const std::string out_file_, err_file_;
};

}  // namespace s3reconcile::testing
