#include "s3/process_credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "s3reconcile/printable.h"

extern char** environ;

namespace s3reconcile::s3 {
namespace {

constexpr std::size_t kMaxOutputBytes = 64u << 10;

// A child's stdout and stderr read to the end (or to the limits), its exit.
struct ProcessOutput {
  std::string out, err;
  int wait_status = 0;
  bool timed_out = false;
  bool too_large = false;
};

StatusOr<ProcessOutput> run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                    std::stop_token stop) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return internal_error(fmt::format("pipe: {}", std::strerror(errno)));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return internal_error(fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return failed_precondition_error(
        fmt::format("cannot start {}: {}", printable(argv[0], 200), std::strerror(spawned)));
  }
  ProcessOutput result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char chunk[4096];
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stop.stop_requested()) {
      result.timed_out = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 100))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      std::string& into = i == 0 ? result.out : result.err;
      if (into.size() + static_cast<std::size_t>(n) > kMaxOutputBytes) {
        result.too_large = true;
        open_fds = 0;
        break;
      }
      into.append(chunk, static_cast<std::size_t>(n));
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (result.timed_out || result.too_large) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &result.wait_status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

class ProcessCredentials final : public CredentialProvider {
 public:
  ProcessCredentials(std::vector<std::string> argv, std::string where, std::chrono::milliseconds timeout)
      : argv_(std::move(argv)), where_(std::move(where)), timeout_(timeout) {}

  StatusOr<TimedCredentials> fetch(std::stop_token stop) override {
    auto ran = run_process(argv_, timeout_, stop);
    if (!ran.ok()) return ran.status().with_context(describe());
    if (ran->timed_out) {
      return unavailable_error(fmt::format("{}: killed after {} s without an answer", describe(),
                                           std::chrono::duration_cast<std::chrono::seconds>(timeout_).count()));
    }
    if (ran->too_large) return data_loss_error(fmt::format("{}: wrote more than 64 KiB", describe()));
    if (!WIFEXITED(ran->wait_status) || WEXITSTATUS(ran->wait_status) != 0) {
      const std::string first_line = ran->err.substr(0, ran->err.find('\n'));
      return failed_precondition_error(fmt::format("{}: {}{}", describe(),
                                                   WIFEXITED(ran->wait_status)
                                                       ? fmt::format("exit status {}", WEXITSTATUS(ran->wait_status))
                                                       : fmt::format("killed by signal {}", WTERMSIG(ran->wait_status)),
                                                   first_line.empty() ? "" : ": " + printable(first_line, 200)));
    }
    const nlohmann::json j = nlohmann::json::parse(ran->out, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.value("Version", 0) != 1) {
      return data_loss_error(fmt::format("{}: the output's \"Version\" must be 1", describe()));
    }
    return parse_credentials_json(ran->out, describe());
  }

  std::string describe() const override {
    return fmt::format("credential_process {} ({})", printable(argv_.front(), 200), where_);
  }

 private:
  std::vector<std::string> argv_;
  std::string where_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

StatusOr<std::vector<std::string>> split_command_line(const std::string& line) {
  std::vector<std::string> args;
  std::string current;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        current += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) args.push_back(std::move(current));
      current.clear();
      in_word = false;
    } else {
      current += c;
      in_word = true;
    }
  }
  if (quote != 0) return invalid_argument_error("credential_process: a quote is not closed");
  if (in_word) args.push_back(std::move(current));
  if (args.empty()) return invalid_argument_error("credential_process is empty");
  return args;
}

std::unique_ptr<CredentialProvider> process_credentials(std::vector<std::string> argv, std::string where,
                                                        std::chrono::milliseconds timeout) {
  return std::make_unique<ProcessCredentials>(std::move(argv), std::move(where), timeout);
}

}  // namespace s3reconcile::s3
