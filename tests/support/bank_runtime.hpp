// The opening of most read-side tests: a runtime in a temporary folder with bank::account
// registered (not started, so that projections can still be added).
#pragma once

#include <catch2/catch.hpp>

#include <memory>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"

namespace annal::test {

inline std::unique_ptr<runtime> open_bank_runtime(const temp_dir& dir) {
  runtime_config cfg;
  cfg.data_dir = dir.path();
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE((*rt)->register_aggregate<bank::account>());
  return std::move(*rt);
}

} // namespace annal::test
