// Restarts: idempotent command ids across a restart (with and without snapshots), the
// snapshot-plus-tail property over random command sequences, and a graceful stop with
// commands in flight.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "annal/detail/aggregate_loader.hpp"
#include "annal/runtime.hpp"
#include "annal/serialization.hpp"
#include "annal/testing/decider_spec.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using test::config_in;
using test::with_id;
using namespace std::chrono_literals;
using bank::account;
using test::head_of;
using test::last_pos;
using test::ready_within;

namespace {

bool same_result(const command_result& r, const command_reply& original, bool duplicate) {
  return r && r->version == original.version && r->position == original.position
         && r->duplicate == duplicate;
}

} // namespace

TEST_CASE("a repeated command id returns the first result and writes nothing, also after a restart",
          "[aggregate][idempotency]") {
  auto snapshot_every = GENERATE(as<uint64_t>{}, 0, 3);
  INFO("snapshot_every = " << snapshot_every);
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = snapshot_every;
  auto ctl = std::make_shared<test::commit_control>();
  auto cfg = config_in(dir);
  cfg.writer.before_commit = test::commit_control::hook(ctl);
  std::map<std::string, command_reply> originals;

  {
    auto rt = test::start_runtime<account>(cfg, opts);
    REQUIRE(rt);
    auto o = test::get_within(rt->send<account>("i", bank::open{"o"}, with_id("open-i")));
    REQUIRE(o);
    originals["open-i"] = *o;
    for (int k = 1; k <= 7; ++k) {
      auto id = "c" + std::to_string(k);
      auto r = test::get_within(rt->send<account>("i", bank::deposit{10 * k}, with_id(id)));
      REQUIRE(r);
      CHECK_FALSE(r->duplicate);
      originals[id] = *r;
    }
    auto head = head_of(rt->store(), "account-i");
    auto pos = last_pos(rt->store());
    CHECK(head == 8);

    // Same id, same or different command: the first result, nothing written.
    auto again = test::get_within(rt->send<account>("i", bank::deposit{30}, with_id("c3")));
    CHECK(same_result(again, originals["c3"], true));
    auto other = test::get_within(rt->send<account>("i", bank::withdraw{1}, with_id("c5")));
    CHECK(same_result(other, originals["c5"], true));
    auto reopen = test::get_within(rt->send<account>("i", bank::open{"x"}, with_id("open-i")));
    CHECK(same_result(reopen, originals["open-i"], true));
    CHECK(head_of(rt->store(), "account-i") == head);
    CHECK(last_pos(rt->store()) == pos);

    // A repeat arriving while the first run is still in flight waits for it.
    ctl->hold();
    auto first = rt->send<account>("i", bank::deposit{80}, with_id("c8"));
    REQUIRE(ctl->wait_held());
    auto repeat = rt->send<account>("i", bank::deposit{80}, with_id("c8"));
    CHECK_FALSE(ready_within(repeat, 50ms));
    ctl->release();
    auto r1 = test::get_within(first);
    auto r2 = test::get_within(repeat);
    REQUIRE(r1);
    CHECK_FALSE(r1->duplicate);
    originals["c8"] = *r1;
    CHECK(same_result(r2, *r1, true));
    CHECK(head_of(rt->store(), "account-i") == 9);
    auto v = rt->load<account>("i");
    REQUIRE(v);
    CHECK(v->state.balance == 360);
    REQUIRE(rt->stop());
  }

  for (int round = 0; round < 2; ++round) {
    INFO("restart " << round + 1);
    auto rt = test::start_runtime<account>(cfg, opts);
    REQUIRE(rt);
    if (snapshot_every > 0) {
      auto snap = rt->store().load_snapshot("account-i");
      REQUIRE(snap);
      REQUIRE(*snap);
      CHECK((*snap)->version >= 6);
    }
    auto head = head_of(rt->store(), "account-i");
    auto pos = last_pos(rt->store());
    for (auto& [id, original] : originals) {
      INFO("command id " << id);
      auto r = test::get_within(rt->send<account>("i", bank::deposit{1}, with_id(id)));
      CHECK(same_result(r, original, true));
    }
    CHECK(head_of(rt->store(), "account-i") == head);
    CHECK(last_pos(rt->store()) == pos);
    // A new id runs normally and is remembered across the next restart.
    auto id = "n" + std::to_string(round);
    auto fresh = test::get_within(rt->send<account>("i", bank::deposit{1}, with_id(id)));
    REQUIRE(fresh);
    CHECK_FALSE(fresh->duplicate);
    CHECK(fresh->version == head + 1);
    originals[id] = *fresh;
    REQUIRE(rt->stop());
  }
}

TEST_CASE("snapshot plus tail equals a full replay over random command sequences", "[aggregate][property][snapshot]") {
  auto seed = GENERATE(1u, 2u, 3u, 4u, 5u);
  INFO("seed " << seed);
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = 3;
  auto cfg = config_in(dir);
  cfg.mode = durability::no_sync; // durability is not what this property is about
  const std::vector<std::string> ids{"q0", "q1", "q2", "q3"};
  std::mt19937 rng(seed);
  {
    auto rt = test::start_runtime<account>(cfg, opts);
    REQUIRE(rt);
    for (auto& id : ids)
      REQUIRE(test::get_within(rt->send<account>(id, bank::open{id})));
    std::uniform_int_distribution<int> pick(0, int(ids.size()) - 1), kind(0, 9), amount(1, 60);
    for (int batch = 0; batch < 12; ++batch) {
      // Batches of pipelined commands: snapshots are taken inside pipelined appends too.
      std::vector<std::future<command_result>> fs;
      for (int i = 0; i < 8; ++i) {
        auto& id = ids[std::size_t(pick(rng))];
        auto k = kind(rng);
        if (k < 5)
          fs.push_back(rt->send<account>(id, bank::deposit{amount(rng)}));
        else if (k < 9)
          fs.push_back(rt->send<account>(id, bank::withdraw{amount(rng)}));
        else
          fs.push_back(rt->send<account>(id, bank::touch{}));
      }
      for (auto& f : fs) {
        auto r = test::get_within(f);
        CHECK((r || r.error().code == errc::rejected));
      }
    }
    REQUIRE(rt->stop());
  }
  auto rt = test::start_runtime<account>(cfg, opts);
  REQUIRE(rt);
  for (auto& id : ids) {
    INFO("instance " << id);
    auto events = test::raw_events<account>(*rt, id);
    REQUIRE_FALSE(events.empty());
    auto full = test::fold<account>(events);
    CHECK(annal::testing::snapshot_round_trip_matches_replay<account>(events));
    if (events.size() >= 3) {
      auto snap = rt->store().load_snapshot(aggregate_traits<account>::stream_id(id));
      REQUIRE(snap);
      CHECK(snap->has_value());
    }
    // Now: newest snapshot + tail.
    auto v = rt->load<account>(id);
    REQUIRE(v);
    CHECK(v->version == events.size());
    CHECK(v->state == full);
    // Every earlier version: an older snapshot (or none) + tail.
    bool prefixes_match = true;
    for (std::size_t k = 1; k <= events.size(); ++k) {
      auto at = rt->load<account>(id, as_of::version(k));
      std::vector<account::event> prefix(events.begin(), events.begin() + std::ptrdiff_t(k));
      prefixes_match = prefixes_match && at && at->version == k
                       && at->state == test::fold<account>(prefix);
    }
    CHECK(prefixes_match);
    // The live instance rehydrates (snapshot + tail) to the same state.
    auto over = test::get_within(rt->send<account>(id, bank::withdraw{full.balance + 1}));
    CHECK(over.code() == errc::rejected);
    if (full.balance > 0) {
      auto all = test::get_within(rt->send<account>(id, bank::withdraw{full.balance}));
      REQUIRE(all);
      CHECK(all->version == events.size() + 1);
    }
  }
}

TEST_CASE("a graceful stop loses no acknowledged command", "[aggregate][stop]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  ctl->delay(2ms); // keeps commands in flight when stop() comes
  auto cfg = config_in(dir);
  cfg.writer.before_commit = test::commit_control::hook(ctl);
  constexpr int instances = 12, threads = 6, max_per_thread = 2000;
  // A shallow pipeline makes commands queue inside the instances: stop() must let the
  // queued ones run too (their appends are sent only after earlier ones are durable).
  aggregate_options opts;
  opts.max_in_flight = 2;
  opts.max_waiting = 100000;
  auto name = [](int i) { return "s" + std::to_string(i); };

  struct outcome {
    std::string id;
    std::string command_id;
    int64_t amount = 0;
    std::atomic<int> calls{0};
    std::promise<command_result> done;
  };
  std::vector<std::vector<std::unique_ptr<outcome>>> outcomes(threads);
  std::atomic<int> replies{0};
  std::atomic<int> sent{0};
  std::atomic<bool> stop_called{false};
  std::atomic<bool> stop_returned{false};
  {
    auto rt = test::start_runtime<account>(cfg, opts);
    REQUIRE(rt);
    std::vector<std::future<command_result>> opens;
    for (int i = 0; i < instances; ++i)
      opens.push_back(rt->send<account>(name(i), bank::open{"o"}));
    for (auto& f : opens)
      REQUIRE(test::get_within(f));
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t)
      callers.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        std::uniform_int_distribution<int> pick(0, instances - 1), amount(1, 100);
        // Sends before the stop, a few more while it runs, then (once it returned) one
        // last command, which must be refused.
        auto send_one = [&](int i) {
          outcomes[std::size_t(t)].push_back(std::make_unique<outcome>());
          auto& o = *outcomes[std::size_t(t)].back();
          o.id = name(pick(rng));
          o.amount = amount(rng);
          o.command_id = "t" + std::to_string(t) + "-" + std::to_string(i);
          ++sent;
          rt->send<account>(o.id, bank::deposit{o.amount}, with_id(o.command_id),
                            [&o, &replies](command_result r) {
                              if (o.calls.fetch_add(1) == 0)
                                o.done.set_value(std::move(r));
                              ++replies;
                            });
        };
        int i = 0;
        for (; i < max_per_thread && !stop_called.load(); ++i) {
          send_one(i);
          if (i % 5 == 4)
            std::this_thread::sleep_for(1ms); // pacing, not synchronisation
        }
        for (int k = 0; k < 20 && !stop_returned.load(); ++k, ++i) {
          send_one(i);
          std::this_thread::sleep_for(1ms);
        }
        while (!stop_returned.load())
          std::this_thread::sleep_for(1ms);
        send_one(i);
      });
    // Stop with commands in flight: once some were answered (or many were sent).
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (replies.load() < 300 && sent.load() < 3000 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    stop_called = true;
    auto stopped = rt->stop();
    stop_returned = true;
    CHECK(stopped);
    for (auto& c : callers)
      c.join();
  }
  // Every command got exactly one answer: success or unavailable.
  std::map<std::string, std::set<std::string>> acked; // instance -> command ids
  std::map<std::string, int64_t> sums;
  int ok = 0, unavailable = 0, other = 0, unanswered = 0;
  for (auto& per : outcomes)
    for (auto& o : per) {
      auto f = o->done.get_future();
      if (!ready_within(f, 5s)) {
        ++unanswered;
        continue;
      }
      auto r = test::get_within(f);
      if (r) {
        ++ok;
        acked[o->id].insert(o->command_id);
        sums[o->id] += o->amount;
      } else if (r.error().code == errc::unavailable) {
        ++unavailable;
      } else {
        ++other;
      }
      CHECK(o->calls.load() == 1);
    }
  INFO("acknowledged " << ok << ", unavailable " << unavailable);
  CHECK(unanswered == 0);
  CHECK(other == 0);
  CHECK(ok > 0);
  CHECK(unavailable >= threads);

  // After reopening: exactly the acknowledged commands are in the journal.
  auto rt = test::start_runtime<account>(config_in(dir));
  REQUIRE(rt);
  for (int i = 0; i < instances; ++i) {
    auto id = name(i);
    INFO("instance " << id);
    std::vector<recorded_event> records;
    auto events = test::raw_events<account>(*rt, id, &records);
    std::set<std::string> journal_ids;
    for (std::size_t k = 1; k < records.size(); ++k)
      journal_ids.insert(records[k].metadata.command_id);
    CHECK(journal_ids == acked[id]);
    CHECK(records.size() == acked[id].size() + 1);
    auto v = rt->load<account>(id);
    REQUIRE(v);
    CHECK(v->state.balance == sums[id]);
    CHECK(v->state == test::fold<account>(events));
  }
}

TEST_CASE("a snapshot written from the live state has the bytes of the payload it stands for",
          "[aggregate][snapshot]") {
  // Instances write snapshots (and passivated states) from their state in place, without
  // a copy; restarts decode them as snapshot_payload.
  bank::state s{true, "a fairly long owner name, beyond the small-string buffer", 1234, 7};
  std::vector<detail::recent_entry> recent{{"cmd-1", 3, 30}, {"", 4, 0},
                                           {std::string(40, 'x'), 5, 50}};
  detail::snapshot_payload_view<account> view{s, {}};
  for (const auto& [id, v, p] : recent)
    view.recent.push_back({&id, v, p});
  auto written = to_bytes(view);
  auto expected = to_bytes(detail::snapshot_payload<account>{s, recent});
  REQUIRE(written);
  REQUIRE(expected);
  CHECK(*written == *expected);
  auto back = from_bytes<detail::snapshot_payload<account>>(*written);
  REQUIRE(back);
  CHECK(back->state == s);
  CHECK(back->recent == recent);
}
