// A shop-node child process for the tests: started on a data folder and a free port
// (--http 127.0.0.1:0; the node prints its URL when ready), stopped with SIGTERM or
// SIGKILL. Its stderr goes to a log file that failing tests print.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace shop::test {

/// How a node is started beyond its arguments.
struct node_launch {
  /// The program to run.
  std::string binary = SHOP_NODE_BINARY;
  /// The address its HTTP front listens on (port 0: any free one).
  std::string http = "127.0.0.1:0";
  /// A command the node runs under, e.g. {"/usr/sbin/ip", "netns", "exec", "ns1"} (it must
  /// exec the node, so that the PID is the node's own).
  std::vector<std::string> prefix;
};

class node_process {
public:
  /// Starts the node on `data_dir` with `args` added to its command line and waits (up to
  /// 60 s) until it prints its URL. Throws std::runtime_error when it does not come up.
  /// `binary`: the program to run (default: shop-node).
  explicit node_process(std::filesystem::path data_dir, std::vector<std::string> args = {},
                        std::string binary = SHOP_NODE_BINARY);
  /// As above, started as `launch` says.
  node_process(std::filesystem::path data_dir, std::vector<std::string> args, const node_launch& launch);
  /// Kills the node (SIGKILL) if it is still running.
  ~node_process();
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  const std::string& host() const noexcept { return host_; }
  int port() const noexcept { return port_; }
  const std::string& url() const noexcept { return url_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }

  /// Sends SIGTERM and waits for the exit; returns the exit code (-signal when killed by a
  /// signal, -1000 when it did not exit within `timeout`, then it is SIGKILLed).
  int terminate(std::chrono::seconds timeout = std::chrono::seconds(60));
  /// Sends `sig` without waiting.
  void signal(int sig);
  /// SIGKILL, and waits for the process to be gone.
  void kill9();
  /// Waits for the exit (after signal()); as terminate().
  int wait(std::chrono::seconds timeout);

  /// What the node wrote to stderr so far.
  std::string log() const;

private:
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::string host_;
  int port_ = 0;
  std::string url_;
};

/// Polls `pred` every 20 ms until it returns true or `timeout` passed; returns its last
/// value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

} // namespace shop::test
