// Child processes of the soak, each waited for with a bound: the shop node (started on a
// data folder and a free loopback port, killed with SIGKILL or stopped with SIGTERM) and
// short tools (annal verify, gdb, the rebuild child). Nothing here blocks without a
// deadline; every process is ended by its own pid. Not thread-safe: one owner each.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace annal::soak {

/// How a child ended: exit code, signal, or still running when the wait gave up.
struct exit_status {
  bool exited = false;  ///< false: still running (the wait timed out)
  int code = 0;         ///< exit code when it exited normally
  int signal = 0;       ///< signal number when a signal ended it
  /// "exit 0", "signal 11 (Segmentation fault)", "running".
  std::string describe() const;
  bool clean() const noexcept { return exited && signal == 0 && code == 0; }
};

/// Runs `argv` with stdout and stderr to `output` and waits up to `timeout`; a child still
/// running then is SIGKILLed and reported as not exited.
exit_status run_bounded(const std::vector<std::string>& argv, const std::filesystem::path& output,
                        std::chrono::seconds timeout);

/// The last `max_bytes` of a file (for error reports).
std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes = 4000);

/// The shop node as a child process.
class node_child {
public:
  node_child() = default;
  /// Kills the node (SIGKILL) if it still runs.
  ~node_child();
  node_child(const node_child&) = delete;
  node_child& operator=(const node_child&) = delete;

  /// Starts `argv` (its stdout must print the URL once it serves, stderr appends to `log`)
  /// and waits up to `timeout` for the URL. An empty string on success, otherwise what
  /// went wrong ("hang" when it is still running without having printed its URL: the
  /// node is left running so that its stacks can be taken; kill9() it after).
  std::string start(const std::vector<std::string>& argv, const std::filesystem::path& log,
                    std::chrono::seconds timeout);

  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }

  /// Whether it ended by itself; its status then (and it is no longer running()).
  std::optional<exit_status> poll_exit();
  /// SIGKILL, then reaps it.
  void kill9();
  /// SIGTERM and waits up to `timeout`; a node still running then is left running.
  exit_status terminate(std::chrono::seconds timeout);

private:
  pid_t pid_ = -1;
  int port_ = 0;
};

/// Every thread's stack of process `pid` (gdb -batch), written to `file`, bounded by
/// `timeout`. False when gdb is not there or failed.
bool dump_stacks(pid_t pid, const std::filesystem::path& file, std::chrono::seconds timeout);

/// The interesting part of a gdb stack dump: per thread, its first frames in Annal, the
/// shop or LMDB (argument lists cut), grouped with a count of threads, most first.
std::string summarize_stacks(const std::filesystem::path& file);

} // namespace annal::soak
