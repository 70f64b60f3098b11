// Benchmark output in the shared format (bench-format.md): one JSON object per line on
// stdout (one line per measured figure, the environment line first), human-readable
// tables on stderr.
//
//   json_line{}.str("bench", "journal").str("case", "append_batch_100")
//       .str("metric", "events_per_s").num("value", 1234567).print();
//   env_line(durability_name).num("fsync_us", 812.5, 1).print();
//
// Header-only, standard library and annal::malloc_in_use only; shared by every program in bench/.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "annal/malloc_in_use.hpp"

#ifndef ANNAL_BENCH_BUILD_TYPE
#define ANNAL_BENCH_BUILD_TYPE "unknown"
#endif

namespace annal::bench {

/// Builds one flat JSON object, field by field, and prints it as one line on stdout.
class json_line {
public:
  /// Adds a string field (escaped).
  json_line& str(std::string_view key, std::string_view value) {
    open(key);
    quote(value);
    return *this;
  }

  /// Adds a number field with `decimals` digits after the point (0: an integer).
  /// Non-finite values are written as null.
  json_line& num(std::string_view key, double value, int decimals = 0) {
    open(key);
    if (!std::isfinite(value)) {
      out_ += "null";
      return *this;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    out_ += buf;
    return *this;
  }

  /// Adds an integer field.
  json_line& integer(std::string_view key, int64_t value) {
    open(key);
    out_ += std::to_string(value);
    return *this;
  }

  /// Adds a boolean field.
  json_line& boolean(std::string_view key, bool value) {
    open(key);
    out_ += value ? "true" : "false";
    return *this;
  }

  /// The object as text, without a newline.
  std::string text() const { return out_ + "}"; }

  /// Prints the object and a newline on stdout and flushes, so that a run killed
  /// half-way still leaves every finished figure behind.
  void print() const {
    std::cout << text() << '\n' << std::flush;
  }

private:
  void open(std::string_view key) {
    out_ += out_.size() == 1 ? "" : ",";
    quote(key);
    out_ += ':';
  }

  void quote(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_ = "{";
};

/// Number of online cores (what the benchmark can actually use).
inline unsigned online_cores() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 0)
    return static_cast<unsigned>(n);
  unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : h;
}

/// The start of the environment line: {"bench":"env","cores":N,"build_type":...,
/// "durability":...,"malloc":...}. The caller adds the raw fsync latency ("fsync_us") and whatever
/// else describes the run, then prints it before any other line.
inline json_line env_line(std::string_view durability) {
  json_line l;
  l.str("bench", "env")
    .integer("cores", online_cores())
    .str("build_type", ANNAL_BENCH_BUILD_TYPE)
#ifdef NDEBUG
    .boolean("assertions", false)
#else
    .boolean("assertions", true)
#endif
    .str("durability", durability)
    .str("malloc", malloc_in_use());
  return l;
}

/// A plain-text table for stderr: columns are right-aligned except the first.
class text_table {
public:
  explicit text_table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  /// Writes the table to stderr, a rule under the header.
  void print(std::string_view title) const {
    std::vector<std::size_t> w;
    for (const auto& r : rows_)
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (w.size() <= i)
          w.push_back(0);
        w[i] = std::max(w[i], r[i].size());
      }
    std::ostringstream os;
    os << '\n' << title << '\n';
    for (std::size_t ri = 0; ri < rows_.size(); ++ri) {
      const auto& r = rows_[ri];
      for (std::size_t i = 0; i < r.size(); ++i) {
        auto pad = std::string(w[i] - r[i].size(), ' ');
        os << "  " << (i == 0 ? r[i] + pad : pad + r[i]);
      }
      os << '\n';
      if (ri == 0) {
        std::size_t total = 0;
        for (auto x : w)
          total += x + 2;
        os << "  " << std::string(total - 2, '-') << '\n';
      }
    }
    std::cerr << os.str() << std::flush;
  }

private:
  std::vector<std::vector<std::string>> rows_;
};

/// Formats `x` with `decimals` digits and thousands separators ("1,234,567").
inline std::string grouped(double x, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  std::string s = buf;
  auto dot = s.find('.');
  std::size_t int_end = dot == std::string::npos ? s.size() : dot;
  std::size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  for (std::size_t i = int_end; i > start + 3; i -= 3)
    s.insert(i - 3, ",");
  return s;
}

/// Formats `x` with `decimals` digits.
inline std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

} // namespace annal::bench
