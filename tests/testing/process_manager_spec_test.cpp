// Process-manager specs: events in, commands out (captured), timers scheduled, and the
// same commands again (same ids) when the events are handled once more.
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <string>
#include <variant>

#include "annal/event_handlers.hpp"
#include "annal/testing/process_manager_spec.hpp"
#include "annal/testing/runtime_fixture.hpp"
#include "bank_account.hpp"

namespace process_manager_spec_cases {

using namespace annal;
namespace at = annal::testing;

// The aggregate the manager commands; its commands are captured, it never runs.
struct record_deposit {
  std::string account;
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(account, amount); }
};
struct ledger {
  struct state {};
  using command = std::variant<record_deposit>;
  using event = std::variant<bank::deposited>;
  static constexpr std::string_view category = "ledger";
  static decision<event> decide(const state&, const command&) { return {}; }
  static void evolve(state&, const event&) {}
};

constexpr timestamp_ns review_due = timestamp_ns{4102444800} * 1000000000; // 2100-01-01

// Big deposits go to the ledger, and each schedules a review of the account.
process_manager big_deposits(const event_registry& reg) {
  process_manager pm;
  pm.options.name = "big-deposits";
  auto handlers = event_handlers<process_context>{reg}.on<bank::deposited>(
    [](process_context& ctx, const event_context& c, const bank::deposited& d) -> status {
      if (d.amount < 100)
        return {};
      ctx.send<ledger>("main", record_deposit{std::string{c.aggregate_id}, d.amount});
      return ctx.schedule<bank::account>("review-" + std::string{c.aggregate_id}, review_due,
                                         std::string{c.aggregate_id}, bank::touch{});
    });
  pm.options.filter = handlers.filter();
  pm.handle = handlers;
  return pm;
}

TEST_CASE("process-manager spec: events in, commands out, timers scheduled, same ids on replay",
          "[testing][process_manager_spec]") {
  auto capture = std::make_shared<at::command_capture>(std::vector<std::string>{"ledger"});
  at::fixture_options o;
  o.start = false;
  o.setup = [&](runtime& rt) -> status {
    if (auto ok = rt.register_aggregate<bank::account>(); !ok)
      return ok;
    if (auto ok = rt.set_forwarder(capture); !ok)
      return ok;
    return rt.add_process_manager(big_deposits(rt.registry()));
  };
  at::runtime_fixture fx{o};
  auto given = at::append_given<bank::account>(fx.rt(), "a", {bank::opened{"ann"}, bank::deposited{150},
                                                              bank::deposited{5}});
  REQUIRE(given);
  REQUIRE(fx->start());

  REQUIRE(capture->wait_for(1));
  REQUIRE(fx->await_projection("big-deposits", given->last_position, std::chrono::seconds(10)));
  auto sent = capture->commands();
  REQUIRE(sent.size() == 1);
  auto cmd = at::command_capture::decode<ledger>(sent[0]);
  REQUIRE(cmd);
  CHECK(std::get<record_deposit>(*cmd).account == "a");
  CHECK(std::get<record_deposit>(*cmd).amount == 150);
  CHECK_THAT(sent[0].options.command_id, Catch::StartsWith("big-deposits/"));

  auto timers = at::scheduled_timers(fx.rt());
  REQUIRE(timers);
  REQUIRE(timers->size() == 1);
  CHECK(timers->at(0).due == review_due);
  CHECK(timers->at(0).command.category == "account");
  CHECK(timers->at(0).command.aggregate_id == "a");

  // Handled again from the start: the same command (same id), still one timer.
  auto first_ids = capture->command_ids();
  capture->clear();
  REQUIRE(fx->rebuild_projection("big-deposits"));
  REQUIRE(capture->wait_for(1));
  REQUIRE(fx->await_projection("big-deposits", given->last_position, std::chrono::seconds(10)));
  CHECK(capture->command_ids() == first_ids);
  auto again = at::scheduled_timers(fx.rt());
  REQUIRE(again);
  CHECK(again->size() == 1);
}

TEST_CASE("process-manager spec: a scripted failure reaches the manager, which retries with the same id",
          "[testing][process_manager_spec]") {
  auto capture = std::make_shared<at::command_capture>(std::vector<std::string>{"ledger"});
  int failures = 1;
  capture->reply_with("ledger", [&failures](const forwarded_command&) -> command_result {
    if (failures-- > 0)
      return make_error(errc::unavailable, "ledger down");
    return command_reply{1, 0, false, 0, 0};
  });
  at::fixture_options o;
  o.start = false;
  o.setup = [&](runtime& rt) -> status {
    if (auto ok = rt.set_forwarder(capture); !ok)
      return ok;
    auto pm = big_deposits(rt.registry());
    pm.options.backoff = std::chrono::milliseconds(1);
    return rt.add_process_manager(std::move(pm));
  };
  at::runtime_fixture fx{o};
  auto given = at::append_given<bank::account>(fx.rt(), "b", {bank::deposited{500}});
  REQUIRE(given);
  REQUIRE(fx->start());
  REQUIRE(capture->wait_for(2));
  REQUIRE(fx->await_projection("big-deposits", given->last_position, std::chrono::seconds(10)));
  auto ids = capture->command_ids();
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] == ids[1]);
}

} // namespace process_manager_spec_cases
