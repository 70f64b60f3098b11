// Faults and operator controls of projections: a handler that keeps failing on one event
// is retried, then faults the projection at that event (the others go on); restart, skip
// and the skip policy; rebuild equals the incremental result and reports its progress;
// read-your-writes queries and their timeout.
#include <catch2/catch.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "read_side_helpers.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;
using test::be64;
using test::wait_until;

namespace {

constexpr int64_t poison_amount = 13;

std::unique_ptr<runtime> open_faults_runtime(const std::filesystem::path& dir) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.mode = durability::no_sync;
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE((*rt)->register_aggregate<bank::account>());
  return std::move(*rt);
}

int64_t amount_in(runtime& rt, const event_view& e) {
  auto d = rt.registry().decode<bank::deposited>(e.type, e.schema_version, e.payload, e.corrupt);
  if (!d)
    throw std::runtime_error("undecodable deposit: " + d.error().to_string());
  return d->amount;
}

// A durable "deposit ledger": "p"+be64(position) -> application count, "s"+stream -> sum.
durable_handler ledger_handler(runtime& rt, table_id t, std::function<void(const event_view&, int64_t)> hook) {
  return [&rt, t, hook](read_model_txn& tx, const event_view& e) -> status {
    auto amount = amount_in(rt, e);
    if (hook)
      hook(e, amount); // may throw
    auto pkey = "p" + be64(e.position);
    auto n = tx.get(t, pkey);
    if (!n)
      return std::move(n).error();
    if (auto ok = tx.put(t, pkey, std::to_string((*n ? test::to_u64(**n) : 0) + 1)); !ok)
      return ok;
    auto skey = "s" + std::string{e.stream_id};
    auto s = tx.get(t, skey);
    if (!s)
      return std::move(s).error();
    int64_t sum = *s ? std::stoll(std::string{**s}) : 0;
    return tx.put(t, skey, std::to_string(sum + amount));
  };
}

std::map<std::string, std::string> read_table(runtime& rt, table_id t) {
  std::map<std::string, std::string> out;
  REQUIRE(rt.read_models().read([&](const read_model_txn& tx) {
    return tx.scan(t, "", [&](std::string_view k, std::string_view v) {
      out.emplace(std::string{k}, std::string{v});
      return true;
    });
  }));
  return out;
}

// The deposit ledger as the fold of the journal's deposits, minus positions in `without`.
std::map<std::string, std::string> expected_ledger(runtime& rt, const std::set<global_position>& without = {}) {
  std::map<std::string, std::string> out;
  std::map<std::string, int64_t> sums;
  for (auto& e : test::read_journal(rt.store())) {
    if (e.type != "bank.deposited" || without.count(e.position) > 0)
      continue;
    auto d = from_bytes<bank::deposited>(e.payload);
    REQUIRE(d);
    out["p" + be64(e.position)] = "1";
    sums[e.stream_id] += d->amount;
  }
  for (auto& [s, v] : sums)
    out["s" + s] = std::to_string(v);
  return out;
}

projection_info info_of(runtime& rt, const std::string& name) {
  auto i = rt.projection(name);
  REQUIRE(i);
  return *i;
}

bool reaches_state(runtime& rt, const std::string& name, projection_state s,
                   std::chrono::milliseconds timeout = 30s) {
  return wait_until([&] { return info_of(rt, name).state == s; }, timeout);
}

global_position deposit(runtime& rt, const std::string& id, int64_t amount) {
  auto r = rt.send<bank::account>(id, bank::deposit{amount}).get();
  REQUIRE(r);
  return r->position;
}

struct mem_ledger {
  std::map<global_position, int64_t> amounts;
  uint64_t applications = 0;
};

} // namespace

TEST_CASE("a faulted projection is isolated: retries, faulted at the event with its error, "
          "restart, skip, skip policy, rebuild equals the incremental model",
          "[projection][faults]") {
  test::temp_dir dir;
  auto rt_ptr = open_faults_runtime(dir.path());
  auto& rt = *rt_ptr;

  // "flaky": fails on poison deposits while fail_flaky is set, counting its attempts.
  std::atomic<bool> fail_flaky{true};
  std::atomic<int> poison_attempts{0};
  auto flaky_t = rt.read_models().table("flaky");
  REQUIRE(flaky_t);
  durable_projection flaky;
  flaky.options.name = "flaky";
  flaky.options.filter = event_filter::types({"bank.deposited"});
  flaky.options.max_retries = 2;
  flaky.options.backoff = 10ms;
  flaky.tables = {"flaky"};
  flaky.apply = ledger_handler(rt, *flaky_t, [&](const event_view& e, int64_t amount) {
    if (amount == poison_amount && fail_flaky.load()) {
      ++poison_attempts;
      throw std::runtime_error("poison deposit at " + std::to_string(e.position));
    }
  });
  REQUIRE(rt.add_projection(flaky));

  // "sums": the same ledger, never failing (the reference, and the rebuild check).
  auto sums_t = rt.read_models().table("sums");
  REQUIRE(sums_t);
  durable_projection sums;
  sums.options.name = "sums";
  sums.options.filter = event_filter::types({"bank.deposited"});
  sums.tables = {"sums"};
  sums.apply = ledger_handler(rt, *sums_t, nullptr);
  REQUIRE(rt.add_projection(sums));

  // "skipper": in memory, policy skip; fails (with an error value) on every poison deposit.
  memory_projection<mem_ledger> skipper;
  skipper.options.name = "skipper";
  skipper.options.filter = event_filter::types({"bank.deposited"});
  skipper.options.on_failure = failure_policy::skip;
  skipper.options.max_retries = 1;
  skipper.options.backoff = 5ms;
  skipper.apply = [&rt](mem_ledger& m, const event_view& e) -> status {
    auto amount = amount_in(rt, e);
    if (amount == poison_amount)
      return make_error(errc::rejected, "skipper refuses poison");
    m.amounts[e.position] = amount;
    ++m.applications;
    return {};
  };
  auto skipper_sink = rt.add_projection(skipper);
  REQUIRE(skipper_sink);

  REQUIRE(rt.start());
  REQUIRE(test::all_live(rt));
  REQUIRE(rt.send<bank::account>("f", bank::open{"f"}).get());
  REQUIRE(rt.send<bank::account>("g", bank::open{"g"}).get());
  for (int64_t a : {1, 2, 3, 4})
    deposit(rt, "f", a);
  auto poison1 = deposit(rt, "f", poison_amount);

  // Retried (1 + max_retries attempts), then faulted at the poison event with its error.
  REQUIRE(reaches_state(rt, "flaky", projection_state::faulted));
  // (The skip policy's projection goes through catch-up to park the event: let it be live
  // again before writing more.)
  REQUIRE(wait_until([&] { return info_of(rt, "skipper").parked == 1; }, 30s));
  REQUIRE(reaches_state(rt, "skipper", projection_state::live));
  for (int64_t a : {5, 6})
    deposit(rt, "f", a);
  auto faulted = info_of(rt, "flaky");
  CHECK(faulted.faulted_at == poison1);
  CHECK_THAT(faulted.error, Catch::Contains("poison deposit at " + std::to_string(poison1)));
  // A throwing handler is a fault of its code, not a domain refusal.
  CHECK_THAT(faulted.error, Catch::StartsWith("handler_fault: handler threw"));
  CHECK(faulted.position < poison1);
  CHECK(faulted.lag_events > 0);
  CHECK(poison_attempts.load() == 3);
  {
    auto waited = rt.await_projection("flaky", poison1, 200ms);
    REQUIRE_FALSE(waited);
    CHECK(waited.error().code == errc::unavailable);
  }

  // The others keep going, live.
  auto last = deposit(rt, "g", 100);
  REQUIRE(rt.await_projection("sums", last, 30s));
  REQUIRE(rt.await_projection("skipper", last, 30s));
  CHECK(reaches_state(rt, "sums", projection_state::live));
  CHECK(reaches_state(rt, "skipper", projection_state::live));
  CHECK(info_of(rt, "flaky").state == projection_state::faulted);
  CHECK(read_table(rt, *sums_t) == expected_ledger(rt));

  // The skip policy parked the poison event automatically and went on.
  CHECK(info_of(rt, "skipper").parked == 1);
  {
    auto parked = (*skipper_sink)->parked();
    REQUIRE(parked.size() == 1);
    CHECK(parked[0].first == poison1);
    CHECK_THAT(parked[0].second.message, Catch::Contains("skipper refuses poison"));
    auto m = (*skipper_sink)->read([](const mem_ledger& x) { return x; });
    CHECK(m.amounts.count(poison1) == 0);
    CHECK(m.amounts.size() == 7); // 1, 2, 3, 4, 5, 6 and 100
  }

  // Skipping is refused unless the projection is faulted at an event.
  {
    auto s = rt.skip_projection_event("sums");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == errc::bad_request);
  }
  CHECK(rt.restart_projection("no-such").code() == errc::not_found);

  // A restart while the handler still fails: retried again, faulted again.
  REQUIRE(rt.restart_projection("flaky"));
  REQUIRE(wait_until([&] { return poison_attempts.load() >= 6; }, 30s));
  REQUIRE(reaches_state(rt, "flaky", projection_state::faulted));
  CHECK(poison_attempts.load() == 6);
  CHECK(info_of(rt, "flaky").faulted_at == poison1);

  // Once the handler is fixed, a restart succeeds and catches up: each event once.
  fail_flaky = false;
  REQUIRE(rt.restart_projection("flaky"));
  REQUIRE(rt.await_projection("flaky", last, 30s));
  CHECK(reaches_state(rt, "flaky", projection_state::live));
  CHECK(info_of(rt, "flaky").error.empty());
  CHECK(info_of(rt, "flaky").faulted_at == 0);
  CHECK(read_table(rt, *flaky_t) == expected_ledger(rt));

  // An operator skip parks the event it faulted on and goes on.
  fail_flaky = true;
  auto poison2 = deposit(rt, "f", poison_amount);
  REQUIRE(reaches_state(rt, "flaky", projection_state::faulted));
  CHECK(info_of(rt, "flaky").faulted_at == poison2);
  REQUIRE(wait_until([&] { return info_of(rt, "skipper").parked == 2; }, 30s));
  REQUIRE(reaches_state(rt, "skipper", projection_state::live));
  last = deposit(rt, "f", 9);
  REQUIRE(rt.skip_projection_event("flaky"));
  REQUIRE(rt.await_projection("flaky", last, 30s));
  CHECK(reaches_state(rt, "flaky", projection_state::live));
  CHECK(info_of(rt, "flaky").parked == 1);
  CHECK(read_table(rt, *flaky_t) == expected_ledger(rt, {poison2}));
  {
    auto parked_t = rt.read_models().table(parked_table_name);
    REQUIRE(parked_t);
    std::string key = "flaky";
    key.push_back('\0');
    key += be64(poison2);
    std::optional<std::string> why;
    REQUIRE(rt.read_models().read([&](const read_model_txn& tx) -> status {
      auto v = tx.get(*parked_t, key);
      if (!v)
        return std::move(v).error();
      if (*v)
        why.emplace(**v);
      return {};
    }));
    REQUIRE(why);
    CHECK_THAT(*why, Catch::Contains("skipped by an operator"));
  }
  // The skip policy parked the second poison too, and went on.
  REQUIRE(rt.await_projection("skipper", last, 30s));
  CHECK(info_of(rt, "skipper").parked == 2);
  CHECK((*skipper_sink)->read([](const mem_ledger& x) { return x.amounts.size(); }) == 8);

  // Rebuilds from position 0 give what the incremental projection built.
  fail_flaky = false;
  auto before = read_table(rt, *sums_t);
  REQUIRE(rt.rebuild_projection("sums"));
  REQUIRE(rt.await_projection("sums", last, 30s));
  CHECK(reaches_state(rt, "sums", projection_state::live));
  CHECK(read_table(rt, *sums_t) == before);
  // A rebuild also forgets the skipped events: the fixed handler now applies them.
  REQUIRE(rt.rebuild_projection("flaky"));
  REQUIRE(rt.await_projection("flaky", last, 30s));
  CHECK(read_table(rt, *flaky_t) == expected_ledger(rt));
  CHECK(read_table(rt, *flaky_t) == read_table(rt, *sums_t));
  REQUIRE(rt.stop());
}

TEST_CASE("a rebuild reports its progress and ends live with the same model", "[projection][rebuild]") {
  test::temp_dir dir;
  auto rt_ptr = open_faults_runtime(dir.path());
  auto& rt = *rt_ptr;
  REQUIRE(test::append_direct(rt.store(), "account-r", std::vector<bank::opened>{{"r"}}));
  for (int i = 0; i < 40; ++i) {
    std::vector<bank::deposited> batch;
    for (int j = 0; j < 1000; ++j)
      batch.push_back(bank::deposited{j % 7 + 1});
    REQUIRE(test::append_direct(rt.store(), "account-r", batch));
  }
  const global_position total = 40001;

  auto t = rt.read_models().table("big");
  REQUIRE(t);
  std::atomic<bool> rebuilding{false};
  std::mutex mx;
  std::optional<projection_info> mid;
  durable_projection big;
  big.options.name = "big";
  big.options.filter = event_filter::types({"bank.deposited"});
  big.options.chunk_events = 500;
  big.tables = {"big"};
  big.apply = ledger_handler(rt, *t, [&](const event_view& e, int64_t) {
    if (rebuilding.load() && e.position == 20000) {
      std::lock_guard<std::mutex> guard{mx};
      mid = rt.projection("big").value();
    }
  });
  REQUIRE(rt.add_projection(big));
  REQUIRE(rt.start());
  REQUIRE(rt.await_projection("big", total, 60s));
  auto incremental = read_table(rt, *t);
  CHECK(incremental == expected_ledger(rt));

  rebuilding = true;
  REQUIRE(rt.rebuild_projection("big"));
  std::vector<std::pair<uint64_t, uint64_t>> polled;
  bool done = wait_until(
    [&] {
      auto i = info_of(rt, "big");
      polled.emplace_back(i.rebuild_done, i.rebuild_total);
      return i.state == projection_state::live && i.position == total;
    },
    60s, 1ms);
  REQUIRE(done);
  {
    std::lock_guard<std::mutex> guard{mx};
    REQUIRE(mid);
    CHECK(mid->state == projection_state::rebuilding);
    CHECK(mid->rebuild_total == total);
    CHECK(mid->rebuild_done > 0);
    CHECK(mid->rebuild_done < total);
    CHECK(mid->rebuild_done == mid->position);
  }
  // Polled from outside: never beyond the total, never going back.
  for (std::size_t i = 0; i < polled.size(); ++i) {
    CHECK(polled[i].first <= polled[i].second);
    if (i > 0)
      CHECK(polled[i].first >= polled[i - 1].first);
  }
  auto after = info_of(rt, "big");
  CHECK(after.rebuild_done == after.rebuild_total);
  CHECK(after.rebuild_total == total);
  CHECK(read_table(rt, *t) == incremental);
  REQUIRE(rt.stop());
}

TEST_CASE("a rebuild runs while commands and the other projections go on",
          "[projection][rebuild]") {
  test::temp_dir dir;
  auto rt_ptr = open_faults_runtime(dir.path());
  auto& rt = *rt_ptr;
  REQUIRE(test::append_direct(rt.store(), "account-r", std::vector<bank::opened>{{"r"}}));
  for (int i = 0; i < 40; ++i) {
    std::vector<bank::deposited> batch(1000, bank::deposited{3});
    REQUIRE(test::append_direct(rt.store(), "account-r", batch));
  }
  auto add_ledger = [&](const std::string& name) {
    auto t = rt.read_models().table(name);
    REQUIRE(t);
    durable_projection p;
    p.options.name = name;
    p.options.filter = event_filter::types({"bank.deposited"});
    p.options.chunk_events = 500;
    p.tables = {name};
    p.apply = ledger_handler(rt, *t, nullptr);
    REQUIRE(rt.add_projection(p));
    return *t;
  };
  auto rebuilt = add_ledger("rebuilt");
  auto other = add_ledger("other");
  REQUIRE(rt.start());
  REQUIRE(rt.await_projection("rebuilt", 40001, 60s));
  REQUIRE(rt.await_projection("other", 40001, 60s));
  // Reaching the head is not yet being live: the switch to live follows a round trip to
  // the bus (a loaded machine saw "other" still catching up at the first look below).
  REQUIRE(test::all_live(rt));
  REQUIRE(rt.send<bank::account>("w", bank::open{"w"}).get());

  // Commands keep coming while the rebuild replays 40,000 events.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0}, failed{0};
  std::thread writer{[&] {
    while (!stop.load()) {
      auto r = rt.send<bank::account>("w", bank::deposit{1}).get();
      (r ? acknowledged : failed)++;
    }
  }};
  REQUIRE(rt.rebuild_projection("rebuilt"));
  std::set<projection_state> other_states;
  bool seen_rebuilding = false;
  bool done = wait_until(
    [&] {
      other_states.insert(info_of(rt, "other").state);
      auto i = info_of(rt, "rebuilt");
      seen_rebuilding = seen_rebuilding || i.state == projection_state::rebuilding;
      return i.state == projection_state::live && acknowledged.load() >= 20;
    },
    60s, 1ms);
  stop = true;
  writer.join();
  REQUIRE(done);
  CHECK(seen_rebuilding);
  CHECK(failed.load() == 0);
  // The other projection stayed live the whole time.
  CHECK(other_states == std::set<projection_state>{projection_state::live});
  auto head = rt.store().last_position().value();
  REQUIRE(rt.await_projection("rebuilt", head, 30s));
  REQUIRE(rt.await_projection("other", head, 30s));
  auto expected = expected_ledger(rt);
  CHECK(read_table(rt, rebuilt) == expected);
  CHECK(read_table(rt, other) == expected);
  REQUIRE(rt.stop());
}

TEST_CASE("read-your-writes: a query at a just-acknowledged position sees the command's effect, and "
          "a far-future position times out",
          "[projection][query]") {
  test::temp_dir dir;
  auto rt_ptr = open_faults_runtime(dir.path());
  auto& rt = *rt_ptr;
  auto t = rt.read_models().table("counts");
  REQUIRE(t);
  durable_projection counts;
  counts.options.name = "counts";
  counts.options.filter = event_filter::types({"bank.deposited"});
  counts.tables = {"counts"};
  counts.apply = [t = *t](read_model_txn& tx, const event_view& e) -> status {
    auto cur = tx.get(t, e.stream_id);
    if (!cur)
      return std::move(cur).error();
    return tx.put(t, e.stream_id, std::to_string((*cur ? test::to_u64(**cur) : 0) + 1));
  };
  REQUIRE(rt.add_projection(counts));
  memory_projection<std::map<std::string, uint64_t>> mem;
  mem.options.name = "mem_counts";
  mem.options.filter = event_filter::types({"bank.deposited"});
  mem.apply = [](std::map<std::string, uint64_t>& m, const event_view& e) -> status {
    ++m[std::string{e.stream_id}];
    return {};
  };
  REQUIRE(rt.add_projection(mem));
  REQUIRE(rt.start());
  REQUIRE(test::all_live(rt));
  for (int a = 0; a < 3; ++a)
    REQUIRE(rt.send<bank::account>("q" + std::to_string(a), bank::open{"q"}).get());

  // Background load on other accounts keeps the projections busy.
  std::atomic<bool> stop{false};
  std::thread noise{[&] {
    (void)rt.send<bank::account>("noise", bank::open{"n"}).get();
    std::deque<std::future<command_result>> window;
    while (!stop.load()) {
      window.push_back(rt.send<bank::account>("noise", bank::deposit{1}));
      if (window.size() >= 16) {
        (void)window.front().get();
        window.pop_front();
      }
    }
    for (auto& f : window)
      (void)f.get();
  }};

  std::map<std::string, uint64_t> expected;
  int stale = 0, mem_stale = 0;
  for (int i = 0; i < 300; ++i) {
    std::string id = "q" + std::to_string(i % 3);
    auto stream = "account-" + id;
    auto pos = deposit(rt, id, 1);
    ++expected[stream];
    auto got = rt.query<uint64_t>(
      "counts",
      [&](const read_model_txn& tx) -> result<uint64_t> {
        auto v = tx.get(*t, stream);
        if (!v)
          return std::move(v).error();
        return *v ? test::to_u64(**v) : 0;
      },
      query_options{pos, 10s});
    REQUIRE(got);
    if (*got != expected[stream])
      ++stale;
    auto m = rt.query_memory<std::map<std::string, uint64_t>>(
      "mem_counts", [&](const std::map<std::string, uint64_t>& x) {
        auto it = x.find(stream);
        return it == x.end() ? uint64_t{0} : it->second;
      },
      query_options{pos, 10s});
    REQUIRE(m);
    if (*m != expected[stream])
      ++mem_stale;
  }
  stop = true;
  noise.join();
  CHECK(stale == 0);
  CHECK(mem_stale == 0);

  // A position far in the future: errc::timeout after roughly the timeout.
  auto head = *rt.store().last_position();
  auto t0 = std::chrono::steady_clock::now();
  auto far = rt.query<uint64_t>("counts", [](const read_model_txn&) -> result<uint64_t> { return 0; },
                                query_options{head + 1000000, 300ms});
  auto elapsed = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(far);
  CHECK(far.error().code == errc::timeout);
  CHECK(elapsed >= 290ms);
  CHECK(elapsed < 3s);
  t0 = std::chrono::steady_clock::now();
  auto far_mem = rt.query_memory<std::map<std::string, uint64_t>>(
    "mem_counts", [](const std::map<std::string, uint64_t>& x) { return x.size(); },
    query_options{head + 1000000, 300ms});
  elapsed = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(far_mem);
  CHECK(far_mem.error().code == errc::timeout);
  CHECK(elapsed >= 290ms);
  CHECK(elapsed < 3s);
  auto unknown = rt.query<uint64_t>("no-such", [](const read_model_txn&) -> result<uint64_t> { return 0; });
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == errc::not_found);
  REQUIRE(rt.stop());
}

TEST_CASE("an event skipped by an operator stays skipped after a restart", "[projection][faults]") {
  test::temp_dir dir;
  std::atomic<int> poison_calls{0};
  auto add = [&](runtime& rt) {
    auto t = rt.read_models().table("stubborn");
    REQUIRE(t);
    durable_projection dp;
    dp.options.name = "stubborn";
    dp.options.filter = event_filter::types({"bank.deposited"});
    dp.options.max_retries = 0;
    dp.tables = {"stubborn"};
    dp.apply = ledger_handler(rt, *t, [&](const event_view&, int64_t amount) {
      if (amount == poison_amount) {
        ++poison_calls;
        throw std::runtime_error("stubborn poison");
      }
    });
    REQUIRE(rt.add_projection(dp));
  };
  global_position poison = 0;
  {
    auto rt = open_faults_runtime(dir.path());
    add(*rt);
    REQUIRE(rt->start());
    REQUIRE(test::all_live(*rt));
    REQUIRE(rt->send<bank::account>("s", bank::open{"s"}).get());
    deposit(*rt, "s", 1);
    poison = deposit(*rt, "s", poison_amount);
    REQUIRE(reaches_state(*rt, "stubborn", projection_state::faulted));
    REQUIRE(rt->skip_projection_event("stubborn"));
    REQUIRE(rt->await_projection("stubborn", poison, 30s));
    REQUIRE(reaches_state(*rt, "stubborn", projection_state::live));
    REQUIRE(rt->stop());
  }
  CHECK(poison_calls.load() == 1);
  auto rt = open_faults_runtime(dir.path());
  add(*rt);
  REQUIRE(rt->start());
  CHECK(rt->await_projection("stubborn", poison, 5s));
  CHECK(poison_calls.load() == 1);
  CHECK(info_of(*rt, "stubborn").state != projection_state::faulted);
  REQUIRE(rt->stop());
}

TEST_CASE("with the skip policy an event failing during catch-up is parked once, with the "
          "handler's error",
          "[projection][faults]") {
  test::temp_dir dir;
  auto rt_ptr = open_faults_runtime(dir.path());
  auto& rt = *rt_ptr;
  // In the journal before the projection starts: it meets the poison while catching up.
  REQUIRE(test::append_direct(rt.store(), "account-c", std::vector<bank::opened>{{"c"}}));
  REQUIRE(test::append_direct(rt.store(), "account-c",
                              std::vector<bank::deposited>{{1}, {poison_amount}, {2}}));
  const global_position poison = 3, head = 4;
  auto t = rt.read_models().table("lenient");
  REQUIRE(t);
  durable_projection dp;
  dp.options.name = "lenient";
  dp.options.filter = event_filter::types({"bank.deposited"});
  dp.options.on_failure = failure_policy::skip;
  dp.options.max_retries = 0;
  dp.tables = {"lenient"};
  dp.apply = ledger_handler(rt, *t, [](const event_view&, int64_t amount) {
    if (amount == poison_amount)
      throw std::runtime_error("lenient refuses poison");
  });
  REQUIRE(rt.add_projection(dp));
  REQUIRE(rt.start());
  REQUIRE(rt.await_projection("lenient", head, 30s));
  CHECK(read_table(rt, *t) == expected_ledger(rt, {poison}));
  CHECK(info_of(rt, "lenient").parked == 1);
  auto parked_t = rt.read_models().table(parked_table_name);
  REQUIRE(parked_t);
  std::string key = "lenient";
  key.push_back('\0');
  key += be64(poison);
  std::string why;
  REQUIRE(rt.read_models().read([&](const read_model_txn& tx) -> status {
    auto v = tx.get(*parked_t, key);
    if (!v)
      return std::move(v).error();
    if (*v)
      why = std::string{**v};
    return {};
  }));
  CHECK_THAT(why, Catch::Contains("lenient refuses poison"));
  REQUIRE(rt.stop());
}
