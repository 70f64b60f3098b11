// A runtime embedded in a host's own actor system.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <chrono>

#include "annal/caf_error.hpp"
#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;

TEST_CASE("a runtime runs in a borrowed actor system and leaves it running when it stops",
          "[runtime]") {
  test::temp_dir dir;
  caf::actor_system_config host_cfg;
  register_error_category(host_cfg);
  caf::actor_system host{host_cfg};
  runtime_config cfg;
  cfg.data_dir = dir.path();
  {
    auto rt = runtime::open(host, cfg);
    REQUIRE(rt);
    REQUIRE((*rt)->register_aggregate<bank::account>());
    REQUIRE((*rt)->start());
    REQUIRE((*rt)->send<bank::account>("h", bank::open{"host"}).get());
    // Actors of the host talk to the runtime's router by request/response.
    auto router = (*rt)->router<bank::account>();
    REQUIRE(router);
    caf::scoped_actor self{host};
    command_result reply = make_error(errc::io_error, "no reply");
    self->request(*router, 10s, make_command<bank::account>("h", bank::deposit{4}))
      .receive([&](const command_reply& r) { reply = r; },
               [&](caf::error& e) { reply = from_caf_error(e); });
    REQUIRE(reply);
    CHECK(reply->version == 2);
    REQUIRE((*rt)->stop());
    // The folder lock is released with stop(): another runtime may open the folder.
    auto next = runtime::open(host, cfg);
    REQUIRE(next);
    REQUIRE((*next)->register_aggregate<bank::account>());
    auto state = (*next)->load<bank::account>("h");
    REQUIRE(state);
    CHECK(state->state.balance == 4);
  }
  // The host's system still runs actors after the runtimes are gone.
  caf::scoped_actor self{host};
  auto echo = host.spawn([]() -> caf::behavior { return {[](int x) { return x + 1; }}; });
  int answer = 0;
  self->request(echo, 5s, 41).receive([&](int x) { answer = x; }, [](caf::error&) {});
  CHECK(answer == 42);
}
