// Concurrency on the write path: ordering per instance under many callers, instances in
// parallel, no lost update, passivation and reactivation under load, bounded recovery.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "counter_aggregate.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using test::config_in;
using namespace std::chrono_literals;
using bank::account;
using ctr::counter;
using test::ready_within;

namespace {

// One acknowledged (or failed) command of a load test.
struct sent_command {
  std::string id;
  int64_t amount = 0;
  std::string command_id;
  command_result result = make_error(errc::io_error, "no reply");
};

// Sends deposit `amount` to `id` as command "t<thread>-<i>" and records it in `log`.
std::future<command_result> send_recorded(runtime& rt, std::vector<sent_command>& log, std::string id,
                                          int64_t amount, int thread, int i) {
  sent_command c;
  c.id = std::move(id);
  c.amount = amount;
  c.command_id = "t" + std::to_string(thread) + "-" + std::to_string(i);
  auto f = rt.send<account>(c.id, bank::deposit{c.amount}, test::with_id(c.command_id));
  log.push_back(std::move(c));
  return f;
}

// The commands of every caller, grouped by the instance they went to.
std::map<std::string, std::vector<const sent_command*>>
by_instance(const std::vector<std::vector<sent_command>>& sent) {
  std::map<std::string, std::vector<const sent_command*>> out;
  for (auto& per : sent)
    for (auto& c : per)
      out[c.id].push_back(&c);
  return out;
}

// Checks every instance of `expected` (id -> commands sent to it after its open):
// everything acknowledged, versions gap-free, load == sum == full replay, and each
// acknowledged command's event sits in the journal at the version its reply named.
void check_accounts(runtime& rt, const std::map<std::string, std::vector<const sent_command*>>& expected,
                    stream_version base) {
  for (const auto& [id, cmds] : expected) {
    INFO("instance " << id);
    int64_t sum = 0;
    std::vector<stream_version> versions;
    for (auto* c : cmds) {
      REQUIRE(c->result);
      sum += c->amount;
      versions.push_back(c->result->version);
    }
    std::sort(versions.begin(), versions.end());
    bool gap_free = true;
    for (std::size_t i = 0; i < versions.size(); ++i)
      gap_free = gap_free && versions[i] == base + 1 + i;
    CHECK(gap_free);
    auto v = rt.load<account>(id);
    REQUIRE(v);
    CHECK(v->state.balance == sum);
    CHECK(v->version == base + cmds.size());
    std::vector<recorded_event> records;
    auto events = test::raw_events<account>(rt, id, &records);
    REQUIRE(events.size() == base + cmds.size());
    CHECK(test::fold<account>(events) == v->state);
    bool in_journal = true;
    for (auto* c : cmds) {
      const auto& r = records.at(c->result->version - 1);
      in_journal = in_journal && r.metadata.command_id == c->command_id
                   && r.position == c->result->position;
    }
    CHECK(in_journal);
  }
}

} // namespace

TEST_CASE("one instance orders the commands of 64 concurrent callers without gaps", "[aggregate][concurrency]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.max_waiting = 4096; // every command fits even if none is committed yet
  auto rt = test::start_runtime<counter>(config_in(dir), opts);
  REQUIRE(rt);
  constexpr int threads = 64;
  constexpr int per_thread = 20;
  struct ack {
    std::string tag;
    command_result result = make_error(errc::io_error, "no reply");
  };
  std::vector<std::vector<ack>> acks(threads);
  test::gate start;
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      start.wait();
      std::vector<std::future<command_result>> fs;
      for (int i = 0; i < per_thread; ++i) {
        auto tag = std::to_string(t) + "-" + std::to_string(i);
        acks[t].push_back({tag, make_error(errc::io_error, "no reply")});
        fs.push_back(rt->send<counter>("hot", ctr::add{t * 1000 + i + 1, tag}));
      }
      for (int i = 0; i < per_thread; ++i)
        acks[t][i].result = test::get_within(fs[i]);
    });
  REQUIRE(start.wait_entered(threads));
  start.open();
  for (auto& c : callers)
    c.join();

  std::map<stream_version, const ack*> by_version;
  bool all_ok = true, per_caller_order = true;
  for (auto& per : acks) {
    stream_version last = 0;
    for (auto& a : per) {
      all_ok = all_ok && a.result;
      if (!a.result)
        continue;
      by_version.emplace(a.result->version, &a);
      // One caller's commands arrive in the order it sent them.
      per_caller_order = per_caller_order && a.result->version > last;
      last = a.result->version;
    }
  }
  REQUIRE(all_ok);
  CHECK(per_caller_order);
  // Versions are unique and exactly 1..N.
  REQUIRE(by_version.size() == std::size_t{threads * per_thread});
  CHECK(by_version.begin()->first == 1);
  CHECK(by_version.rbegin()->first == stream_version{threads * per_thread});
  // The journal holds the events in the order the replies' versions say.
  std::vector<recorded_event> records;
  auto events = test::raw_events<counter>(*rt, "hot", &records);
  REQUIRE(events.size() == std::size_t{threads * per_thread});
  bool journal_matches = true;
  global_position last_position = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto* a = by_version.at(records[i].version);
    journal_matches = journal_matches && records[i].version == i + 1 && events[i].tag == a->tag
                      && records[i].position == a->result->position
                      && records[i].position > last_position;
    last_position = records[i].position;
  }
  CHECK(journal_matches);
  auto v = rt->load<counter>("hot");
  REQUIRE(v);
  CHECK(v->state.count == std::size_t{threads * per_thread});
  CHECK(v->state == test::fold<counter>(events));
}

TEST_CASE("different instances run in parallel: a busy one does not hold up the others",
          "[aggregate][concurrency]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<counter>(config_in(dir));
  REQUIRE(rt);
  auto g = std::make_shared<test::gate>();
  auto slow = rt->send<counter>("slow", ctr::held{g});
  REQUIRE(g->wait_entered()); // the slow instance's decide is running (and blocked)
  std::vector<std::future<command_result>> fast;
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k < 3; ++k)
      fast.push_back(rt->send<counter>("fast-" + std::to_string(i), ctr::add{1, "f"}));
  bool all_served = true;
  for (auto& f : fast)
    all_served = all_served && ready_within(f, 10s) && test::get_within(f).has_value();
  CHECK(all_served);
  CHECK_FALSE(ready_within(slow, 0ms));
  g->open();
  REQUIRE(ready_within(slow, 10s));
  auto r = test::get_within(slow);
  REQUIRE(r);
  CHECK(r->version == 1);
}

TEST_CASE("no update is lost under concurrent commands to several instances", "[aggregate][concurrency]") {
  test::temp_dir dir;
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  constexpr int instances = 8, threads = 16, per_thread = 60;
  std::vector<std::future<command_result>> opens;
  for (int i = 0; i < instances; ++i)
    opens.push_back(rt->send<account>("n" + std::to_string(i), bank::open{"o"}));
  for (auto& f : opens)
    REQUIRE(test::get_within(f));

  std::vector<std::vector<sent_command>> sent(threads);
  test::gate start;
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(1000 + t));
      std::uniform_int_distribution<int> pick(0, instances - 1), amount(1, 1000);
      start.wait();
      std::vector<std::future<command_result>> fs;
      for (int i = 0; i < per_thread; ++i) {
        fs.push_back(send_recorded(*rt, sent[t], "n" + std::to_string(pick(rng)), amount(rng), t, i));
        if (i % 15 == 14) // some callers wait for their replies now and then
          for (auto j = fs.size() - 15; j < fs.size(); ++j)
            fs[j].wait();
      }
      for (int i = 0; i < per_thread; ++i)
        sent[t][i].result = test::get_within(fs[i]);
    });
  REQUIRE(start.wait_entered(threads));
  start.open();
  for (auto& c : callers)
    c.join();

  auto by_id = by_instance(sent);
  REQUIRE(by_id.size() == std::size_t{instances});
  check_accounts(*rt, by_id, 1);
}

TEST_CASE("passivation and reactivation under load lose nothing", "[aggregate][passivation]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.idle_timeout = 20ms;
  opts.max_live = 8;
  opts.snapshot_every = 4;
  auto rt = test::start_runtime<account>(config_in(dir), opts);
  REQUIRE(rt);
  constexpr int instances = 120, threads = 8, per_thread = 150;
  auto name = [](int i) { return "p" + std::to_string(i); };
  std::vector<std::future<command_result>> opens;
  for (int i = 0; i < instances; ++i)
    opens.push_back(rt->send<account>(name(i), bank::open{"o"}));
  for (auto& f : opens)
    REQUIRE(test::get_within(f));

  std::atomic<bool> running{true};
  std::atomic<uint64_t> max_live{0};
  std::thread watcher([&] {
    while (running.load()) {
      auto n = test::live_instances<account>(*rt);
      if (n != std::numeric_limits<uint64_t>::max() && n > max_live.load())
        max_live = n;
      std::this_thread::sleep_for(1ms);
    }
  });

  std::vector<std::vector<sent_command>> sent(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(7 + t));
      std::uniform_int_distribution<int> pick(0, instances - 1), amount(1, 100);
      std::vector<std::future<command_result>> fs;
      for (int i = 0; i < per_thread; ++i) {
        fs.push_back(send_recorded(*rt, sent[t], name(pick(rng)), amount(rng), t, i));
        if (i % 50 == 49) {
          // Load shaping, not synchronisation: a pause longer than the idle timeout lets
          // instances passivate while other callers keep sending to them.
          std::this_thread::sleep_for(std::chrono::milliseconds(10 + 10 * t % 40));
        }
      }
      for (int i = 0; i < per_thread; ++i)
        sent[t][i].result = test::get_within(fs[i]);
    });
  for (auto& c : callers)
    c.join();
  running = false;
  watcher.join();

  auto by_id = by_instance(sent);
  check_accounts(*rt, by_id, 1);
  CHECK(max_live.load() <= opts.max_live);
  CHECK(max_live.load() > 0);

  // Idle instances passivate (the router ticks every few ms)...
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (test::live_instances<account>(*rt) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(test::live_instances<account>(*rt) == 0);
  // ...and come back from the journal (snapshot + tail) with their numbering intact.
  std::vector<std::pair<std::string, std::future<command_result>>> again;
  for (int i = 0; i < instances; ++i)
    again.emplace_back(name(i), rt->send<account>(name(i), bank::deposit{1}));
  bool continued = true;
  for (auto& [id, f] : again) {
    auto r = test::get_within(f);
    auto expect_version = 2 + (by_id.count(id) ? by_id[id].size() : 0);
    continued = continued && r && r->version == expect_version;
  }
  CHECK(continued);
}

TEST_CASE("commands racing with idle passivation wait for the instance and are all served",
          "[aggregate][passivation]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.idle_timeout = 1ms; // the router ticks every 5 ms: instances passivate constantly
  opts.snapshot_every = 5;
  auto rt = test::start_runtime<account>(config_in(dir), opts);
  REQUIRE(rt);
  constexpr int instances = 6, threads = 4, per_thread = 250;
  auto name = [](int i) { return "i" + std::to_string(i); };
  for (int i = 0; i < instances; ++i)
    REQUIRE(test::get_within(rt->send<account>(name(i), bank::open{"o"})));
  std::vector<std::vector<sent_command>> sent(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(99 + t));
      std::uniform_int_distribution<int> pick(0, instances - 1), amount(1, 100), pause(0, 2500);
      std::vector<std::future<command_result>> fs;
      for (int i = 0; i < per_thread; ++i) {
        fs.push_back(send_recorded(*rt, sent[t], name(pick(rng)), amount(rng), t, i));
        // Load shaping: gaps around the idle timeout, so commands keep arriving while
        // instances are passivating.
        std::this_thread::sleep_for(std::chrono::microseconds(pause(rng)));
      }
      for (int i = 0; i < per_thread; ++i)
        sent[t][i].result = test::get_within(fs[i], 10s);
    });
  for (auto& c : callers)
    c.join();
  auto by_id = by_instance(sent);
  check_accounts(*rt, by_id, 1);
}

TEST_CASE("requests from actors racing with passivation are answered through the router",
          "[aggregate][passivation][router]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.idle_timeout = 1ms;
  opts.max_live = 2;
  auto rt = test::start_runtime<account>(config_in(dir), opts);
  REQUIRE(rt);
  constexpr int instances = 4, threads = 4, per_thread = 100;
  auto name = [](int i) { return "k" + std::to_string(i); };
  for (int i = 0; i < instances; ++i)
    REQUIRE(test::get_within(rt->send<account>(name(i), bank::open{"o"})));
  auto router = *rt->router<account>();
  std::vector<std::vector<sent_command>> sent(threads);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      caf::scoped_actor self{rt->system()};
      std::mt19937 rng(static_cast<unsigned>(5 + t));
      std::uniform_int_distribution<int> pick(0, instances - 1), amount(1, 100), pause(0, 2000);
      for (int i = 0; i < per_thread; ++i) {
        sent_command c;
        c.id = name(pick(rng));
        c.amount = amount(rng);
        c.command_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        command_options o;
        o.command_id = c.command_id;
        self->request(router, 10s, make_command<account>(c.id, bank::deposit{c.amount}, o))
          .receive([&](const command_reply& r) { c.result = r; },
                   [&](caf::error& e) { c.result = from_caf_error(e); });
        sent[t].push_back(std::move(c));
        std::this_thread::sleep_for(std::chrono::microseconds(pause(rng)));
      }
    });
  for (auto& c : callers)
    c.join();
  auto by_id = by_instance(sent);
  check_accounts(*rt, by_id, 1);
}

TEST_CASE("rehydrations of many instances all complete with one recovery permit", "[aggregate][recovery]") {
  test::temp_dir dir;
  constexpr int instances = 40;
  aggregate_options opts;
  opts.snapshot_every = 0; // every rehydration replays the stream
  {
    auto rt = test::start_runtime<account>(config_in(dir), opts);
    REQUIRE(rt);
    std::vector<std::future<command_result>> fs;
    for (int i = 0; i < instances; ++i) {
      auto id = "r" + std::to_string(i);
      fs.push_back(rt->send<account>(id, bank::open{"o"}));
      for (int k = 1; k <= 5; ++k)
        fs.push_back(rt->send<account>(id, bank::deposit{k + i}));
    }
    for (auto& f : fs)
      REQUIRE(test::get_within(f));
    REQUIRE(rt->stop());
  }
  auto cfg = config_in(dir);
  cfg.recovery_permits = 1;
  auto rt = test::start_runtime<account>(cfg, opts);
  REQUIRE(rt);
  std::vector<std::future<command_result>> fs;
  for (int i = 0; i < instances; ++i)
    fs.push_back(rt->send<account>("r" + std::to_string(i), bank::deposit{1}));
  bool all_ok = true;
  for (auto& f : fs)
    all_ok = all_ok && ready_within(f, 20s) && [&] {
      auto r = test::get_within(f);
      return r && r->version == 7;
    }();
  CHECK(all_ok);
  for (int i = 0; i < instances; ++i) {
    auto v = rt->load<account>("r" + std::to_string(i));
    REQUIRE(v);
    CHECK(v->state.balance == 15 + 5 * i + 1);
  }
}
