// The write path through the runtime: rejections, empty decisions, durability before the
// reply, expected versions and read-only loads.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using test::config_in;
using namespace std::chrono_literals;
using bank::account;
using test::head_of;
using test::last_pos;
using test::ready_within;

namespace {

command_options expecting(expected_version v) {
  command_options o;
  o.expected = v;
  return o;
}

} // namespace

TEST_CASE("a rejected command persists nothing", "[aggregate]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  auto& store = rt->store();

  // Rejected on a brand-new instance: the stream is not even created.
  auto r0 = test::get_within(rt->send<account>("a", bank::deposit{5}));
  REQUIRE_FALSE(r0);
  CHECK(r0.error().code == errc::rejected);
  CHECK(r0.error().message.find("account not open") != std::string::npos);
  CHECK(head_of(store, "account-a") == 0);
  CHECK(last_pos(store) == 0);

  REQUIRE(test::get_within(rt->send<account>("a", bank::open{"ann"})));
  auto dep = test::get_within(rt->send<account>("a", bank::deposit{10}));
  REQUIRE(dep);
  CHECK(dep->version == 2);
  auto pos = last_pos(store);
  CHECK(pos == dep->position);

  auto r1 = test::get_within(rt->send<account>("a", bank::withdraw{100}));
  REQUIRE_FALSE(r1);
  CHECK(r1.error().code == errc::rejected);
  CHECK(r1.error().message.find("insufficient funds") != std::string::npos);
  auto r2 = test::get_within(rt->send<account>("a", bank::deposit{-1}));
  CHECK(r2.code() == errc::rejected);
  auto r3 = test::get_within(rt->send<account>("a", bank::open{"again"}));
  CHECK(r3.code() == errc::rejected);

  CHECK(head_of(store, "account-a") == 2);
  CHECK(last_pos(store) == pos);
  auto v = rt->load<account>("a");
  REQUIRE(v);
  CHECK(v->version == 2);
  CHECK(v->state.balance == 10);
  CHECK(v->state.owner == "ann");

  // The version sequence continues without a gap after the rejections.
  auto next = test::get_within(rt->send<account>("a", bank::deposit{1}));
  REQUIRE(next);
  CHECK(next->version == 3);
  CHECK(next->position == pos + 1);
}

TEST_CASE("a command whose decide throws is a handler fault, not a rejection, and changes nothing",
          "[aggregate][errors]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  auto& store = rt->store();

  auto fresh = test::get_within(rt->send<account>("x", bank::explode{}));
  REQUIRE_FALSE(fresh);
  CHECK(fresh.error().code == errc::handler_fault);
  CHECK(fresh.error().message.find("decide threw") != std::string::npos);
  CHECK(fresh.error().message.find("boom") != std::string::npos);
  CHECK(head_of(store, "account-x") == 0);

  REQUIRE(test::get_within(rt->send<account>("x", bank::open{"o"})));
  REQUIRE(test::get_within(rt->send<account>("x", bank::deposit{3})));
  auto pos = last_pos(store);
  for (int i = 0; i < 3; ++i) {
    auto r = test::get_within(rt->send<account>("x", bank::explode{}));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::handler_fault);
  }
  CHECK(head_of(store, "account-x") == 2);
  CHECK(last_pos(store) == pos);
  auto after = test::get_within(rt->send<account>("x", bank::deposit{4}));
  REQUIRE(after);
  CHECK(after->version == 3);
  auto v = rt->load<account>("x");
  REQUIRE(v);
  CHECK(v->state.balance == 7);
}

TEST_CASE("a command producing no event replies success with the current version", "[aggregate]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto cfg = config_in(dir);
  cfg.writer.before_commit = test::commit_control::hook(ctl);
  auto rt = test::start_runtime<account>(cfg);
  REQUIRE(rt);
  auto& store = rt->store();

  auto t0 = test::get_within(rt->send<account>("n", bank::touch{}));
  REQUIRE(t0);
  CHECK(t0->version == 0);
  CHECK(t0->position == 0);
  CHECK_FALSE(t0->duplicate);
  CHECK(head_of(store, "account-n") == 0);

  REQUIRE(test::get_within(rt->send<account>("n", bank::open{"o"})));
  auto dep = test::get_within(rt->send<account>("n", bank::deposit{9}));
  REQUIRE(dep);
  auto commits = ctl->commits_seen();
  auto t1 = test::get_within(rt->send<account>("n", bank::touch{}));
  REQUIRE(t1);
  CHECK(t1->version == dep->version);
  CHECK(t1->position == dep->position);
  CHECK(ctl->commits_seen() == commits);
  CHECK(head_of(store, "account-n") == 2);

  // Behind an append in flight, the empty command answers only once that append is
  // durable, and with the version it produced.
  ctl->hold();
  auto dep2 = rt->send<account>("n", bank::deposit{1});
  REQUIRE(ctl->wait_held());
  auto t2 = rt->send<account>("n", bank::touch{});
  CHECK_FALSE(ready_within(t2, 100ms));
  ctl->release();
  auto d2 = test::get_within(dep2);
  auto r2 = test::get_within(t2);
  REQUIRE(d2);
  REQUIRE(r2);
  CHECK(d2->version == 3);
  CHECK(r2->version == 3);
  CHECK(r2->position == d2->position);
  CHECK(head_of(store, "account-n") == 3);
}

TEST_CASE("a command is acknowledged only after its events are durable", "[aggregate][durability]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto cfg = config_in(dir);
  cfg.writer.before_commit = test::commit_control::hook(ctl);
  auto rt = test::start_runtime<account>(cfg);
  REQUIRE(rt);
  auto& store = rt->store();
  REQUIRE(test::get_within(rt->send<account>("d", bank::open{"o"})));

  SECTION("a commit held at the hook holds the reply") {
    ctl->hold();
    auto before = last_pos(store);
    // The callback checks, at the moment of the reply, that the event is in the store.
    std::promise<std::pair<command_result, bool>> seen;
    auto fut = seen.get_future();
    rt->send<account>("d", bank::deposit{7}, {}, [&](command_result r) {
      bool readable = false;
      if (r) {
        auto evs = rt->store().read_stream("account-d", stream_range{r->version, r->version, 1});
        readable = evs && evs->size() == 1 && evs->front().type == "bank.deposited"
                   && evs->front().position == r->position;
      }
      seen.set_value({std::move(r), readable});
    });
    REQUIRE(ctl->wait_held());
    CHECK_FALSE(ready_within(fut, 200ms));
    CHECK(last_pos(store) == before);
    ctl->release();
    REQUIRE(ready_within(fut, 10s));
    auto [r, readable] = fut.get();
    REQUIRE(r);
    CHECK(r->version == 2);
    CHECK(readable);
  }

  SECTION("a slow commit (300 ms) delays the reply by at least as much") {
    ctl->delay(300ms);
    auto start = std::chrono::steady_clock::now();
    auto fut = rt->send<account>("d", bank::deposit{8});
    CHECK_FALSE(ready_within(fut, 150ms));
    auto r = test::get_within(fut);
    auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE(r);
    CHECK(waited >= 300ms);
    auto evs = store.read_stream("account-d", stream_range{r->version, r->version, 1});
    REQUIRE(evs);
    REQUIRE(evs->size() == 1);
    CHECK(evs->front().position == r->position);
    ctl->delay(0ms);
  }
}

TEST_CASE("an expected version must match or the command fails as a conflict naming both versions",
          "[aggregate][errors]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  auto& store = rt->store();

  auto none_yet = test::get_within(rt->send<account>("e", bank::open{"o"}, expecting(expected_version::stream_exists())));
  REQUIRE(none_yet.code() == errc::conflict);
  REQUIRE(none_yet.error().conflict);
  CHECK(none_yet.error().conflict->expected == expected_version::stream_exists());
  CHECK(none_yet.error().conflict->actual == 0);
  CHECK(head_of(store, "account-e") == 0);

  auto o = test::get_within(rt->send<account>("e", bank::open{"o"}, expecting(expected_version::no_stream())));
  REQUIRE(o);
  CHECK(o->version == 1);
  auto d = test::get_within(rt->send<account>("e", bank::deposit{5}, expecting(expected_version::exact(1))));
  REQUIRE(d);
  CHECK(d->version == 2);

  auto pos = last_pos(store);
  auto stale = test::get_within(rt->send<account>("e", bank::deposit{5}, expecting(expected_version::exact(1))));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == errc::conflict);
  CHECK(stale.error().message.find("expected version 1") != std::string::npos);
  CHECK(stale.error().conflict == version_conflict{expected_version::exact(1), 2});
  auto ahead = test::get_within(rt->send<account>("e", bank::deposit{5}, expecting(expected_version::exact(7))));
  CHECK(ahead.code() == errc::conflict);
  CHECK(ahead.error().conflict == version_conflict{expected_version::exact(7), 2});
  auto no_stream = test::get_within(rt->send<account>("e", bank::deposit{5}, expecting(expected_version::no_stream())));
  CHECK(no_stream.code() == errc::conflict);
  CHECK(head_of(store, "account-e") == 2);
  CHECK(last_pos(store) == pos);

  auto ok = test::get_within(rt->send<account>("e", bank::deposit{6}, expecting(expected_version::exact(2))));
  REQUIRE(ok);
  CHECK(ok->version == 3);
  auto any = test::get_within(rt->send<account>("e", bank::deposit{1}, expecting(expected_version::stream_exists())));
  REQUIRE(any);
  CHECK(any->version == 4);
  auto v = rt->load<account>("e");
  REQUIRE(v);
  CHECK(v->state.balance == 12);
}

TEST_CASE("read-only loads return historical states and never disturb the live actor", "[aggregate][load]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = 2; // historical loads must not use a later snapshot
  auto rt = test::start_runtime<account>(config_in(dir), opts);
  REQUIRE(rt);

  auto t_before = now_ns();
  std::this_thread::sleep_for(2ms); // distinct timestamps (the clock is not the sync here)
  REQUIRE(test::get_within(rt->send<account>("h", bank::open{"o"})));
  auto d2 = test::get_within(rt->send<account>("h", bank::deposit{10}));
  REQUIRE(d2);
  auto t_after2 = now_ns();
  std::this_thread::sleep_for(2ms);
  REQUIRE(test::get_within(rt->send<account>("h", bank::deposit{20})));
  REQUIRE(test::get_within(rt->send<account>("h", bank::deposit{30})));
  auto d5 = test::get_within(rt->send<account>("h", bank::withdraw{5}));
  REQUIRE(d5);
  CHECK(d5->version == 5);

  for (stream_version k = 1; k <= 5; ++k) {
    static const int64_t balances[] = {0, 0, 10, 30, 60, 55};
    auto v = rt->load<account>("h", as_of::version(k));
    REQUIRE(v);
    CHECK(v->version == k);
    CHECK(v->state.balance == balances[k]);
    CHECK(v->state.is_open);
  }
  auto by_time = rt->load<account>("h", as_of::time(t_after2));
  REQUIRE(by_time);
  CHECK(by_time->version == 2);
  CHECK(by_time->state.balance == 10);
  CHECK(rt->load<account>("h", as_of::time(t_before)).code() == errc::not_found);
  auto beyond = rt->load<account>("h", as_of::version(1000));
  REQUIRE(beyond);
  CHECK(beyond->version == 5);
  CHECK(beyond->state.balance == 55);
  auto latest = rt->load<account>("h");
  REQUIRE(latest);
  CHECK(latest->version == 5);
  CHECK(latest->position == d5->position);
  CHECK(rt->load<account>("nobody").code() == errc::not_found);

  // Loads in a loop on another thread while commands keep flowing to the same instance.
  std::atomic<bool> done{false};
  std::atomic<int> bad_loads{0};
  std::atomic<int> loads{0};
  std::thread reader([&] {
    stream_version last = 0;
    do {
      auto v = rt->load<account>("h");
      ++loads;
      if (!v || v->version < last || v->state.balance != 55 + int64_t(v->version - 5) * 2)
        ++bad_loads;
      else
        last = v->version;
    } while (!done.load());
  });
  while (loads.load() == 0) // the reader runs before and while the commands flow
    std::this_thread::yield();
  bool all_ok = true;
  stream_version expect = 6;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<std::future<command_result>> fs;
    for (int i = 0; i < 20; ++i)
      fs.push_back(rt->send<account>("h", bank::deposit{2}));
    for (auto& f : fs) {
      auto r = test::get_within(f);
      all_ok = all_ok && r && r->version == expect++;
    }
  }
  done = true;
  reader.join();
  CHECK(all_ok);
  CHECK(bad_loads.load() == 0);
  CHECK(loads.load() > 0);
  auto end = rt->load<account>("h");
  REQUIRE(end);
  CHECK(end->version == 205);
  CHECK(end->state.balance == 455);
}

TEST_CASE("a read-only load does not activate an instance", "[aggregate][load]") {
  test::temp_dir dir;
  {
    auto rt = test::start_runtime<account>(config_in(dir));
    REQUIRE(rt);
    REQUIRE(test::get_within(rt->send<account>("q", bank::open{"o"})));
    REQUIRE(test::get_within(rt->send<account>("q", bank::deposit{4})));
    REQUIRE(rt->stop());
  }
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  auto live = [&] {
    caf::scoped_actor self{rt->system()};
    uint64_t n = 999;
    self->request(*rt->router<account>(), 5s, detail::stats_atom::value)
      .receive([&](uint64_t x) { n = x; }, [&](caf::error&) {});
    return n;
  };
  for (int i = 0; i < 5; ++i) {
    auto v = rt->load<account>("q");
    REQUIRE(v);
    CHECK(v->state.balance == 4);
  }
  CHECK(live() == 0);
  REQUIRE(test::get_within(rt->send<account>("q", bank::deposit{1})));
  CHECK(live() == 1);
}

TEST_CASE("a historical load at a snapshot's version reports that event's position",
          "[aggregate][load]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = 2;
  auto rt = test::start_runtime<account>(config_in(dir), opts);
  REQUIRE(rt);
  REQUIRE(test::get_within(rt->send<account>("s", bank::open{"o"})));
  auto d2 = test::get_within(rt->send<account>("s", bank::deposit{10}));
  REQUIRE(d2);
  REQUIRE(test::get_within(rt->send<account>("s", bank::deposit{20})));
  REQUIRE(rt->stop()); // every queued snapshot is written
  auto snap = rt->store().load_snapshot("account-s");
  REQUIRE(snap);
  REQUIRE(*snap);
  CHECK((*snap)->version == 2);
  auto at2 = rt->load<account>("s", as_of::version(2));
  REQUIRE(at2);
  CHECK(at2->version == 2);
  CHECK(at2->state.balance == 10);
  CHECK(at2->position == d2->position);
}

TEST_CASE("an invalid aggregate id is refused as a bad request", "[aggregate]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  CHECK(test::get_within(rt->send<account>("", bank::open{"o"})).code() == errc::bad_request);
  CHECK(test::get_within(rt->send<account>(std::string("a\0b", 3), bank::open{"o"})).code()
        == errc::bad_request);
  CHECK(test::get_within(rt->send<account>(std::string(300, 'x'), bank::open{"o"})).code()
        == errc::bad_request);
  CHECK(last_pos(rt->store()) == 0);
  REQUIRE(test::get_within(rt->send<account>("fine", bank::open{"o"})));
}

TEST_CASE("actors requesting commands from router<A>() get a command_reply or an annal error",
          "[aggregate][router]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  auto router = rt->router<account>();
  REQUIRE(router);
  caf::scoped_actor self{rt->system()};
  auto ask = [&](bank::account::command cmd, command_options o = {}) {
    command_result out = make_error(errc::io_error, "no reply");
    self->request(*router, 10s, make_command<account>("r", std::move(cmd), std::move(o)))
      .receive([&](const command_reply& r) { out = r; },
               [&](caf::error& e) { out = from_caf_error(e); });
    return out;
  };
  auto o = ask(bank::open{"o"});
  REQUIRE(o);
  CHECK(o->version == 1);
  auto d = ask(bank::deposit{5});
  REQUIRE(d);
  CHECK(d->version == 2);
  CHECK(d->position == last_pos(rt->store()));
  auto w = ask(bank::withdraw{6});
  REQUIRE_FALSE(w);
  CHECK(w.error().code == errc::rejected);
  CHECK(w.error().message.find("insufficient funds") != std::string::npos);
  auto c = ask(bank::deposit{1}, expecting(expected_version::exact(1)));
  CHECK(c.code() == errc::conflict);
  // The versions cross the actor boundary as values, not only as text.
  CHECK(c.error().conflict == version_conflict{expected_version::exact(1), 2});
  auto x = ask(bank::explode{});
  CHECK(x.code() == errc::handler_fault);
  command_options id;
  id.command_id = "x";
  auto first = ask(bank::deposit{1}, id);
  auto again = ask(bank::deposit{1}, id);
  REQUIRE(first);
  REQUIRE(again);
  CHECK(again->duplicate);
  CHECK(again->version == first->version);
  auto bad = [&] {
    command_result out = make_error(errc::io_error, "no reply");
    self->request(*router, 10s, make_command<account>("", bank::touch{}))
      .receive([&](const command_reply& r) { out = r; },
               [&](caf::error& e) { out = from_caf_error(e); });
    return out;
  }();
  CHECK(bad.code() == errc::bad_request);
}

TEST_CASE("the after_commit hook sees each commit's newest position before its reply",
          "[aggregate][durability]") {
  test::temp_dir dir;
  auto cfg = config_in(dir);
  auto seen = std::make_shared<std::atomic<global_position>>(0);
  cfg.writer.after_commit = [seen](global_position p) { seen->store(p); };
  auto rt = test::start_runtime<account>(cfg);
  REQUIRE(rt);
  auto opened = test::get_within(rt->send<account>("h", bank::open{"o"}));
  REQUIRE(opened);
  CHECK(seen->load() == opened->position);
  auto dep = test::get_within(rt->send<account>("h", bank::deposit{2}));
  REQUIRE(dep);
  CHECK(seen->load() == dep->position);
  CHECK(dep->position > opened->position);
}

TEST_CASE("a repeated id of a command that decided no event gets its first result",
          "[aggregate][idempotency]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto cfg = config_in(dir);
  cfg.writer.before_commit = test::commit_control::hook(ctl);
  auto rt = test::start_runtime<account>(cfg);
  REQUIRE(rt);
  REQUIRE(test::get_within(rt->send<account>("k", bank::open{"o"})));
  auto first = test::get_within(rt->send<account>("k", bank::touch{}, test::with_id("t-1")));
  REQUIRE(first);
  CHECK_FALSE(first->duplicate);
  REQUIRE(test::get_within(rt->send<account>("k", bank::deposit{3})));
  auto again = test::get_within(rt->send<account>("k", bank::touch{}, test::with_id("t-1")));
  REQUIRE(again);
  CHECK(again->duplicate);
  CHECK(again->version == first->version);

  // Behind an append in flight: the no-event command waits for it, and its repeat
  // (still in flight too) is answered as a duplicate of it.
  ctl->hold();
  auto dep = rt->send<account>("k", bank::deposit{1});
  REQUIRE(ctl->wait_held());
  auto t2 = rt->send<account>("k", bank::touch{}, test::with_id("t-2"));
  auto t2_again = rt->send<account>("k", bank::touch{}, test::with_id("t-2"));
  ctl->release();
  auto d = test::get_within(dep);
  auto a = test::get_within(t2);
  auto b = test::get_within(t2_again);
  REQUIRE(d);
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(a->duplicate);
  CHECK(b->duplicate);
  CHECK(a->version == d->version);
  CHECK(b->version == d->version);
}
