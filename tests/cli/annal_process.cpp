#include "annal_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <thread>

#ifndef ANNAL_CLI
#error "ANNAL_CLI must name the annal executable"
#endif

namespace annal::test {

namespace {

using clock_type = std::chrono::steady_clock;

pid_t spawn(const std::string& program, const std::vector<std::string>& args, int& out_fd,
            int& err_fd) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  out_fd = out[0];
  err_fd = err[0];
  return pid;
}

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int signal_of(int status) {
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

} // namespace

std::vector<std::string> cli_run::lines() const {
  std::vector<std::string> out_lines;
  std::size_t start = 0;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    if (end == std::string::npos)
      end = out.size();
    out_lines.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return out_lines;
}

cli_run run_annal(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  return run_program(ANNAL_CLI, args, timeout);
}

cli_run run_program(const std::string& program, const std::vector<std::string>& args,
                    std::chrono::seconds timeout) {
  annal_process p{program, args};
  cli_run r;
  r.exit_code = p.wait(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  r.signal = p.signal();
  r.out = p.take_output();
  r.err = p.err();
  return r;
}

cli_run run_shop_node(const std::string& data_dir, std::chrono::seconds timeout) {
  return run_program(SHOP_NODE_BINARY, {"--data", data_dir, "--http", "127.0.0.1:0",
                                        "--scheduler.max-threads=2"},
                     timeout);
}

annal_process::annal_process(const std::vector<std::string>& args)
  : annal_process(ANNAL_CLI, args) {}

annal_process::annal_process(const std::string& program, const std::vector<std::string>& args) {
  pid_ = spawn(program, args, out_fd_, err_fd_);
}

int annal_process::signal() const noexcept {
  return exited_ && !killed_ ? signal_of(status_) : 0;
}

annal_process::~annal_process() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  if (out_fd_ >= 0)
    ::close(out_fd_);
  if (err_fd_ >= 0)
    ::close(err_fd_);
}

bool annal_process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (n <= 0)
    return false;
  bool got = false;
  char buf[65536];
  for (int i = 0; i < 2; ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP)) == 0 || fds[i].fd < 0)
      continue;
    auto k = ::read(fds[i].fd, buf, sizeof(buf));
    if (k > 0) {
      (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(k));
      got = true;
    } else if (k == 0) {
      ::close(fds[i].fd);
      (i == 0 ? out_fd_ : err_fd_) = -1;
      got = true;
    }
  }
  return got;
}

std::optional<std::string> annal_process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (auto nl = out_.find('\n'); nl != std::string::npos) {
      auto line = out_.substr(0, nl);
      out_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (out_fd_ < 0 && err_fd_ < 0)
      return std::nullopt;
    if (left.count() < 0)
      return std::nullopt;
    if (!pump(left) && clock_type::now() >= deadline)
      return std::nullopt;
  }
}

bool annal_process::wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  while (err_.find(text) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0 || (out_fd_ < 0 && err_fd_ < 0))
      return false;
    pump(left);
  }
  return true;
}

void annal_process::interrupt() {
  if (!exited_)
    ::kill(pid_, SIGINT);
}

int annal_process::wait(std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  while (!exited_) {
    // Keep draining the pipes: a child blocked on a full pipe would never exit.
    pump(std::chrono::milliseconds(20));
    pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      break;
    }
    if (clock_type::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      exited_ = true;
      killed_ = true;
      return -1;
    }
  }
  while (out_fd_ >= 0 || err_fd_ >= 0)
    if (!pump(std::chrono::milliseconds(1000)))
      break;
  return exit_code_of(status_);
}

} // namespace annal::test
