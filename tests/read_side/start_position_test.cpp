// Where a projection without a stored position begins: the whole log, or its end.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "bank_runtime.hpp"
#include "memory_position_sink.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;

namespace {

struct deposits_seen {
  int64_t total = 0;
};

int64_t amount_of(runtime& rt, const event_view& e) {
  return rt.registry().decode<bank::deposited>(e.type, e.schema_version, e.payload).value().amount;
}

// A durable projection summing deposits under key "total", starting at the log's end.
void add_recent_deposits(runtime& rt) {
  auto table = rt.read_models().table("recent");
  REQUIRE(table);
  durable_projection dp;
  dp.options.name = "recent";
  dp.options.filter = event_filter::types({"bank.deposited"});
  dp.options.start = start_position::end;
  dp.tables = {"recent"};
  dp.apply = [t = *table, &rt](read_model_txn& tx, const event_view& e) -> status {
    auto cur = tx.get(t, "total");
    if (!cur)
      return std::move(cur).error();
    int64_t total = *cur ? std::stoll(std::string{**cur}) : 0;
    return tx.put(t, "total", std::to_string(total + amount_of(rt, e)));
  };
  REQUIRE(rt.add_projection(dp));
}

int64_t recent_total(runtime& rt, global_position min_position) {
  auto table = rt.read_models().table("recent");
  REQUIRE(table);
  auto total = rt.query<int64_t>(
    "recent",
    [&](const read_model_txn& tx) -> result<int64_t> {
      auto v = tx.get(*table, "total");
      if (!v)
        return std::move(v).error();
      return *v ? std::stoll(std::string{**v}) : 0;
    },
    query_options{min_position, 5000ms});
  REQUIRE(total);
  return *total;
}

global_position deposit(runtime& rt, int64_t amount) {
  auto r = rt.send<bank::account>("s", bank::deposit{amount}).get();
  REQUIRE(r);
  return r->position;
}

} // namespace

TEST_CASE("a projection starting at the end sees only later events, and resumes where it "
          "first started",
          "[projection]") {
  test::temp_dir dir;
  {
    auto rt = test::open_bank_runtime(dir);
    REQUIRE(rt->start());
    REQUIRE(rt->send<bank::account>("s", bank::open{"sam"}).get());
    for (int i = 1; i <= 5; ++i)
      deposit(*rt, i);
    REQUIRE(rt->stop());
  }
  global_position head = 0;
  {
    // First start: the position (the end of the log) is stored before any event applies.
    auto rt = test::open_bank_runtime(dir);
    add_recent_deposits(*rt);
    REQUIRE(rt->start());
    head = rt->store().last_position().value();
    REQUIRE(rt->await_projection("recent", head, 5000ms));
    CHECK(recent_total(*rt, head) == 0);
    REQUIRE(rt->stop());
  }
  {
    // Committed while the projection is not running: it must see it later.
    auto rt = test::open_bank_runtime(dir);
    REQUIRE(rt->start());
    deposit(*rt, 7);
    REQUIRE(rt->stop());
  }
  auto rt = test::open_bank_runtime(dir);
  add_recent_deposits(*rt);
  memory_projection<deposits_seen> mp;
  mp.options.name = "recent_memory";
  mp.options.filter = event_filter::types({"bank.deposited"});
  mp.options.start = start_position::end;
  mp.apply = [&](deposits_seen& m, const event_view& e) -> status {
    m.total += amount_of(*rt, e);
    return {};
  };
  REQUIRE(rt->add_projection(mp));
  REQUIRE(rt->start());
  auto p = deposit(*rt, 100);
  CHECK(recent_total(*rt, p) == 107);
  // The in-memory model keeps nothing across restarts: it begins at this start's end.
  auto mem = rt->query_memory<deposits_seen>(
    "recent_memory", [](const deposits_seen& m) { return m.total; }, query_options{p, 5000ms});
  REQUIRE(mem);
  CHECK(*mem == 100);
  // A rebuild replays the whole log.
  REQUIRE(rt->rebuild_projection("recent"));
  REQUIRE(rt->await_projection("recent", p, 5000ms));
  CHECK(recent_total(*rt, p) == 1 + 2 + 3 + 4 + 5 + 7 + 100);
}

namespace {

// Counts the deposits it applies; its first restart() (the actor's first step) takes 300 ms,
// as an actor scheduled late on a machine busy elsewhere would.
class late_starting_sink final : public test::memory_position_sink {
public:
  status apply(const std::vector<event_view>& events, global_position through,
               global_position&) override {
    std::lock_guard<std::mutex> lock{mx_};
    applied += static_cast<int>(events.size());
    position_ = through;
    return {};
  }
  void restart() override {
    if (!started_.exchange(true))
      std::this_thread::sleep_for(300ms);
  }
  std::atomic<int> applied{0};

private:
  std::atomic<bool> started_{false};
};

} // namespace

TEST_CASE("a projection starting at the end sees a command committed right after start(), "
          "however late its actor first runs",
          "[projection]") {
  test::temp_dir dir;
  auto rt = test::open_bank_runtime(dir);
  REQUIRE(rt->start());
  REQUIRE(rt->send<bank::account>("s", bank::open{"sam"}).get());
  REQUIRE(rt->stop());
  rt = test::open_bank_runtime(dir);
  auto sink = std::make_shared<late_starting_sink>();
  projection_options o;
  o.name = "late";
  o.filter = event_filter::types({"bank.deposited"});
  o.start = start_position::end;
  REQUIRE(rt->add_sink(o, sink));
  REQUIRE(rt->start());
  auto p = deposit(*rt, 5);
  REQUIRE(rt->await_projection("late", p, 5000ms));
  CHECK(sink->applied == 1);
}
