#include "soak/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace annal::soak {

namespace {

using clock = std::chrono::steady_clock;

exit_status from_wait_status(int status) {
  exit_status s;
  s.exited = true;
  if (WIFEXITED(status))
    s.code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    s.signal = WTERMSIG(status);
  return s;
}

// Waits for `pid` up to `timeout` (polling: waitpid has no timeout).
exit_status wait_bounded(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    auto r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return from_wait_status(status);
    if (r < 0 && errno != EINTR)
      return exit_status{true, -1, 0};
    if (clock::now() >= deadline)
      return exit_status{};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Spawns argv with stdin from /dev/null, stdout to `out_fd` (or `out_file`), stderr to
// `err_file`; -1 on failure.
pid_t spawn(const std::vector<std::string>& argv_s, int out_fd, const std::filesystem::path& out_file,
            const std::filesystem::path& err_file) {
  std::vector<std::string> copy = argv_s;
  std::vector<char*> argv;
  for (auto& a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  else
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

} // namespace

std::string exit_status::describe() const {
  if (!exited)
    return "running";
  if (signal != 0)
    return "signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  return "exit " + std::to_string(code);
}

exit_status run_bounded(const std::vector<std::string>& argv, const std::filesystem::path& output,
                        std::chrono::seconds timeout) {
  auto pid = spawn(argv, -1, output, output);
  if (pid < 0)
    return exit_status{true, 127, 0};
  auto s = wait_bounded(pid, timeout);
  if (!s.exited)
    kill_and_reap(pid);
  return s;
}

std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes) {
  std::ifstream in{file, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

node_child::~node_child() {
  kill9();
}

std::string node_child::start(const std::vector<std::string>& argv, const std::filesystem::path& log,
                              std::chrono::seconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return "pipe failed";
  pid_ = spawn(argv, fds[1], {}, log);
  ::close(fds[1]);
  if (pid_ < 0) {
    ::close(fds[0]);
    return "cannot start " + argv.front();
  }
  // The URL line, read byte by byte with a deadline.
  auto deadline = clock::now() + timeout;
  std::string line;
  bool eof = false;
  bool done = false;
  while (!done && !eof && clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(1, left.count())));
    if (r <= 0)
      continue;
    char c = 0;
    auto n = ::read(fds[0], &c, 1);
    if (n <= 0)
      eof = true;
    else if (c == '\n')
      done = true;
    else
      line.push_back(c);
  }
  ::close(fds[0]);
  auto colon = line.rfind(':');
  if (done && line.rfind("http://", 0) == 0 && colon != std::string::npos) {
    port_ = std::atoi(line.c_str() + colon + 1);
    return {};
  }
  if (auto s = poll_exit())
    return "the node exited at start (" + s->describe() + ")";
  if (eof) {
    kill9();
    return "the node closed its stdout without a URL";
  }
  return "hang";
}

std::optional<exit_status> node_child::poll_exit() {
  if (pid_ <= 0)
    return std::nullopt;
  auto s = wait_bounded(pid_, std::chrono::milliseconds(0));
  if (!s.exited)
    return std::nullopt;
  pid_ = -1;
  return s;
}

void node_child::kill9() {
  if (pid_ <= 0)
    return;
  kill_and_reap(pid_);
  pid_ = -1;
}

exit_status node_child::terminate(std::chrono::seconds timeout) {
  if (pid_ <= 0)
    return exit_status{true, 0, 0};
  ::kill(pid_, SIGTERM);
  auto s = wait_bounded(pid_, timeout);
  if (s.exited)
    pid_ = -1;
  return s;
}

bool dump_stacks(pid_t pid, const std::filesystem::path& file, std::chrono::seconds timeout) {
  if (::access("/usr/bin/gdb", X_OK) != 0)
    return false;
  auto s = run_bounded({"/usr/bin/gdb", "-p", std::to_string(pid), "-batch", "-ex",
                        "thread apply all bt"},
                       file, timeout);
  return s.clean();
}

std::string summarize_stacks(const std::filesystem::path& file) {
  std::ifstream in{file};
  std::map<std::string, int> groups;
  std::string line;
  std::string key;
  int frames = 0;
  auto flush = [&] {
    if (!key.empty())
      ++groups[key];
    key.clear();
    frames = 0;
  };
  while (std::getline(in, line)) {
    if (line.rfind("Thread ", 0) == 0) {
      flush();
      continue;
    }
    if (line.empty() || line[0] != '#' || frames >= 8)
      continue;
    if (line.find("annal::") == std::string::npos && line.find("shop::") == std::string::npos
        && line.find("mdb_") == std::string::npos)
      continue;
    auto in_at = line.find(" in ");
    auto name = line.substr(in_at == std::string::npos ? 0 : in_at + 4);
    if (name.rfind("0x", 0) == 0 && in_at != std::string::npos)
      name = line.substr(in_at + 4);
    if (name.rfind("std::_Function_handler", 0) == 0 || name.rfind("decltype", 0) == 0)
      continue; // wrappers: the frames around them say more
    auto paren = name.find('(');
    // Keep template arguments short: the function's qualified name is what tells.
    name = name.substr(0, std::min<std::size_t>(paren == std::string::npos ? name.size() : paren, 120));
    key += "\n      " + name;
    ++frames;
  }
  flush();
  std::vector<std::pair<int, std::string>> sorted;
  for (const auto& [k, n] : groups)
    sorted.emplace_back(n, k);
  std::sort(sorted.rbegin(), sorted.rend());
  std::string out;
  for (const auto& [n, k] : sorted)
    out += "\n    " + std::to_string(n) + " thread(s):" + k;
  return out;
}

} // namespace annal::soak
