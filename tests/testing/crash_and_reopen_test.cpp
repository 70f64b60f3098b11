// runtime_fixture: a temporary folder removed at the end, and crash_and_reopen() keeping
// exactly what was committed before the crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>

#include "annal/event_handlers.hpp"

#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"

namespace crash_and_reopen_cases {

using namespace annal;
using annal::testing::runtime_fixture;

namespace {

status setup_bank(runtime& rt) {
  return rt.register_aggregate<bank::account>();
}

int64_t balance_of(runtime_fixture& fx, const std::string& id) {
  auto view = fx->load<bank::account>(id);
  REQUIRE(view);
  return view->state.balance;
}

} // namespace

TEST_CASE("the runtime fixture runs no_sync in a folder it removes at the end",
          "[testing][fixture]") {
  std::filesystem::path folder;
  {
    runtime_fixture fx{setup_bank};
    folder = fx.folder();
    CHECK(fx->config().mode == durability::no_sync);
    CHECK(fx->running());
    REQUIRE(fx->send<bank::account>("a", bank::open{"ann"}).get());
    CHECK(std::filesystem::exists(folder / "journal"));
  }
  CHECK_FALSE(std::filesystem::exists(folder));
}

TEST_CASE("crash_and_reopen keeps what was committed and nothing written after the crash",
          "[testing][fixture][crash]") {
  runtime_fixture fx{setup_bank};
  REQUIRE(fx->send<bank::account>("a", bank::open{"ann"}).get());
  REQUIRE(fx->send<bank::account>("a", bank::deposit{10}).get());
  fx.faults().crash();
  // After the crash point nothing reaches the disk (a real crash would not answer at all).
  auto lost = fx->send<bank::account>("a", bank::deposit{5}).get();
  REQUIRE_FALSE(lost);
  CHECK(lost.error().code == errc::io_error);
  REQUIRE(fx.crash_and_reopen());
  CHECK(fx->running());
  CHECK(balance_of(fx, "a") == 10);
  // The reopened runtime serves the same instance, from the state on disk.
  REQUIRE(fx->send<bank::account>("a", bank::deposit{1}).get());
  CHECK(balance_of(fx, "a") == 11);
}

TEST_CASE("crash_and_reopen rebuilds an in-memory projection from the journal",
          "[testing][fixture][crash]") {
  std::optional<memory_view<int64_t>> view;
  runtime_fixture fx{[&](runtime& rt) -> status {
    if (auto ok = rt.register_aggregate<bank::account>(); !ok)
      return ok;
    memory_projection<int64_t> p;
    p.options.name = "total";
    p.apply = event_handlers<int64_t>{rt.registry()}.on<bank::deposited>(
      [](int64_t& total, const event_context&, const bank::deposited& d) { total += d.amount; });
    auto v = rt.add_projection(std::move(p));
    if (!v)
      return std::move(v).error();
    view.emplace(std::move(*v));
    return {};
  }};
  REQUIRE(fx->send<bank::account>("a", bank::open{"ann"}).get());
  auto r = fx->send<bank::account>("a", bank::deposit{10}).get();
  REQUIRE(r);
  REQUIRE(fx.crash_and_reopen());
  auto total = view->query([](const int64_t& t) { return t; }, r->position);
  REQUIRE(total);
  CHECK(*total == 10);
}

TEST_CASE("reopen after a clean stop keeps every answered command", "[testing][fixture]") {
  runtime_fixture fx{setup_bank};
  REQUIRE(fx->send<bank::account>("a", bank::open{"ann"}).get());
  REQUIRE(fx->send<bank::account>("a", bank::deposit{3}).get());
  REQUIRE(fx.reopen());
  CHECK(balance_of(fx, "a") == 3);
}

} // namespace crash_and_reopen_cases
