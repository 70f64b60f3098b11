// The typed read side: event_handlers (decode, dispatch by type, context, errors) and
// read_model_table (typed keys and rows, key order, prefixes, the bytes on disk).
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/event_handlers.hpp"
#include "annal/read_model_table.hpp"
#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "bank_runtime.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

template <class E>
recorded_event stored(std::string stream, global_position position, const E& e) {
  recorded_event r;
  r.stream_id = std::move(stream);
  r.version = 1;
  r.position = position;
  r.type = std::string{event_traits<E>::name};
  r.schema_version = event_traits<E>::schema_version;
  auto bytes = to_bytes(e);
  REQUIRE(bytes);
  r.payload = std::move(*bytes);
  return r;
}

struct ledger {
  std::vector<std::string> lines;
};

} // namespace

TEST_CASE("typed handlers get the decoded event and its aggregate's category and id",
          "[read_side][typed]") {
  event_registry reg;
  aggregate_traits<bank::account>::register_events(reg);
  auto handlers = event_handlers<ledger>{reg}
                    .on<bank::opened>([](ledger& l, const event_context& c, const bank::opened& e) {
                      l.lines.push_back(std::string{c.category} + "/" + std::string{c.aggregate_id}
                                        + " opened by " + e.owner);
                    })
                    .on<bank::deposited>([](ledger& l, const event_context& c, const bank::deposited& e) -> status {
                      if (e.amount < 0)
                        return make_error(errc::rejected, "negative deposit");
                      l.lines.push_back(std::to_string(c.event.position) + ": +" + std::to_string(e.amount));
                      return {};
                    });
  ledger l;
  REQUIRE(handlers(l, stored("account-a-1", 1, bank::opened{"ann"}).view()));
  REQUIRE(handlers(l, stored("account-a-1", 2, bank::deposited{5}).view()));
  // A type without a handler is passed over.
  REQUIRE(handlers(l, stored("account-a-1", 3, bank::withdrawn{1}).view()));
  CHECK(l.lines == std::vector<std::string>{"account/a-1 opened by ann", "2: +5"});
  // The handler's error comes back as it is.
  auto refused = handlers(l, stored("account-a-1", 4, bank::deposited{-1}).view());
  CHECK(refused.code() == errc::rejected);
  // A payload that does not decode is corrupt, naming stream and version.
  auto bad = stored("account-a-1", 5, bank::deposited{1});
  bad.payload = "\x01";
  auto undecodable = handlers(l, bad.view());
  REQUIRE_FALSE(undecodable);
  CHECK(undecodable.error().code == errc::corrupt);
  CHECK_THAT(undecodable.error().message, Catch::Contains("account-a-1 v1"));
  // The filter passes exactly the handled types.
  CHECK(handlers.types() == std::vector<std::string>{"bank.deposited", "bank.opened"});
}

TEST_CASE("a typed table stores rows under typed keys, in key order, by prefix",
          "[read_side][typed]") {
  test::temp_dir dir;
  auto store = read_model_store::open({dir.path()});
  REQUIRE(store);
  using key = std::pair<std::string, uint64_t>;
  auto orders = read_model_table<key, std::vector<std::string>>::open(**store, "t.orders");
  auto index = read_model_table<std::string, key, key_rows<key>>::open(**store, "t.index");
  REQUIRE(orders);
  REQUIRE(index);
  REQUIRE((*store)->write([&](read_model_txn& t) -> status {
    for (auto [customer, position] : {std::pair<const char*, uint64_t>{"bob", 300}, {"ann", 256},
                                      {"ann", 7}, {"annie", 1}})
      if (auto ok = orders->put(t, key{customer, position}, {customer, std::to_string(position)}); !ok)
        return ok;
    return index->put(t, "o-1", key{"ann", 256});
  }));
  REQUIRE((*store)->read([&](const read_model_txn& t) -> status {
    // Numbers sort by value (big-endian), strings end before the next part.
    auto ann = orders->rows(t, key_prefix(std::string{"ann"}));
    REQUIRE(ann);
    CHECK(*ann == std::vector<std::vector<std::string>>{{"ann", "7"}, {"ann", "256"}});
    std::vector<key> keys;
    REQUIRE(orders->scan(t, [&](const key& k, const std::vector<std::string>&) {
      keys.push_back(k);
      return true;
    }));
    CHECK(keys == std::vector<key>{{"ann", 7}, {"ann", 256}, {"annie", 1}, {"bob", 300}});
    // A row stored as another table's key, and the bytes it is stored as (customer, NUL,
    // big-endian position: the shop's format before typed tables).
    auto k = index->get(t, "o-1");
    REQUIRE(k);
    REQUIRE(*k);
    CHECK(**k == key{"ann", 256});
    auto raw = t.get(index->id(), "o-1");
    REQUIRE(raw);
    REQUIRE(*raw);
    CHECK(**raw == std::string("ann\0\0\0\0\0\0\0\x01\x00", 12));
    auto none = orders->get(t, key{"carl", 1});
    REQUIRE(none);
    CHECK_FALSE(*none);
    return {};
  }));
  // A row that does not decode is corrupt, not a crash.
  REQUIRE((*store)->write([&](read_model_txn& t) { return t.put(orders->id(), encode_key(key{"zed", 1}), "\xff"); }));
  REQUIRE((*store)->read([&](const read_model_txn& t) -> status {
    auto broken = orders->get(t, key{"zed", 1});
    REQUIRE_FALSE(broken);
    CHECK(broken.error().code == errc::corrupt);
    return {};
  }));
}

namespace {

struct totals {
  std::map<std::string, int64_t> by_account;
};

} // namespace

TEST_CASE("typed projections over typed tables, queried through a typed handle",
          "[read_side][typed][projection]") {
  test::temp_dir dir;
  auto opened = test::open_bank_runtime(dir);
  auto& rt = *opened;
  const auto& reg = rt.registry();

  // Durable: account id -> balance, in a typed table.
  auto balances = read_model_table<std::string, int64_t>::open(rt.read_models(), "t.balances");
  REQUIRE(balances);
  auto table = *balances;
  auto change = [table](read_model_txn& t, std::string_view id, int64_t by) -> status {
    auto row = table.get(t, std::string{id});
    if (!row)
      return std::move(row).error();
    return table.put(t, std::string{id}, row->value_or(0) + by);
  };
  durable_projection dp;
  dp.options.name = "balances";
  dp.tables = {"t.balances"};
  auto durable_handlers =
    event_handlers<read_model_txn>{reg}
      .on<bank::deposited>([change](read_model_txn& t, const event_context& c, const bank::deposited& e) {
        return change(t, c.aggregate_id, e.amount);
      })
      .on<bank::withdrawn>([change](read_model_txn& t, const event_context& c, const bank::withdrawn& e) {
        return change(t, c.aggregate_id, -e.amount);
      });
  dp.options.filter = durable_handlers.filter();
  dp.apply = durable_handlers;
  REQUIRE(rt.add_projection(dp));

  // In memory: the same totals, through one generic handler for every event type.
  memory_projection<totals> mp;
  mp.options.name = "totals";
  mp.options.filter = event_filter::categories({"account"});
  mp.apply = event_handlers<totals>{reg}.on_each<bank::account::event>(
    [](totals& m, const event_context& c, const auto& e) {
      using E = std::decay_t<decltype(e)>;
      if constexpr (std::is_same_v<E, bank::deposited>)
        m.by_account[std::string{c.aggregate_id}] += e.amount;
      else if constexpr (std::is_same_v<E, bank::withdrawn>)
        m.by_account[std::string{c.aggregate_id}] -= e.amount;
    });
  auto view = rt.add_projection(mp);
  REQUIRE(view);

  REQUIRE(rt.start());
  REQUIRE(rt.send<bank::account>("a-1", bank::open{"ann"}).get());
  REQUIRE(rt.send<bank::account>("a-1", bank::deposit{50}).get());
  auto last = rt.send<bank::account>("a-1", bank::withdraw{8}).get();
  REQUIRE(last);

  auto in_memory = view->query([](const totals& m) { return m.by_account.at("a-1"); },
                               last->position, std::chrono::seconds(10));
  REQUIRE(in_memory);
  CHECK(*in_memory == 42);
  auto durable = rt.query<std::optional<int64_t>>(
    "balances", [&](const read_model_txn& t) { return table.get(t, "a-1"); },
    query_options{last->position, std::chrono::seconds(10)});
  REQUIRE(durable);
  CHECK(*durable == std::optional<int64_t>{42});
  // Waiting on both read models is one call with one deadline.
  std::vector<std::shared_ptr<projection_monitor>> monitors;
  for (const char* name : {"balances", "totals"}) {
    auto m = rt.projection_monitor_of(name);
    REQUIRE(m);
    monitors.push_back(*m);
  }
  std::promise<std::optional<std::size_t>> outcome;
  auto cancel = notify_when_all(monitors, last->position,
                                [&](std::optional<std::size_t> failed) { outcome.set_value(failed); });
  auto f = outcome.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK_FALSE(f.get());
  CHECK_FALSE(cancel()); // decided already
}

TEST_CASE("notify_when_all reports all reached, the first that failed, or nothing once cancelled",
          "[read_side][typed]") {
  auto make = [] {
    return std::vector<std::shared_ptr<projection_monitor>>{std::make_shared<projection_monitor>("a"),
                                                            std::make_shared<projection_monitor>("b")};
  };
  SECTION("all reached") {
    auto ms = make();
    std::vector<std::optional<std::size_t>> calls;
    auto cancel = notify_when_all(ms, 10, [&](std::optional<std::size_t> f) { calls.push_back(f); });
    ms[0]->advance(10);
    CHECK(calls.empty()); // b is not there yet
    ms[1]->advance(12);
    REQUIRE(calls.size() == 1);
    CHECK_FALSE(calls[0]);
    CHECK_FALSE(cancel());
  }
  SECTION("one faults first") {
    auto ms = make();
    std::vector<std::optional<std::size_t>> calls;
    (void)notify_when_all(ms, 10, [&](std::optional<std::size_t> f) { calls.push_back(f); });
    ms[0]->advance(10);
    ms[1]->set_fault(5, "boom");
    ms[1]->advance(10);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0] == std::optional<std::size_t>{1});
  }
  SECTION("cancelled before it was decided") {
    auto ms = make();
    int calls = 0;
    auto cancel = notify_when_all(ms, 10, [&](std::optional<std::size_t>) { ++calls; });
    CHECK(cancel());
    ms[0]->advance(10);
    ms[1]->advance(10);
    CHECK(calls == 0);
  }
}

TEST_CASE("a decided notify_when_all holds nothing of its caller, though its cancel is kept",
          "[read_side][typed]") {
  // The shop keeps the cancel function in the state its `done` captures: a cycle, unless
  // the decision releases `done` and the waits left on the other monitors (LeakSanitizer
  // reported both the caller's state and the monitors before).
  auto a = std::make_shared<projection_monitor>("a");
  auto b = std::make_shared<projection_monitor>("b");
  auto caller = std::make_shared<int>(7);
  std::weak_ptr<int> watch = caller;
  auto cancel = notify_when_all({a, b}, 10, [caller](std::optional<std::size_t>) {});
  caller.reset();
  a->set_fault(3, "boom"); // decided by a; b never reaches 10
  CHECK(watch.expired());
  CHECK_FALSE(cancel());
  std::weak_ptr<projection_monitor> watch_b = b;
  cancel = nullptr;
  a.reset();
  b.reset();
  CHECK(watch_b.expired()); // b's waiter, which held the shared state, was cancelled
}
