#include "output.hpp"

#include <algorithm>
#include <cctype>
#include <ostream>

namespace annal::cli {

namespace {

// Rows printed at once: widths are computed per batch, so a long listing streams.
constexpr std::size_t batch_rows = 256;

// Display width: code points, not bytes (continuation bytes do not count).
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

// The first `width` code points of `s`.
std::string cut(const std::string& s, std::size_t width) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 && seen++ == width)
      return s.substr(0, i);
  }
  return s;
}

// A table cell stays on one line: control characters become '?'.
std::string cell(const field& f) {
  switch (f.type) {
    case field::kind::null: return "-";
    case field::kind::boolean: return f.value == "true" ? "yes" : "no";
    case field::kind::text: {
      if (f.value.empty())
        return "-";
      std::string s = f.value;
      for (auto& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          c = '?';
      return s;
    }
    default: return f.value;
  }
}

std::string title(const std::string& name) {
  std::string s = name;
  for (auto& c : s)
    c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string label(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

} // namespace

output::output(format f, std::ostream& out, int columns)
  : format_(f), out_(out), columns_(columns) {}

output::~output() {
  end_table();
  out_.flush();
}

bool output::good() const {
  return out_.good();
}

void output::row(const record& r) {
  if (json()) {
    out_ << r.to_json() << '\n';
    return;
  }
  if (names_.empty()) {
    for (const auto& f : r.fields())
      if (f.in_table) {
        names_.push_back(title(f.name));
        numeric_.push_back(f.type == field::kind::number);
      }
    widths_.assign(names_.size(), 0);
  }
  std::vector<std::string> cells;
  for (const auto& f : r.fields()) {
    if (!f.in_table)
      continue;
    cells.push_back(cell(f));
    if (columns_ > 0 && f.table_width > 1 && display_width(cells.back()) > f.table_width)
      cells.back() = cut(cells.back(), f.table_width - 1) + "\u2026";
  }
  cells.resize(names_.size());
  pending_.push_back(std::move(cells));
  if (pending_.size() >= batch_rows)
    print_rows();
}

void output::print_rows() {
  if (pending_.empty() || names_.empty())
    return;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    widths_[i] = std::max(widths_[i], display_width(names_[i]));
    for (const auto& r : pending_)
      widths_[i] = std::max(widths_[i], display_width(r[i]));
  }
  auto print = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      bool last = i + 1 == cells.size();
      std::string pad(widths_[i] - display_width(cells[i]), ' ');
      if (last) {
        std::string value = numeric_[i] ? pad + cells[i] : cells[i];
        // On a terminal the last column (often a payload) is cut to the screen width.
        auto used = display_width(line);
        if (columns_ > 0 && used + 16 < static_cast<std::size_t>(columns_)
            && used + display_width(value) > static_cast<std::size_t>(columns_))
          value = cut(value, columns_ - used - 1) + "\u2026";
        line += value;
      } else {
        line += numeric_[i] ? pad + cells[i] : cells[i] + pad;
        line += "  ";
      }
    }
    // Too narrow for the last column to show anything useful: cut the whole line.
    if (columns_ > 0 && display_width(line) > static_cast<std::size_t>(columns_))
      line = cut(line, columns_ - 1) + "\u2026";
    out_ << line << '\n';
  };
  if (!header_printed_) {
    print(names_);
    header_printed_ = true;
  }
  for (const auto& r : pending_)
    print(r);
  pending_.clear();
}

void output::flush() {
  print_rows();
  out_.flush();
}

void output::end_table() {
  print_rows();
  names_.clear();
  numeric_.clear();
  widths_.clear();
  header_printed_ = false;
}

void output::object(const record& r) {
  end_table();
  if (json()) {
    out_ << r.to_json() << '\n';
    return;
  }
  std::size_t width = 0;
  for (const auto& f : r.fields())
    if (f.in_table)
      width = std::max(width, display_width(label(f.name)));
  for (const auto& f : r.fields()) {
    if (!f.in_table)
      continue;
    auto name = label(f.name);
    out_ << name << std::string(width - display_width(name) + 2, ' ') << cell(f) << '\n';
  }
}

void output::heading(const std::string& text) {
  end_table();
  if (!json())
    out_ << '\n' << text << '\n';
}

} // namespace annal::cli
