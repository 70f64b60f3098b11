// Runs a test's helper executable as a real child process with a deadline: its output
// captured, and killed with SIGKILL when it does not finish in time (a hang is a result).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace annal::test {

/// What a child run printed and how it ended.
struct child_outcome {
  /// Exit code, or -1 when it died of a signal or was killed at the deadline.
  int exit_code = -1;
  /// True when the deadline passed and the child was killed.
  bool timed_out = false;
  /// stdout and stderr, interleaved as they arrived.
  std::string output;
};

/// Runs `exe args...`, waits up to `timeout`, kills it (SIGKILL, by PID) past that.
inline child_outcome run_child(const std::string& exe, const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) {
  child_outcome r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return r;
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0)
      continue;
    auto got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0)
      break; // the child closed its output: it is ending
    r.output.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!r.timed_out && WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  return r;
}

} // namespace annal::test
