#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;

TEST_CASE("a command dropped because its actor is gone still answers the caller, as unavailable",
          "[runtime]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE((*rt)->register_aggregate<bank::account>());
  REQUIRE((*rt)->start());
  auto router = (*rt)->router<bank::account>();
  REQUIRE(router);
  // Kill the router behind the runtime's back: later commands reach a dead actor.
  {
    caf::scoped_actor self{(*rt)->system()};
    self->monitor(*router);
    self->send_exit(*router, caf::exit_reason::kill);
    self->receive([](const caf::down_msg&) {});
  }
  auto f = (*rt)->send<bank::account>("a", bank::open{"ann"});
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  auto r = f.get();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unavailable);
}
