// Reading `annal --json` output in tests: every stdout line must be one JSON object.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "annal_process.hpp"

namespace annal::test {

/// Every line of `r`'s stdout, parsed (a line that does not parse fails the test).
inline std::vector<nlohmann::json> json_lines(const cli_run& r) {
  std::vector<nlohmann::json> out;
  for (const auto& line : r.lines()) {
    INFO("line: " << line);
    auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.is_object());
    out.push_back(std::move(j));
  }
  return out;
}

/// The lines whose "kind" is `kind` (verify's problem / unknown_type / summary).
inline std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& lines,
                                           const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& j : lines)
    if (j.value("kind", "") == kind)
      out.push_back(j);
  return out;
}

} // namespace annal::test
