// Progress of a long operation on stderr: on a terminal a bar redrawn in place with the
// rate and the time left; otherwise (a log file, a pipe, CI) a plain line now and then.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace annal::cli {

/// Thread safety: one thread.
class progress_bar {
public:
  /// `label` names the work ("rebuild orders"), `unit` what is counted ("events").
  progress_bar(std::string label, std::string unit, bool terminal, std::ostream& out);

  /// Reports `done` of `total`. Redraws at most 10 times a second on a terminal; prints a
  /// line at most once a second otherwise.
  void update(uint64_t done, uint64_t total);

  /// Prints `text` on a line of its own without garbling the bar.
  void message(const std::string& text);

  /// Shows the final state and ends the bar's line.
  void finish(uint64_t done, uint64_t total);

private:
  std::string render(uint64_t done, uint64_t total, bool with_bar) const;
  void clear_line();

  std::string label_;
  std::string unit_;
  bool terminal_;
  std::ostream& out_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

} // namespace annal::cli
