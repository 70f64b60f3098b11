// The examples of docs/testing.md, compiled and run (keep them in sync).
#include <catch2/catch.hpp>

#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"

namespace docs_examples_cases {

TEST_CASE("docs/testing.md: a fault, a crash and a reopen in one test", "[testing][docs]") {
  // --8<-- [fixture]
  annal::testing::runtime_fixture fx{[](annal::runtime& rt) {
    return rt.register_aggregate<bank::account>();
  }};
  REQUIRE(fx->send<bank::account>("7", bank::open{"ann"}).get());

  fx.faults().fail_streams("account-7", annal::errc::storage_full);
  auto refused = fx->send<bank::account>("7", bank::deposit{5}).get();
  REQUIRE(refused.error().code == annal::errc::storage_full);
  fx.faults().clear();

  REQUIRE(fx->send<bank::account>("7", bank::deposit{5}).get());
  REQUIRE(fx.crash_and_reopen());
  REQUIRE(fx->load<bank::account>("7")->state.balance == 5);
  // --8<-- [/fixture]
}

} // namespace docs_examples_cases
