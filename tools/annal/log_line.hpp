// How the CLI shows a library log message: one line "program: level: message", the same
// whether it goes to stderr at once or is held until a progress bar is gone.
#pragma once

#include <string>
#include <string_view>

#include "annal/log.hpp"

namespace annal::cli {

/// "program: level: message" (no newline).
inline std::string log_line(std::string_view program, log_level level, std::string_view message) {
  std::string line{program};
  line.append(": ").append(to_string(level)).append(": ").append(message);
  return line;
}

} // namespace annal::cli
