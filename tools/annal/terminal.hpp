// What the CLI needs to know about the terminal it writes to.
#pragma once

namespace annal::cli {

/// True when file descriptor `fd` is a terminal (tables and progress bars), false for a
/// pipe or file (plain lines).
bool is_terminal(int fd) noexcept;

/// Width of the terminal on `fd` in columns, or 0 when it is not a terminal.
int terminal_columns(int fd) noexcept;

} // namespace annal::cli
