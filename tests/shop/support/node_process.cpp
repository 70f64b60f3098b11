#include "node_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace shop::test {

namespace {

std::atomic<int> next_log{0};

// Reads one line from `fd` within `timeout`; empty when none came.
std::string read_line(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count())));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      continue;
    char c = 0;
    auto n = ::read(fd, &c, 1);
    if (n <= 0)
      return {}; // EOF: the node exited
    if (c == '\n')
      return line;
    line.push_back(c);
  }
  return {};
}

} // namespace

node_process::node_process(std::filesystem::path data_dir, std::vector<std::string> args,
                           std::string binary)
  : node_process(std::move(data_dir), std::move(args), node_launch{std::move(binary), "127.0.0.1:0", {}}) {
}

node_process::node_process(std::filesystem::path data_dir, std::vector<std::string> args,
                           const node_launch& launch) {
  const auto& binary = launch.binary;
  log_path_ = data_dir.parent_path()
              / ("node-" + std::to_string(::getpid()) + "-" + std::to_string(next_log++) + ".log");
  std::vector<std::string> argv_s = launch.prefix;
  argv_s.insert(argv_s.end(), {binary, "--data", data_dir.string(), "--http", launch.http,
                               // Two workers: the test machines have two cores.
                               "--scheduler.max-threads=2"});
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  // fork + exec rather than posix_spawn, for PR_SET_PDEATHSIG: a test process that dies
  // without running its destructors (an abort, ctest's timeout kill) takes its nodes with
  // it instead of leaving them running. Only async-signal-safe calls between the two.
  // The signal follows the thread that forked: nodes are started from the test's thread.
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) // the parent died before prctl
      ::_exit(126);
    int err = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (err < 0 || in < 0 || ::dup2(fds[1], STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0
        || ::dup2(in, STDIN_FILENO) < 0)
      ::_exit(126);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid_ < 0) {
    ::close(fds[0]);
    pid_ = -1;
    throw std::runtime_error("cannot start " + binary);
  }
  url_ = read_line(fds[0], std::chrono::seconds(60));
  ::close(fds[0]); // the node writes nothing else to stdout
  auto colon = url_.rfind(':');
  if (url_.rfind("http://", 0) != 0 || colon == std::string::npos) {
    auto text = log();
    kill9();
    throw std::runtime_error("shop-node did not come up; its log:\n" + text);
  }
  host_ = url_.substr(7, colon - 7);
  port_ = std::stoi(url_.substr(colon + 1));
}

node_process::~node_process() {
  if (pid_ > 0)
    kill9();
}

void node_process::signal(int sig) {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

int node_process::wait(std::chrono::seconds timeout) {
  if (pid_ <= 0)
    return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      break;
    if (r < 0 && errno != EINTR)
      return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill9();
      return -1000;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
}

int node_process::terminate(std::chrono::seconds timeout) {
  signal(SIGTERM);
  return wait(timeout);
}

void node_process::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string node_process::log() const {
  std::ifstream in{log_path_};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace shop::test
