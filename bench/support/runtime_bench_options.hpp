// Command-line options shared by the benchmarks that drive a whole runtime
// (aggregates_bench, projections_bench): --quick, --no-sync, --dir PATH, --only A,B and
// --caf --opt=value (repeatable), plus the options of each benchmark.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace annal::bench {

struct runtime_bench_options {
  bool quick = false;
  bool no_sync = false;
  std::filesystem::path dir;
  std::set<std::string> only;
  std::vector<std::string> caf_args;
  /// True when case group `w` was asked for (all are, without --only).
  bool wants(const std::string& w) const { return only.empty() || only.count(w) > 0; }
};

/// Parses the shared options into `o`; `extra(arg, value)` takes a benchmark's own option
/// with its value (return false for an unknown one). Prints `usage` and exits 2 on an
/// unknown or incomplete option.
inline void parse_runtime_bench_options(
  int argc, char** argv, runtime_bench_options& o, const std::string& usage,
  const std::function<bool(const std::string&, const std::string&)>& extra = {}) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--no-sync") {
      o.no_sync = true;
    } else if (a == "--caf" && has_value) {
      o.caf_args.push_back(argv[++i]);
    } else if (a == "--dir" && has_value) {
      o.dir = argv[++i];
    } else if (a == "--only" && has_value) {
      std::stringstream ss{argv[++i]};
      for (std::string w; std::getline(ss, w, ',');)
        o.only.insert(w);
    } else if (!(has_value && extra && extra(a, argv[i + 1]))) {
      std::cerr << "usage: " << usage << "\n";
      std::exit(2);
    } else {
      ++i;
    }
  }
}

/// The ids "0" .. "n-1".
inline std::vector<std::string> make_ids(std::size_t n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    ids.push_back(std::to_string(i));
  return ids;
}

} // namespace annal::bench
