// White-box views of a deterministic runtime_fixture running bank accounts: the router's
// state (it runs on the test coordinator, so a test may read it between steps) and a
// loaded account's balance.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "annal/detail/aggregate_router.hpp"
#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"

namespace bank_fixture_views {

inline annal::detail::router_state<bank::account>& bank_router(annal::testing::runtime_fixture& fx) {
  auto router = fx->router<bank::account>();
  REQUIRE(router);
  return dynamic_cast<annal::detail::router_actor<bank::account>&>(
           *caf::actor_cast<caf::abstract_actor*>(*router))
    .state;
}

inline int64_t balance_of(annal::testing::runtime_fixture& fx, const std::string& id) {
  auto view = fx->load<bank::account>(id);
  REQUIRE(view);
  return view->state.balance;
}

} // namespace bank_fixture_views
