// Runs the built `annal` binary as a child process, as an operator's shell would: its
// stdout and stderr captured, its exit code returned; or kept running (tail) with its
// stdout read line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace annal::test {

/// What a finished run printed and returned.
struct cli_run {
  /// The exit code, or -1 when it had to be killed (timeout) or died of a signal.
  int exit_code = -1;
  /// The signal that ended it (0: it exited, or it was killed at the timeout).
  int signal = 0;
  std::string out;
  std::string err;

  /// stdout split into lines (without the newlines).
  std::vector<std::string> lines() const;
};

/// Runs `annal args...` and waits for it (killing it after `timeout`).
cli_run run_annal(const std::vector<std::string>& args,
                  std::chrono::seconds timeout = std::chrono::seconds(60));

/// Runs `program args...` (another built binary, e.g. the shop node) the same way.
cli_run run_program(const std::string& program, const std::vector<std::string>& args,
                    std::chrono::seconds timeout = std::chrono::seconds(60));

/// Runs the shop node on `data_dir` (HTTP on a free loopback port, 2 scheduler threads) until
/// it exits or `timeout` passes: for a node that must refuse to start.
cli_run run_shop_node(const std::string& data_dir, std::chrono::seconds timeout);

/// A running `annal` (e.g. tail), or another program. Killed on destruction if still running.
class annal_process {
public:
  explicit annal_process(const std::vector<std::string>& args);
  annal_process(const std::string& program, const std::vector<std::string>& args);
  ~annal_process();
  annal_process(const annal_process&) = delete;
  annal_process& operator=(const annal_process&) = delete;

  /// The next line of stdout, or none when `timeout` passed or the output ended.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  /// Waits until stderr contains `text` (or `timeout` passes); false on timeout.
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout);

  /// Sends SIGINT (Ctrl-C).
  void interrupt();

  /// Waits for the exit; the exit code, or -1 on timeout (then kills it) or a signal.
  int wait(std::chrono::milliseconds timeout);

  const std::string& err() const noexcept { return err_; }

  /// After wait(): the signal that ended the process (0 when it exited, or when wait()
  /// killed it at its timeout).
  int signal() const noexcept;

  pid_t pid() const noexcept { return pid_; }

  /// What stdout held that no read_line took yet.
  std::string take_output() { return std::move(out_); }

private:
  // Reads what is available on both pipes within `timeout`; false when nothing came.
  bool pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  bool exited_ = false;
  bool killed_ = false;
  int status_ = 0;
};

} // namespace annal::test
