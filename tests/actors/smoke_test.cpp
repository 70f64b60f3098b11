#include <catch2/catch.hpp>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"

using namespace annal;

TEST_CASE("commands flow through the runtime and come back durable", "[runtime]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  auto& r = **rt;
  REQUIRE(r.register_aggregate<bank::account>());
  REQUIRE(r.start());
  auto a = r.send<bank::account>("1", bank::open{"ann"}).get();
  REQUIRE(a);
  CHECK(a->version == 1);
  auto b = r.send<bank::account>("1", bank::deposit{50}).get();
  REQUIRE(b);
  CHECK(b->version == 2);
  CHECK(b->position > a->position);
  auto c = r.send<bank::account>("1", bank::withdraw{80}).get();
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::rejected);
  auto v = r.load<bank::account>("1");
  REQUIRE(v);
  CHECK(v->state.balance == 50);
  CHECK(v->version == 2);
  REQUIRE(r.stop());
  auto d = r.send<bank::account>("1", bank::deposit{1}).get();
  CHECK(d.code() == errc::unavailable);
}
