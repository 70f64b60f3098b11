// Each fault kind of the faulty journal, through the public API: the command gets the
// error value, nothing is persisted, and the runtime keeps serving.
#include <catch2/catch.hpp>

#include <chrono>

#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"

namespace fault_injection_cases {

using namespace annal;
using annal::testing::runtime_fixture;

namespace {

runtime_fixture bank_fixture() {
  return runtime_fixture{[](runtime& rt) { return rt.register_aggregate<bank::account>(); }};
}

command_result send(runtime_fixture& fx, const std::string& id, bank::account::command cmd) {
  return fx->send<bank::account>(id, std::move(cmd)).get();
}

stream_version head_of(runtime_fixture& fx, const std::string& id) {
  auto h = fx->store().stream_head(aggregate_traits<bank::account>::stream_id(id));
  REQUIRE(h);
  return h->head;
}

// The failed command left nothing behind and the same instance serves again.
void check_recovers(runtime_fixture& fx, const std::string& id, stream_version before) {
  CHECK(head_of(fx, id) == before);
  fx.faults().clear();
  auto again = send(fx, id, bank::deposit{7});
  REQUIRE(again);
  CHECK(head_of(fx, id) == before + 1);
  auto view = fx->load<bank::account>(id);
  REQUIRE(view);
  CHECK(view->state.balance == 10 + 7);
}

} // namespace

TEST_CASE("an io_error injected for a stream fails its command and spares the others",
          "[testing][faults]") {
  auto fx = bank_fixture();
  REQUIRE(send(fx, "a", bank::open{"ann"}));
  REQUIRE(send(fx, "a", bank::deposit{10}));
  REQUIRE(send(fx, "b", bank::open{"bob"}));
  fx.faults().fail_streams("account-a", errc::io_error);
  auto r = send(fx, "a", bank::deposit{1});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::io_error);
  CHECK(send(fx, "b", bank::deposit{1})); // another stream keeps working meanwhile
  check_recovers(fx, "a", 2);
}

TEST_CASE("a conflict injected for a stream reaches the command as conflict",
          "[testing][faults]") {
  auto fx = bank_fixture();
  REQUIRE(send(fx, "a", bank::open{"ann"}));
  REQUIRE(send(fx, "a", bank::deposit{10}));
  fx.faults().fail_streams("account-a", errc::conflict);
  auto r = send(fx, "a", bank::deposit{1});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::conflict);
  check_recovers(fx, "a", 2);
}

TEST_CASE("storage_full after N appends fails every later command until cleared",
          "[testing][faults]") {
  auto fx = bank_fixture();
  REQUIRE(send(fx, "a", bank::open{"ann"}));
  fx.faults().fail_after(1, errc::storage_full);
  REQUIRE(send(fx, "a", bank::deposit{10})); // the one append still allowed
  for (const char* id : {"a", "b"}) {
    auto r = send(fx, id, id == std::string{"a"} ? bank::account::command{bank::deposit{1}}
                                                 : bank::account::command{bank::open{"bob"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::storage_full);
  }
  CHECK(head_of(fx, "b") == 0);
  check_recovers(fx, "a", 2);
}

TEST_CASE("an io_error after N appends fails the whole group commit",
          "[testing][faults]") {
  auto fx = bank_fixture();
  REQUIRE(send(fx, "a", bank::open{"ann"}));
  REQUIRE(send(fx, "a", bank::deposit{10}));
  fx.faults().fail_after(0, errc::io_error);
  auto r = send(fx, "a", bank::deposit{1});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::io_error);
  CHECK(fx.faults().appends_written() == 2);
  check_recovers(fx, "a", 2);
}

TEST_CASE("a slow journal delays each command by at least its latency", "[testing][faults]") {
  auto fx = bank_fixture();
  REQUIRE(send(fx, "a", bank::open{"ann"}));
  REQUIRE(send(fx, "a", bank::deposit{10}));
  fx.faults().set_latency(std::chrono::milliseconds(150));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(send(fx, "a", bank::deposit{1}));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(150));
  fx.faults().clear();
  auto view = fx->load<bank::account>("a");
  REQUIRE(view);
  CHECK(view->state.balance == 11);
}

} // namespace fault_injection_cases
