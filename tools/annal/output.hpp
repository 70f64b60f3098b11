// Where a command's results go: readable tables (and "name  value" blocks) for a person,
// or JSON lines (one object per line, nothing else on stdout) for jq and scripts.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "record.hpp"

namespace annal::cli {

enum class format : uint8_t { table, json };

/// Thread safety: one thread at a time (a command's main thread).
class output {
public:
  /// Writes to `out`; `columns` is the terminal width (0: not a terminal, never truncate).
  output(format f, std::ostream& out, int columns = 0);
  ~output();
  output(const output&) = delete;
  output& operator=(const output&) = delete;

  bool json() const noexcept { return format_ == format::json; }

  /// False once writing failed (e.g. the reader of a pipe went away): stop producing.
  bool good() const;

  /// A JSON line, or a row of the current table. The first row fixes the table's columns
  /// (its fields marked for tables); rows are printed in batches whose column widths only
  /// grow, so long listings stream instead of waiting for the end.
  void row(const record& r);

  /// Prints the rows buffered so far and flushes the stream (for `tail`).
  void flush();

  /// Ends the current table: prints its rows; the next row starts a new table.
  void end_table();

  /// A JSON line, or the fields as "name  value" lines (after ending any table).
  void object(const record& r);

  /// A free line of text on a terminal (e.g. a section title); nothing in JSON mode.
  void heading(const std::string& text);

private:
  void print_rows();

  format format_;
  std::ostream& out_;
  int columns_;
  bool header_printed_ = false;
  std::vector<std::string> names_;
  std::vector<bool> numeric_;
  std::vector<std::size_t> widths_;
  std::vector<std::vector<std::string>> pending_;
};

} // namespace annal::cli
