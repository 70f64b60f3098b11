// The projection specs: events in, model (or tables) out, replay equality, and
// exactly-once across a simulated crash; each checker also catches the bug it names.
#include <catch2/catch.hpp>

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>

#include <map>
#include <memory>
#include <string>

#include "annal/event_handlers.hpp"
#include "annal/read_model_table.hpp"
#include "annal/testing/durable_projection_spec.hpp"
#include "annal/testing/projection_spec.hpp"
#include "bank_account.hpp"

namespace projection_spec_cases {

using namespace annal;
using annal::testing::durable_projection_spec;
using annal::testing::projection_spec;
using bank::account;

namespace {

using balances = std::map<std::string, int64_t>;

const event_registry& bank_registry() {
  static const event_registry reg = [] {
    event_registry r;
    aggregate_traits<account>::register_events(r);
    return r;
  }();
  return reg;
}

event_handlers<balances> balance_handlers() {
  return event_handlers<balances>{bank_registry()}
    .on<bank::opened>([](balances& b, const event_context& c, const bank::opened&) {
      b[std::string{c.aggregate_id}] = 0;
    })
    .on<bank::deposited>([](balances& b, const event_context& c, const bank::deposited& d) {
      b[std::string{c.aggregate_id}] += d.amount;
    })
    .on<bank::withdrawn>([](balances& b, const event_context& c, const bank::withdrawn& w) {
      b[std::string{c.aggregate_id}] -= w.amount;
    });
}

using balance_table = read_model_table<std::string, int64_t>;

// A durable projection of the balances into table "t.balances".
result<durable_projection> balances_projection(read_model_store& store) {
  auto table = balance_table::open(store, "t.balances");
  if (!table)
    return std::move(table).error();
  auto add = [t = *table](read_model_txn& txn, const std::string& id, int64_t delta) -> status {
    auto row = t.get(txn, id);
    if (!row)
      return std::move(row).error();
    return t.put(txn, id, row->value_or(0) + delta);
  };
  durable_projection p;
  p.options.name = "balances";
  p.tables = {"t.balances"};
  p.apply = event_handlers<read_model_txn>{bank_registry()}
              .on<bank::deposited>([add](read_model_txn& t, const event_context& c, const bank::deposited& d) {
                return add(t, std::string{c.aggregate_id}, d.amount);
              })
              .on<bank::withdrawn>([add](read_model_txn& t, const event_context& c, const bank::withdrawn& w) {
                return add(t, std::string{c.aggregate_id}, -w.amount);
              });
  return p;
}

} // namespace

TEST_CASE("projection spec: events in, model out", "[testing][projection_spec]") {
  auto spec = projection_spec<balances>{balance_handlers()}
                .given<account>("a", {bank::opened{"ann"}, bank::deposited{10}, bank::withdrawn{3}})
                .given<account>("b", {bank::opened{"bob"}, bank::deposited{1}});
  CHECK(spec.then_model(balances{{"a", 7}, {"b", 1}}));
  CHECK(spec.then([](const balances& b) { return b.at("a") == 7; }, "a's balance is 7"));
  CHECK(spec.replays_equal());
  // The checks fail when the model differs, saying how.
  auto wrong = spec.then_model(balances{{"a", 8}, {"b", 1}});
  REQUIRE_FALSE(wrong);
  CHECK_THAT(wrong.message(), Catch::Contains("expected"));
  CHECK_FALSE(spec.then([](const balances& b) { return b.size() == 3; }));
}

TEST_CASE("projection spec: replay equality catches state kept outside the model",
          "[testing][projection_spec]") {
  auto calls = std::make_shared<int64_t>(0);
  // A handler that numbers deposits with a counter of its own: a second replay differs.
  memory_handler<balances> leaky = [calls](balances& b, const event_view& e) -> status {
    if (e.type == bank::deposited::event_type)
      b[std::string{e.stream_id}] = ++*calls;
    return {};
  };
  auto spec = projection_spec<balances>{leaky}.given<account>("a", {bank::opened{"x"}, bank::deposited{1}});
  auto r = spec.replays_equal();
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::Contains("second replay"));
}

TEST_CASE("projection spec: a failing handler is reported with the event's position",
          "[testing][projection_spec]") {
  memory_handler<balances> picky = [](balances&, const event_view& e) -> status {
    if (e.position == 2)
      return make_error(errc::bad_request, "no");
    return {};
  };
  auto spec = projection_spec<balances>{picky}.given<account>("a", {bank::opened{"x"}, bank::deposited{1}});
  CHECK(spec.then_fails());
  auto r = spec.then_model({});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::Contains("position 2"));
}

TEST_CASE("durable projection spec: tables, replay equality and exactly-once across a crash",
          "[testing][projection_spec][durable]") {
  auto spec = durable_projection_spec{balances_projection}
                .given<account>("a", {bank::opened{"ann"}, bank::deposited{10}, bank::withdrawn{3}})
                .given<account>("b", {bank::opened{"bob"}, bank::deposited{1}, bank::deposited{2}});
  CHECK(spec.then([](read_model_store& s) -> status {
    auto t = balance_table::open(s, "t.balances");
    if (!t)
      return std::move(t).error();
    return s.read([&](const read_model_txn& txn) -> status {
      auto a = t->get(txn, "a");
      if (!a || *a != std::optional<int64_t>{7})
        return make_error(errc::rejected, "a's balance is not 7");
      return {};
    });
  }));
  auto tables = spec.build();
  REQUIRE(tables);
  CHECK(tables->at("t.balances").size() == 2);
  CHECK(spec.then_tables(*tables));
  CHECK(spec.replays_equal());
  CHECK(spec.exactly_once_across_crash());
}

TEST_CASE("durable projection spec: exactly-once catches a projection that counts outside its tables",
          "[testing][projection_spec][durable]") {
  // Writes a running count kept in the process: a restart (a new sink) restarts it.
  auto make = [](read_model_store& store) -> result<durable_projection> {
    auto table = balance_table::open(store, "t.counts");
    if (!table)
      return std::move(table).error();
    auto count = std::make_shared<int64_t>(0);
    durable_projection p;
    p.options.name = "counts";
    p.tables = {"t.counts"};
    p.apply = [t = *table, count](read_model_txn& txn, const event_view&) {
      return t.put(txn, "n", ++*count);
    };
    return p;
  };
  auto spec = durable_projection_spec{make}.given<account>("a", {bank::opened{"x"}, bank::deposited{1},
                                                                 bank::deposited{2}});
  CHECK(spec.replays_equal()); // a fresh counter per build: replays agree...
  auto r = spec.exactly_once_across_crash(); // ...but a restart mid-way does not
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::Contains("crash after position"));
}

} // namespace projection_spec_cases
