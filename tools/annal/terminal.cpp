#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace annal::cli {

bool is_terminal(int fd) noexcept {
  return ::isatty(fd) == 1;
}

int terminal_columns(int fd) noexcept {
  if (!is_terminal(fd))
    return 0;
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
    return 80;
  return ws.ws_col;
}

} // namespace annal::cli
