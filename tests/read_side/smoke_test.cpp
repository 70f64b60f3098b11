#include <catch2/catch.hpp>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "bank_runtime.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

struct balances {
  std::map<std::string, int64_t> by_stream;
};

} // namespace

TEST_CASE("projections follow the log and answer read-your-writes queries", "[projection]") {
  test::temp_dir dir;
  auto opened = test::open_bank_runtime(dir);
  auto& rt = *opened;
  auto table = rt.read_models().table("deposits");
  REQUIRE(table);
  durable_projection dp;
  dp.options.name = "deposits";
  dp.options.filter = event_filter::types({"bank.deposited"});
  dp.tables = {"deposits"};
  auto& reg = rt.registry();
  dp.apply = [t = *table, &reg](read_model_txn& tx, const event_view& e) -> status {
    auto d = reg.decode<bank::deposited>(e.type, e.schema_version, e.payload, e.corrupt);
    if (!d)
      return std::move(d).error();
    auto cur = tx.get(t, e.stream_id);
    if (!cur)
      return std::move(cur).error();
    int64_t total = *cur ? std::stoll(std::string{**cur}) : 0;
    return tx.put(t, e.stream_id, std::to_string(total + d->amount));
  };
  REQUIRE(rt.add_projection(dp));
  memory_projection<balances> mp;
  mp.options.name = "balances";
  mp.options.filter = event_filter::categories({"account"});
  mp.apply = [&reg](balances& m, const event_view& e) -> status {
    if (e.type == "bank.deposited")
      m.by_stream[std::string{e.stream_id}] +=
        reg.decode<bank::deposited>(e.type, e.schema_version, e.payload).value().amount;
    return {};
  };
  auto sink = rt.add_projection(mp);
  REQUIRE(sink);
  REQUIRE(rt.start());
  REQUIRE(rt.send<bank::account>("a", bank::open{"ann"}).get());
  command_result last = make_error(errc::io_error, "none");
  for (int i = 1; i <= 20; ++i)
    last = rt.send<bank::account>("a", bank::deposit{i}).get();
  REQUIRE(last);
  auto total = rt.query<int64_t>(
    "deposits",
    [&](const read_model_txn& tx) -> result<int64_t> {
      auto v = tx.get(*table, "account-a");
      if (!v)
        return std::move(v).error();
      return *v ? std::stoll(std::string{**v}) : 0;
    },
    query_options{last->position, std::chrono::milliseconds(5000)});
  REQUIRE(total);
  CHECK(*total == 210);
  auto mem = rt.query_memory<balances>(
    "balances", [](const balances& m) { return m.by_stream.at("account-a"); },
    query_options{last->position, std::chrono::milliseconds(5000)});
  REQUIRE(mem);
  CHECK(*mem == 210);
  auto infos = rt.projections();
  REQUIRE(infos.size() == 2);
  REQUIRE(rt.rebuild_projection("deposits"));
  REQUIRE(rt.await_projection("deposits", last->position, std::chrono::milliseconds(5000)));
  auto again = rt.query<int64_t>("deposits", [&](const read_model_txn& tx) -> result<int64_t> {
    return std::stoll(std::string{**tx.get(*table, "account-a")});
  });
  REQUIRE(again);
  CHECK(*again == 210);
  REQUIRE(rt.stop());
}

TEST_CASE("a process manager reacts with commands and fires a durable timer", "[process]") {
  test::temp_dir dir;
  auto opened = test::open_bank_runtime(dir);
  auto& rt = *opened;
  process_manager pm;
  pm.options.name = "welcome";
  pm.options.filter = event_filter::types({"bank.opened"});
  pm.handle = [](process_context& ctx, const event_view& e) -> status {
    std::string id{e.stream_id.substr(std::string_view{"account-"}.size())};
    auto deposited = ctx.send<bank::account>(id, bank::deposit{100});
    ctx.then(deposited, [](process_context&, const command_result& r) {
      return r ? status{} : status{r.error()};
    });
    return ctx.schedule<bank::account>("bonus-" + id, now_ns() + 200'000'000, id, bank::deposit{5});
  };
  REQUIRE(rt.add_process_manager(pm));
  REQUIRE(rt.start());
  REQUIRE(rt.send<bank::account>("x", bank::open{"xi"}).get());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int64_t balance = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto v = rt.load<bank::account>("x");
    if (v && v->state.balance == 105) {
      balance = v->state.balance;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(balance == 105);
  REQUIRE(rt.stop());
}
