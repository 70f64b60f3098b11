// Delivery of the global log to subscribers (invariant 3 of the design): every projection
// sees exactly the events its filter admits, each once, in global-position order, with no
// gap, across the catch-up -> live handoff, under concurrent writes; the event bus keeps
// its buffers bounded (a catching-up subscriber whose buffer overflows reads further from
// the journal, a live one that falls behind is sent back to catch-up) without breaking that
// promise; a dead subscriber is dropped; projections report their status and lag.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"
#include "annal/detail/subscription.hpp"
#include "annal/event_bus.hpp"
#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "read_side_helpers.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;
using test::be64;
using test::from_be64;
using test::wait_until;

namespace {

// -- runtime-level: several projections with different filters ------------------------------

// What an in-memory recorder projection saw, in application order.
struct seen_model {
  std::vector<global_position> order;
  uint64_t applied_while_live = 0;
};

// A durable recorder: per event, the application count under be64(position), and order
// violations under "~disorder" (position not above the previous one, kept in "~last").
durable_handler durable_recorder(table_id t) {
  return [t](read_model_txn& tx, const event_view& e) -> status {
    auto key = be64(e.position);
    auto cur = tx.get(t, key);
    if (!cur)
      return std::move(cur).error();
    uint64_t count = *cur ? test::to_u64(**cur) : 0;
    if (auto ok = tx.put(t, key, std::to_string(count + 1)); !ok)
      return ok;
    auto last = tx.get(t, "~last");
    if (!last)
      return std::move(last).error();
    if (*last && test::to_u64(**last) >= e.position) {
      auto d = tx.get(t, "~disorder");
      uint64_t n = d && *d ? test::to_u64(**d) : 0;
      if (auto ok = tx.put(t, "~disorder", std::to_string(n + 1)); !ok)
        return ok;
    }
    return tx.put(t, "~last", std::to_string(e.position));
  };
}

// What a durable recorder table holds: positions (key order) with their counts.
struct recorded {
  std::vector<std::pair<global_position, uint64_t>> counts;
  uint64_t disorder = 0;
};

recorded read_recorder(runtime& rt, table_id t) {
  recorded out;
  auto ok = rt.read_models().read([&](const read_model_txn& tx) -> status {
    return tx.scan(t, "", [&](std::string_view k, std::string_view v) {
      if (k == "~disorder")
        out.disorder = test::to_u64(v);
      else if (k.size() == 8)
        out.counts.emplace_back(from_be64(k), test::to_u64(v));
      return true;
    });
  });
  REQUIRE(ok);
  return out;
}

void check_durable(runtime& rt, table_id t, const std::vector<global_position>& expected,
                   const std::string& name) {
  INFO("durable projection " << name);
  auto r = read_recorder(rt, t);
  CHECK(r.disorder == 0);
  std::vector<global_position> got;
  std::size_t applied_twice = 0;
  for (auto& [p, n] : r.counts) {
    got.push_back(p);
    if (n != 1)
      ++applied_twice;
  }
  CHECK(applied_twice == 0);
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}

// Pre-fills the journal directly (the projections catch up on these): rounds of small
// appends interleaving the three categories, so that every catch-up chunk mixes them.
void prefill(event_store& store, int rounds) {
  for (int a = 0; a < 12; ++a)
    REQUIRE(test::append_direct(store, "account-" + std::to_string(a),
                                std::vector<bank::opened>{{"owner" + std::to_string(a)}}));
  for (int r = 0; r < rounds; ++r) {
    for (int a = 0; a < 12; ++a)
      REQUIRE(test::append_direct(store, "account-" + std::to_string(a),
                                  std::vector<bank::deposited>{{r + 1}, {1}}));
    for (int l = 0; l < 6; ++l) {
      REQUIRE(test::append_direct(store, "ledger-" + std::to_string(l),
                                  std::vector<rs::credited>{{r + 2}}));
      REQUIRE(test::append_direct(store, "ledger-" + std::to_string(l),
                                  std::vector<rs::debited>{{1}}));
    }
    for (int n = 0; n < 6; ++n)
      REQUIRE(test::append_direct(store, "note-" + std::to_string(n),
                                  std::vector<rs::noted>{{"r" + std::to_string(r)}}));
  }
}

// Sends commands produced by `make(i)` from one thread, keeping `window` in flight, until
// `more()` says stop; counts failures.
template <class A, class Make, class More>
void write_loop(runtime& rt, Make make, More more, std::atomic<uint64_t>& sent,
                std::atomic<uint64_t>& failed) {
  std::deque<std::future<command_result>> window;
  for (uint64_t i = 0; more(i); ++i) {
    auto [id, cmd] = make(i);
    window.push_back(rt.send<A>(id, cmd));
    ++sent;
    if (window.size() >= 8) {
      if (!window.front().get())
        ++failed;
      window.pop_front();
    }
  }
  for (auto& f : window)
    if (!f.get())
      ++failed;
}

} // namespace

TEST_CASE("every projection sees exactly its filter's events once and in order across the "
          "catch-up to live switch under concurrent writes",
          "[subscription][projection]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  cfg.mode = durability::no_sync; // ordering does not depend on fsync; keeps the test fast
  auto opened = runtime::open(cfg);
  REQUIRE(opened);
  auto& rt = **opened;
  REQUIRE(rt.register_aggregate<bank::account>());
  REQUIRE(rt.register_aggregate<rs::ledger>());
  REQUIRE(rt.register_aggregate<rs::note>());
  prefill(rt.store(), 300); // 12 + 300 * (24 + 12 + 6) = 12,612 events to catch up on

  // Durable projections, each with its own filter and catch-up chunk.
  struct durable_case {
    std::string name;
    event_filter filter;
    std::size_t chunk;
    std::function<bool(std::string_view stream, std::string_view type)> expect;
    table_id table = 0;
  };
  std::vector<durable_case> durables = {
    {"by_category", event_filter::categories({"account"}), 64,
     [](std::string_view s, std::string_view) { return test::category_part(s) == "account"; }, 0},
    {"by_type", event_filter::types({"ledger.credited"}), 1000,
     [](std::string_view, std::string_view t) { return t == "ledger.credited"; }, 0},
    {"by_tag_finance", event_filter::tags({"finance"}), 37,
     [](std::string_view s, std::string_view) { return test::category_part(s) == "ledger"; }, 0},
    {"combined", event_filter::categories({"account", "note"}).with_types({"bank.deposited", "note.added"}), 128,
     [](std::string_view s, std::string_view t) {
       auto c = test::category_part(s);
       return (c == "account" || c == "note") && (t == "bank.deposited" || t == "note.added");
     }, 0},
  };
  for (auto& d : durables) {
    auto t = rt.read_models().table("rec_" + d.name);
    REQUIRE(t);
    d.table = *t;
    durable_projection dp;
    dp.options.name = d.name;
    dp.options.filter = d.filter;
    dp.options.chunk_events = d.chunk;
    dp.tables = {"rec_" + d.name};
    dp.apply = durable_recorder(*t);
    REQUIRE(rt.add_projection(dp));
  }

  // In-memory projections; each also notes whether it was live when it applied an event.
  struct memory_case {
    std::string name;
    event_filter filter;
    std::size_t chunk;
    std::function<bool(std::string_view, std::string_view)> expect;
    std::shared_ptr<memory_sink<seen_model>> sink;
  };
  std::vector<memory_case> memories = {
    {"mem_tag_audited", event_filter::tags({"audited"}), 50,
     [](std::string_view s, std::string_view) {
       auto c = test::category_part(s);
       return c == "ledger" || c == "note";
     }, nullptr},
    {"mem_all", event_filter::all(), 500, [](std::string_view, std::string_view) { return true; }, nullptr},
    {"mem_type_opened", event_filter::types({"bank.opened", "note.added"}), 8192,
     [](std::string_view, std::string_view t) { return t == "bank.opened" || t == "note.added"; }, nullptr},
  };
  for (auto& m : memories) {
    memory_projection<seen_model> mp;
    mp.options.name = m.name;
    mp.options.filter = m.filter;
    mp.options.chunk_events = m.chunk;
    auto name = m.name;
    mp.apply = [&rt, name](seen_model& model, const event_view& e) -> status {
      model.order.push_back(e.position);
      auto info = rt.projection(name);
      if (info && info->state == projection_state::live)
        ++model.applied_while_live;
      return {};
    };
    auto sink = rt.add_projection(mp);
    REQUIRE(sink);
    m.sink = sink->sink();
  }

  // Writers keep sending while the projections start, catch up and switch to live; once
  // every projection is live they send a further batch each, then stop.
  std::atomic<bool> all_live{false};
  std::atomic<uint64_t> sent{0}, failed{0};
  constexpr uint64_t after_live = 300;
  constexpr uint64_t unset = std::numeric_limits<uint64_t>::max();
  auto more_until = [&all_live, unset](std::atomic<uint64_t>* live_mark) {
    return [&all_live, live_mark, unset](uint64_t i) {
      if (!all_live.load()) {
        // Paced until every projection is live: catch-up must outrun the writers, and on a
        // slow build (ASan: ~3,000 positions/s for a 37-event chunk) unpaced writers won
        // the race, so the switch was only reached once they hit the safety net.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return i < 200000; // safety net: at this pace the wait below fails long before
      }
      uint64_t expected = unset;
      live_mark->compare_exchange_strong(expected, i);
      return i < live_mark->load() + after_live;
    };
  };
  std::atomic<uint64_t> mark_a{unset}, mark_l{unset}, mark_n{unset};
  auto gate = [&] { return wait_until([&] { return rt.running(); }, 30s, 1ms); };
  std::thread wa{[&] {
    if (!gate())
      return;
    write_loop<bank::account>(
      rt, [](uint64_t i) { return std::make_pair(std::to_string(i % 12), bank::account::command{bank::deposit{static_cast<int64_t>(i % 7 + 1)}}); },
      more_until(&mark_a), sent, failed);
  }};
  std::thread wl{[&] {
    if (!gate())
      return;
    write_loop<rs::ledger>(
      rt,
      [](uint64_t i) {
        return std::make_pair(std::to_string(i % 6), i % 3 == 0 ? rs::ledger::command{rs::debit{1}}
                                                                : rs::ledger::command{rs::credit{5}});
      },
      more_until(&mark_l), sent, failed);
  }};
  std::thread wn{[&] {
    if (!gate())
      return;
    write_loop<rs::note>(
      rt, [](uint64_t i) { return std::make_pair(std::to_string(i % 6), rs::add_note{"live" + std::to_string(i)}); },
      more_until(&mark_n), sent, failed);
  }};

  REQUIRE(rt.start());
  bool went_live = wait_until(
    [&] {
      for (auto& info : rt.projections())
        if (info.state != projection_state::live)
          return false;
      return true;
    },
    120s, 2ms);
  all_live = true;
  wa.join();
  wl.join();
  wn.join();
  REQUIRE(went_live);
  CHECK(failed.load() == 0);
  CHECK(sent.load() >= 3 * after_live);

  auto head = rt.store().last_position();
  REQUIRE(head);
  for (auto& info : rt.projections())
    REQUIRE(rt.await_projection(info.name, *head, 60s));
  auto log = test::read_journal(rt.store());
  REQUIRE(log.size() == *head);
  REQUIRE(log.back().position == *head);

  for (auto& d : durables)
    check_durable(rt, d.table, test::positions_where(log, d.expect), d.name);
  for (auto& m : memories) {
    INFO("in-memory projection " << m.name);
    auto expected = test::positions_where(log, m.expect);
    auto got = m.sink->read([](const seen_model& s) { return s.order; });
    CHECK(got.size() == expected.size());
    CHECK(got == expected);
  }
  // The catch-all projection necessarily received the writes made after every projection
  // was live through the live path.
  CHECK(memories[1].sink->read([](const seen_model& s) { return s.applied_while_live; }) > 0);
  REQUIRE(rt.stop());
}

TEST_CASE("a projection reports catching_up with its lag while it reads the journal, then live "
          "at the head, and stop and restart are reflected",
          "[subscription][status]") {
  test::temp_dir dir;
  runtime_config cfg;
  cfg.data_dir = dir.path();
  cfg.mode = durability::no_sync;
  auto opened = runtime::open(cfg);
  REQUIRE(opened);
  auto& rt = **opened;
  REQUIRE(rt.register_aggregate<bank::account>());
  REQUIRE(test::append_direct(rt.store(), "account-s", std::vector<bank::opened>{{"s"}}));
  for (int i = 0; i < 20; ++i)
    REQUIRE(test::append_direct(rt.store(), "account-s", std::vector<bank::deposited>(1000, bank::deposited{1})));
  const global_position prefilled = 20001;

  struct status_model {
    std::optional<projection_info> first, middle;
    uint64_t applied = 0;
  };
  memory_projection<status_model> mp;
  mp.options.name = "status";
  mp.options.chunk_events = 100;
  mp.apply = [&rt](status_model& m, const event_view& e) -> status {
    ++m.applied;
    if (e.position == 1)
      m.first = rt.projection("status").value();
    if (e.position == 10000)
      m.middle = rt.projection("status").value();
    return {};
  };
  auto sink = rt.add_projection(mp);
  REQUIRE(sink);
  auto before = rt.projection("status");
  REQUIRE(before);
  CHECK(before->position == 0);
  CHECK(rt.projection("no-such").code() == errc::not_found);
  REQUIRE(rt.start());
  REQUIRE(rt.await_projection("status", prefilled, 60s));
  REQUIRE(wait_until([&] { return rt.projection("status")->state == projection_state::live; }, 30s));

  auto seen = (*sink)->read([](const status_model& m) { return m; });
  REQUIRE(seen.first);
  REQUIRE(seen.middle);
  CHECK(seen.first->state == projection_state::catching_up);
  CHECK(seen.first->position == 0);
  CHECK(seen.first->lag_events == prefilled);
  CHECK(seen.middle->state == projection_state::catching_up);
  CHECK(seen.middle->position < 10000);
  CHECK(seen.middle->position >= 9900); // chunks of 100: the previous chunk is applied
  CHECK(seen.middle->lag_events == prefilled - seen.middle->position);
  CHECK(seen.middle->lag_ms > 0);

  auto live = rt.projection("status");
  REQUIRE(live);
  CHECK(live->state == projection_state::live);
  CHECK(live->position == prefilled);
  CHECK(live->lag_events == 0);
  CHECK(live->lag_ms == 0);
  CHECK(live->faulted_at == 0);
  CHECK(live->error.empty());

  auto r = rt.send<bank::account>("s", bank::deposit{5}).get();
  REQUIRE(r);
  CHECK(r->position == prefilled + 1);
  REQUIRE(rt.await_projection("status", r->position, 10s));
  CHECK(rt.projection("status")->position == prefilled + 1);
  CHECK(rt.projection("status")->lag_events == 0);

  REQUIRE(rt.stop_projection("status"));
  CHECK(rt.projection("status")->state == projection_state::stopped);
  auto r2 = rt.send<bank::account>("s", bank::deposit{6}).get();
  REQUIRE(r2);
  auto info = rt.projection("status");
  CHECK(info->state == projection_state::stopped);
  CHECK(info->lag_events == 1);
  auto waited = rt.await_projection("status", r2->position, 300ms);
  REQUIRE_FALSE(waited);
  CHECK(waited.error().code == errc::unavailable);
  // The lag in time is the age of the oldest event not applied.
  std::this_thread::sleep_for(100ms);
  CHECK(rt.projection("status")->lag_ms >= 100);
  REQUIRE(rt.restart_projection("status"));
  REQUIRE(rt.await_projection("status", r2->position, 10s));
  REQUIRE(wait_until([&] { return rt.projection("status")->state == projection_state::live; }, 30s));
  // The restart resumed from the model's position: nothing was applied twice.
  CHECK((*sink)->read([](const status_model& m) { return m.applied; }) == prefilled + 2);
  REQUIRE(rt.stop());
}

// -- the event bus protocol, with tiny bounds -------------------------------------------------

namespace {

// An actor system, a store and a bus with tiny bounds; commit() writes a batch and publishes
// it to the bus exactly as the journal writer does.
struct bus_fixture {
  test::temp_dir dir;
  std::unique_ptr<event_store> store;
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::actor bus;

  explicit bus_fixture(event_bus_options o) {
    store_options so;
    so.dir = dir / "journal";
    so.mode = durability::no_sync;
    auto s = event_store::open(so);
    REQUIRE(s);
    store = std::move(*s);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
    bus = spawn_event_bus(*sys, o);
  }

  ~bus_fixture() {
    caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
    bus = nullptr;
    sys.reset();
  }

  // Commits `n` events to `stream` and publishes them; returns the last position.
  global_position commit(const std::string& stream, std::size_t n) {
    write_batch b;
    stream_append a;
    a.stream_id = stream;
    for (std::size_t i = 0; i < n; ++i)
      a.events.push_back(new_event{"t.ev", 1, "x", {}, 0});
    b.appends.push_back(std::move(a));
    auto out = store->commit(b, true);
    REQUIRE(out);
    REQUIRE(out->appends.front());
    auto last = out->committed.back().position;
    caf::anon_send(bus, detail::committed_atom::value,
                   detail::committed_events{std::make_shared<const std::vector<recorded_event>>(
                     std::move(out->committed))});
    return last;
  }

  // As commit(), without assertions (for other threads); 0 on failure.
  global_position commit_quiet(const std::string& stream, std::size_t n) {
    write_batch b;
    stream_append a;
    a.stream_id = stream;
    for (std::size_t i = 0; i < n; ++i)
      a.events.push_back(new_event{"t.ev", 1, "x", {}, 0});
    b.appends.push_back(std::move(a));
    auto out = store->commit(b, true);
    if (!out || out->committed.empty())
      return 0;
    auto last = out->committed.back().position;
    caf::anon_send(bus, detail::committed_atom::value,
                   detail::committed_events{std::make_shared<const std::vector<recorded_event>>(
                     std::move(out->committed))});
    return last;
  }

  global_position bus_position() {
    caf::scoped_actor self{*sys};
    global_position p = 0;
    self->request(bus, 10s, detail::stats_atom::value)
      .receive([&](global_position x) { p = x; }, [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return p;
  }
};

using batch_msg = detail::committed_events;

} // namespace

TEST_CASE("the event bus bounds the buffer of a catching-up subscriber and tells it to read "
          "further from the journal on overflow",
          "[subscription][bus]") {
  event_bus_options o;
  o.max_buffered_events = 10;
  bus_fixture f{o};
  caf::scoped_actor self{*f.sys};
  auto subscribe = [&](event_filter filter) {
    global_position live_from = 999;
    self->request(f.bus, 10s, detail::subscribe_atom::value, caf::actor_cast<caf::actor>(self), filter,
                  uint32_t{0})
      .receive([&](global_position p) { live_from = p; }, [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return live_from;
  };
  auto go_live = [&](global_position at) {
    std::pair<bool, global_position> out{false, 0};
    self->request(f.bus, 10s, detail::go_live_atom::value, at)
      .receive([&](bool live, global_position p) { out = {live, p}; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return out;
  };

  SECTION("within the bound the buffered batches are delivered after the position read") {
    CHECK(subscribe(event_filter::all()) == 0);
    auto p1 = f.commit("s-1", 4);
    auto p2 = f.commit("s-1", 4); // 8 <= 10 buffered
    auto [live, at] = go_live(p1); // the subscriber read the journal up to p1 itself
    CHECK(live);
    CHECK(at == p2);
    // Only the batch after p1 comes from the buffer.
    std::vector<global_position> got;
    self->receive([&](detail::committed_atom, const batch_msg& b) {
      for (auto& e : *b)
        got.push_back(e.position);
    }, caf::after(10s) >> [] { FAIL("no buffered batch delivered"); });
    CHECK(got == std::vector<global_position>{p1 + 1, p1 + 2, p1 + 3, p2});
    self->receive([](detail::committed_atom, const batch_msg&) { FAIL("batch delivered twice"); },
                  caf::after(100ms) >> [] {});
  }

  SECTION("overflow: go_live is refused with the position to read up to first") {
    CHECK(subscribe(event_filter::all()) == 0);
    f.commit("s-1", 5);
    f.commit("s-1", 5);
    auto p3 = f.commit("s-1", 5); // 15 > 10: the buffer is dropped
    auto [live, at] = go_live(0);
    CHECK_FALSE(live);
    CHECK(at == p3);
    self->receive([](detail::committed_atom, const batch_msg&) { FAIL("delivered after overflow"); },
                  caf::after(100ms) >> [] {});
    auto p4 = f.commit("s-1", 2); // buffered again from the refusal on
    auto [live2, at2] = go_live(p3);
    CHECK(live2);
    CHECK(at2 == p4);
    std::vector<global_position> got;
    self->receive([&](detail::committed_atom, const batch_msg& b) {
      for (auto& e : *b)
        got.push_back(e.position);
    }, caf::after(10s) >> [] { FAIL("no batch after going live"); });
    CHECK(got == std::vector<global_position>{p3 + 1, p4});
  }
  self->send(f.bus, detail::unsub_atom::value, caf::actor_cast<caf::actor>(self));
}

TEST_CASE("the event bus sends a live subscriber that does not acknowledge back to catch-up, and "
          "acknowledged or filtered-out batches never count",
          "[subscription][bus]") {
  event_bus_options o;
  o.max_unacked_events = 10;
  bus_fixture f{o};
  caf::scoped_actor self{*f.sys};
  auto subscribe_live = [&](event_filter filter) {
    self->request(f.bus, 10s, detail::subscribe_atom::value, caf::actor_cast<caf::actor>(self), filter,
                  uint32_t{0})
      .receive([](global_position) {}, [&](caf::error& e) { FAIL(caf::to_string(e)); });
    self->request(f.bus, 10s, detail::go_live_atom::value, f.bus_position())
      .receive([](bool live, global_position) { REQUIRE(live); },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
  };

  SECTION("unacknowledged batches beyond the bound: behind, and the subscription is dropped") {
    subscribe_live(event_filter::all());
    f.commit("s-1", 5);
    f.commit("s-1", 5); // 10 unacked: still fine
    f.commit("s-1", 5); // 15 > 10
    int batches = 0;
    bool behind = false;
    for (int i = 0; i < 4 && !behind; ++i)
      self->receive([&](detail::committed_atom, const batch_msg&) { ++batches; },
                    [&](detail::behind_atom) { behind = true; },
                    caf::after(10s) >> [] { FAIL("neither a batch nor behind"); });
    CHECK(batches == 3);
    CHECK(behind);
    // It must subscribe again: the bus forgot it.
    bool refused = false;
    self->request(f.bus, 10s, detail::go_live_atom::value, global_position{15})
      .receive([](bool, global_position) {}, [&](caf::error&) { refused = true; });
    CHECK(refused);
  }

  SECTION("a subscriber that acknowledges stays live") {
    subscribe_live(event_filter::all());
    for (int i = 0; i < 20; ++i) {
      auto last = f.commit("s-1", 5);
      self->receive([&](detail::committed_atom, const batch_msg& b) {
        CHECK(b->back().position == last);
        self->send(f.bus, detail::ack_atom::value, last);
      }, [](detail::behind_atom) { FAIL("behind although every batch was acknowledged"); },
                    caf::after(10s) >> [] { FAIL("no batch"); });
    }
    self->send(f.bus, detail::unsub_atom::value, caf::actor_cast<caf::actor>(self));
  }

  SECTION("batches without a matching event arrive as progress and are not counted") {
    subscribe_live(event_filter::categories({"wanted"}));
    for (int i = 0; i < 20; ++i) {
      auto last = f.commit("other-1", 5);
      self->receive([&](detail::progress_atom, global_position p) { CHECK(p == last); },
                    [](detail::committed_atom, const batch_msg&) { FAIL("unmatched batch delivered"); },
                    [](detail::behind_atom) { FAIL("behind on filtered-out batches"); },
                    caf::after(10s) >> [] { FAIL("no progress"); });
    }
    self->send(f.bus, detail::unsub_atom::value, caf::actor_cast<caf::actor>(self));
  }
}

namespace {

// When each delivery of the bus reached a paced subscriber, and what it carried.
struct paced_log {
  std::mutex mx;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  std::vector<global_position> batches; // last position of each matching batch
  global_position through = 0;          // the highest position heard (batch or progress)
  bool live = false;
};

caf::behavior paced_subscriber(caf::event_based_actor* self, caf::actor bus, global_position live_at,
                               uint32_t pace_ms, std::shared_ptr<paced_log> log) {
  self->request(bus, caf::infinite, detail::subscribe_atom::value, caf::actor_cast<caf::actor>(self),
                event_filter::categories({"a"}), pace_ms)
    .then([=](global_position) {
      self->request(bus, caf::infinite, detail::go_live_atom::value, live_at).then([=](bool live, global_position) {
        std::lock_guard<std::mutex> lock{log->mx};
        log->live = live;
      });
    });
  // One message: the last positions of the matching batches it carried, and how far it reaches.
  auto heard = [=](const std::vector<global_position>& batches, global_position through) {
    std::lock_guard<std::mutex> lock{log->mx};
    log->arrivals.push_back(std::chrono::steady_clock::now());
    log->batches.insert(log->batches.end(), batches.begin(), batches.end());
    log->through = std::max(log->through, through);
    if (!batches.empty())
      self->send(bus, detail::ack_atom::value, through);
  };
  return {
    [=](detail::committed_atom, const batch_msg& b) { // unpaced: one message per batch
      heard({b->back().position}, b->back().position);
    },
    [=](detail::committed_atom, const detail::committed_batches& bs, global_position through) {
      std::vector<global_position> lasts;
      for (const auto& b : bs)
        lasts.push_back(b->back().position);
      heard(lasts, through);
    },
    [=](detail::progress_atom, global_position p) { heard({}, p); },
  };
}

} // namespace

TEST_CASE("the event bus delivers to a paced subscriber at most once per pace, in one message "
          "with every batch in order",
          "[subscription][bus]") {
  bus_fixture f{event_bus_options{}};
  auto log = std::make_shared<paced_log>();
  auto sub = f.sys->spawn(paced_subscriber, f.bus, f.bus_position(), uint32_t{150}, log);
  REQUIRE(wait_until([&] {
    std::lock_guard<std::mutex> lock{log->mx};
    return log->live;
  }, 10s, 1ms));
  // 40 commits, 15 ms apart: matching ones and ones without a matching event, in turn.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<global_position> matching;
  global_position last = 0;
  for (int i = 0; i < 40; ++i) {
    last = f.commit(i % 3 == 2 ? "b-1" : "a-1", 2);
    if (i % 3 != 2)
      matching.push_back(last);
    std::this_thread::sleep_for(15ms);
  }
  auto spread = std::chrono::steady_clock::now() - t0;
  REQUIRE(wait_until([&] {
    std::lock_guard<std::mutex> lock{log->mx};
    return log->through == last;
  }, 10s, 1ms));
  std::lock_guard<std::mutex> lock{log->mx};
  INFO("commits spread over " << std::chrono::duration_cast<std::chrono::milliseconds>(spread).count()
                              << " ms, " << log->arrivals.size() << " messages");
  CHECK(log->batches == matching);
  // One message per delivery; unpaced, one per commit (40).
  CHECK(log->arrivals.size() <= static_cast<std::size_t>(spread / 150ms) + 2);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

namespace {

// What a probe subscriber observed (shared with the test thread).
struct probe {
  std::mutex mx;
  std::vector<global_position> seen;
  std::vector<bool> modes; // every switch: false = catching up, true = live
  std::atomic<global_position> position{0};
  std::atomic<bool> live{false};
  std::atomic<int> slow_us{0};
  std::atomic<int> failures{0};
};

struct probe_state {
  std::unique_ptr<detail::subscription> sub;
  static inline const char* name = "test.probe";
};

// A subscriber built on detail::subscription, like a projection actor, recording what it
// applies (and sleeping per non-empty batch when told to be slow).
caf::behavior probe_subscriber(caf::stateful_actor<probe_state>* self, event_store* store,
                               caf::actor bus, event_filter filter, std::size_t chunk,
                               std::shared_ptr<probe> p) {
  self->state.sub = std::make_unique<detail::subscription>(
    self, *store, bus, filter, chunk,
    [p](const std::vector<event_view>& evs, global_position through) -> status {
      if (!evs.empty() && p->slow_us.load() > 0)
        std::this_thread::sleep_for(std::chrono::microseconds(p->slow_us.load()));
      {
        std::lock_guard<std::mutex> guard{p->mx};
        for (auto& e : evs)
          p->seen.push_back(e.position);
      }
      p->position = through;
      return {};
    },
    [p](const error&) { ++p->failures; },
    [p](bool live) {
      std::lock_guard<std::mutex> guard{p->mx};
      p->modes.push_back(live);
      p->live = live;
    });
  self->state.sub->start(0);
  return {
    [=](detail::catchup_atom) { self->state.sub->catch_up_step(); },
    [=](detail::committed_atom, const batch_msg& b) { self->state.sub->on_committed(*b); },
    [=](detail::progress_atom, global_position pos) { self->state.sub->on_progress(pos); },
    [=](detail::behind_atom) { self->state.sub->on_behind(); },
  };
}

// Counts the protocol requests of subscribers while forwarding them to the real bus
// (delegation keeps the subscriber as the sender the bus sees).
struct tap_counts {
  std::atomic<int> subscribes{0};
  std::atomic<int> go_lives{0};
  // Runs (on the tap's thread) just before the first go_live is forwarded to the bus.
  std::function<void()> before_first_go_live;
};

caf::behavior bus_tap(caf::event_based_actor* self, caf::actor bus, std::shared_ptr<tap_counts> c) {
  return {
    [=](detail::subscribe_atom a, caf::actor who, event_filter& filter, uint32_t pace_ms) {
      ++c->subscribes;
      return self->delegate(bus, a, std::move(who), std::move(filter), pace_ms);
    },
    [=](detail::go_live_atom a, global_position p) {
      if (c->go_lives++ == 0 && c->before_first_go_live)
        c->before_first_go_live();
      return self->delegate(bus, a, p);
    },
    [=](detail::ack_atom a, global_position p) { self->delegate(bus, a, p); },
    [=](detail::unsub_atom a, caf::actor who) { self->delegate(bus, a, std::move(who)); },
  };
}

} // namespace

// The phases below push the subscriber through both bounded paths (buffer overflow while
// catching up, and "behind" while live) before it settles on a quiet log.
TEST_CASE("a slow subscriber pushed through buffer overflow and behind still sees every "
          "matching event once and in order",
          "[subscription][bus]") {
  event_bus_options o;
  o.max_buffered_events = 20;
  o.max_unacked_events = 20;
  bus_fixture f{o};
  auto counts = std::make_shared<tap_counts>();
  auto tap = f.sys->spawn(bus_tap, f.bus, counts);
  for (int i = 0; i < 100; ++i) {
    f.commit("a-" + std::to_string(i % 3), 3);
    f.commit("b-1", 2);
  }
  auto p = std::make_shared<probe>();
  p->slow_us = 1000;
  auto sub = f.sys->spawn<caf::detached>(probe_subscriber, f.store.get(), tap,
                                         event_filter::categories({"a"}), std::size_t{8}, p);
  // Phase 1: writes while it catches up slowly (8 events per ms): its bounded buffer must
  // overflow, and it must still go live eventually.
  REQUIRE(wait_until([&] { return p->position.load() > 0; }, 30s, 1ms));
  for (int i = 0; i < 300; ++i) {
    f.commit("a-" + std::to_string(i % 3), 2);
    f.commit("b-2", 1);
  }
  REQUIRE(wait_until([&] { return p->live.load(); }, 60s));
  // Phase 2: a burst while it is live and slow: it must fall behind and recover.
  for (int i = 0; i < 300; ++i) {
    f.commit("a-" + std::to_string(i % 3), 3);
    if (i % 10 == 0)
      f.commit("b-3", 1);
  }
  p->slow_us = 0;
  auto head = f.store->last_position();
  REQUIRE(head);
  REQUIRE(wait_until([&] { return p->position.load() == *head && p->live.load(); }, 60s));

  std::vector<global_position> expected;
  for (auto& e : test::read_journal(*f.store))
    if (e.stream_id.rfind("a-", 0) == 0)
      expected.push_back(e.position);
  std::vector<bool> modes;
  std::vector<global_position> seen;
  {
    std::lock_guard<std::mutex> guard{p->mx};
    modes = p->modes;
    seen = p->seen;
  }
  CHECK(p->failures.load() == 0);
  CHECK(seen.size() == expected.size());
  CHECK(seen == expected);
  // Evidence that both bounded paths were taken: a go_live refused after an overflow
  // (more go_live requests than subscriptions), and a live -> catching-up switch (behind).
  CHECK(counts->go_lives.load() > counts->subscribes.load());
  bool fell_behind = false;
  for (std::size_t i = 1; i < modes.size(); ++i)
    if (modes[i - 1] && !modes[i])
      fell_behind = true;
  CHECK(fell_behind);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(tap, caf::exit_reason::user_shutdown);
}

TEST_CASE("a subscriber that dies is dropped by the bus, and the others keep receiving",
          "[subscription][bus]") {
  bus_fixture f{event_bus_options{}};
  // Committed before the subscribers exist, so that they catch up on a quiet log (the
  // handoff under concurrent commits is tested above).
  for (int i = 0; i < 10; ++i)
    f.commit("s-1", 3);
  auto pa = std::make_shared<probe>();
  auto pb = std::make_shared<probe>();
  auto a = f.sys->spawn(probe_subscriber, f.store.get(), f.bus, event_filter::all(), std::size_t{64}, pa);
  auto b = f.sys->spawn(probe_subscriber, f.store.get(), f.bus, event_filter::all(), std::size_t{64}, pb);
  REQUIRE(wait_until([&] { return pa->live.load() && pb->live.load(); }, 30s));
  REQUIRE(wait_until([&] { return pa->position.load() == 30 && pb->position.load() == 30; }, 30s));

  caf::actor_addr a_addr = a.address();
  caf::anon_send_exit(a, caf::exit_reason::kill);
  a = nullptr;
  for (int i = 0; i < 10; ++i)
    f.commit("s-1", 3);
  REQUIRE(wait_until([&] { return pb->position.load() == 60; }, 30s));
  std::vector<global_position> all(60);
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i + 1;
  {
    std::lock_guard<std::mutex> guard{pb->mx};
    CHECK(pb->seen == all);
  }
  CHECK(f.bus_position() == 60);
  // Once the bus processed the down message it holds no reference to the dead subscriber
  // any more, so the address can no longer be turned into a handle.
  CHECK(wait_until([&] { return caf::actor_cast<caf::actor>(a_addr) == nullptr; }, 10s));
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
}

TEST_CASE("the batches the bus hands over at the switch to live are applied (no gap at the "
          "catch-up to live handoff)",
          "[subscription][bus]") {
  bus_fixture f{event_bus_options{}};
  for (int i = 0; i < 5; ++i)
    f.commit("s-1", 2); // positions 1..10: read from the journal while catching up
  auto counts = std::make_shared<tap_counts>();
  std::atomic<global_position> hooked{0};
  counts->before_first_go_live = [&f, &hooked] { hooked = f.commit_quiet("s-1", 3); };
  auto tap = f.sys->spawn(bus_tap, f.bus, counts);
  auto p = std::make_shared<probe>();
  auto sub = f.sys->spawn(probe_subscriber, f.store.get(), tap, event_filter::all(), std::size_t{64}, p);
  REQUIRE(wait_until([&] { return p->live.load(); }, 30s));
  REQUIRE(hooked.load() == 13); // committed after the last read, before going live
  auto head = f.commit("s-1", 5);
  REQUIRE(wait_until([&] { return p->position.load() == head; }, 30s));
  std::vector<global_position> all(head);
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i + 1;
  {
    std::lock_guard<std::mutex> guard{p->mx};
    CHECK(p->seen == all);
  }
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(tap, caf::exit_reason::user_shutdown);
}
