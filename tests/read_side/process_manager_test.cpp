// Process managers: a two-aggregate flow (a transfer between two bank accounts) driven end to
// end by a process manager; deterministic command ids make re-processing harmless (a handler
// that fails once after sending, a rebuild from position 0); a durable timer fires exactly
// once across a restart, and a cancelled one never does.
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <future>
#include <set>
#include <thread>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "read_side_helpers.hpp"
#include "shard_copy.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace std::chrono_literals;
using test::wait_until;

namespace xfer {

struct requested {
  static constexpr std::string_view event_type = "transfer.requested";
  std::string from, to;
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(from, to, amount); }
};
struct completed {
  static constexpr std::string_view event_type = "transfer.completed";
  template <class Archive>
  void serialize(Archive&) {}
};
struct failed {
  static constexpr std::string_view event_type = "transfer.failed";
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(reason); }
};
struct expired {
  static constexpr std::string_view event_type = "transfer.expired";
  template <class Archive>
  void serialize(Archive&) {}
};

struct request {
  std::string from, to;
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(from, to, amount); }
};
struct complete {
  template <class Archive>
  void serialize(Archive&) {}
};
struct fail {
  std::string reason;
  template <class Archive>
  void serialize(Archive& ar) { ar(reason); }
};
struct expire {
  template <class Archive>
  void serialize(Archive&) {}
};

enum class status : uint8_t { none, requested, completed, failed, expired };

struct state {
  status st = status::none;
  int64_t amount = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(st, amount); }
};

// A transfer: requested once, then completed, failed or expired (each only from requested).
struct transfer {
  using state = xfer::state;
  using command = std::variant<request, complete, fail, expire>;
  using event = std::variant<requested, completed, failed, expired>;
  static constexpr std::string_view category = "transfer";

  static decision<event> decide(const state& s, const command& c) {
    if (auto r = std::get_if<request>(&c)) {
      if (s.st != status::none)
        return reject("already requested");
      return requested{r->from, r->to, r->amount};
    }
    if (s.st != status::requested)
      return reject("not pending");
    if (std::holds_alternative<complete>(c))
      return completed{};
    if (auto f = std::get_if<fail>(&c))
      return failed{f->reason};
    return expired{};
  }
  static void evolve(state& s, const event& e) {
    if (auto r = std::get_if<requested>(&e)) {
      s.st = status::requested;
      s.amount = r->amount;
    } else if (std::holds_alternative<completed>(e)) {
      s.st = status::completed;
    } else if (std::holds_alternative<failed>(e)) {
      s.st = status::failed;
    } else {
      s.st = status::expired;
    }
  }
};

} // namespace xfer

namespace {

std::unique_ptr<runtime> open_runtime(const std::filesystem::path& dir,
                                      std::chrono::milliseconds process_state_wait = std::chrono::minutes(5)) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.mode = durability::no_sync;
  cfg.process_state_wait = process_state_wait;
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE((*rt)->register_aggregate<bank::account>());
  REQUIRE((*rt)->register_aggregate<xfer::transfer>());
  return std::move(*rt);
}

std::string transfer_id(const event_view& e) {
  return std::string{e.stream_id.substr(std::string_view{"transfer-"}.size())};
}

int64_t balance(runtime& rt, const std::string& id) {
  auto v = rt.load<bank::account>(id);
  REQUIRE(v);
  return v->state.balance;
}

xfer::status status_of(runtime& rt, const std::string& id) {
  auto v = rt.load<xfer::transfer>(id);
  return v ? v->state.st : xfer::status::none;
}

bool reaches(runtime& rt, const std::string& id, xfer::status s, std::chrono::milliseconds timeout = 30s) {
  return wait_until([&] { return status_of(rt, id) == s; }, timeout, 10ms);
}

// What the transfer manager's handler observed, per attempt.
struct observed {
  std::mutex mx;
  std::vector<std::pair<std::string, bool>> replies; // (what, duplicate)
  std::atomic<bool> fail_once_armed{false};
  std::atomic<int> failures{0};
  void note(std::string what, bool dup) {
    std::lock_guard<std::mutex> guard{mx};
    replies.emplace_back(std::move(what), dup);
  }
};

// The transfer manager: on transfer.requested, withdraw from `from`, deposit to `to`, then
// complete the transfer (or fail it when the withdrawal is refused).
process_manager transfer_manager(runtime& rt, observed& obs) {
  process_manager pm;
  pm.options.name = "transfers";
  pm.options.filter = event_filter::types({"transfer.requested"});
  pm.options.backoff = 10ms;
  pm.handle = [&rt, &obs](process_context& ctx, const event_view& e) -> status {
    auto req = rt.registry().decode<xfer::requested>(e.type, e.schema_version, e.payload, e.corrupt);
    if (!req)
      return std::move(req).error();
    auto tid = transfer_id(e);
    auto w_ref = ctx.send<bank::account>(req->from, bank::withdraw{req->amount});
    ctx.then(w_ref, [&obs, tid, req = *req](process_context& next, const command_result& w) -> status {
      if (!w) {
        if (w.error().code != errc::rejected)
          return w.error();
        auto f_ref = next.send<xfer::transfer>(tid, xfer::fail{w.error().message});
        next.then(f_ref, [&obs, tid](process_context&, const command_result& f) -> status {
          if (!f)
            return f.error();
          obs.note(tid + ":fail", f->duplicate);
          return {};
        });
        return {};
      }
      obs.note(tid + ":withdraw", w->duplicate);
      auto d_ref = next.send<bank::account>(req.to, bank::deposit{req.amount});
      next.then(d_ref, [&obs, tid](process_context& last, const command_result& d) -> status {
        if (!d)
          return d.error();
        obs.note(tid + ":deposit", d->duplicate);
        if (obs.fail_once_armed.exchange(false)) {
          ++obs.failures;
          return make_error(errc::io_error, "fails once after sending");
        }
        auto c_ref = last.send<xfer::transfer>(tid, xfer::complete{});
        last.then(c_ref, [&obs, tid](process_context&, const command_result& c) -> status {
          if (!c)
            return c.error();
          obs.note(tid + ":complete", c->duplicate);
          return {};
        });
        return {};
      });
      return {};
    });
    return {};
  };
  return pm;
}

} // namespace

TEST_CASE("a process manager drives a transfer between two aggregates, and re-processing does not "
          "act twice thanks to deterministic command ids",
          "[process]") {
  test::temp_dir dir;
  auto rt_ptr = open_runtime(dir.path());
  auto& rt = *rt_ptr;
  observed obs;
  REQUIRE(rt.add_process_manager(transfer_manager(rt, obs)));
  REQUIRE(rt.start());
  REQUIRE(test::all_live(rt));
  REQUIRE(rt.send<bank::account>("alice", bank::open{"alice"}).get());
  REQUIRE(rt.send<bank::account>("bob", bank::open{"bob"}).get());
  REQUIRE(rt.send<bank::account>("alice", bank::deposit{100}).get());

  // A transfer that goes through: account -> account -> back to the transfer.
  auto t1 = rt.send<xfer::transfer>("t1", xfer::request{"alice", "bob", 30}).get();
  REQUIRE(t1);
  REQUIRE(reaches(rt, "t1", xfer::status::completed));
  CHECK(balance(rt, "alice") == 70);
  CHECK(balance(rt, "bob") == 30);
  // The commands carry the manager's deterministic ids: <manager>/<event stream>@<event
  // version>/<rank> in the handler, <j>.<rank> in its j-th continuation; the triggering
  // event's position is the causation.
  {
    auto cause = aggregate_traits<xfer::transfer>::stream_id("t1") + "@" + std::to_string(t1->version);
    auto evs = rt.store().read_stream("account-alice");
    REQUIRE(evs);
    REQUIRE(evs->back().type == "bank.withdrawn");
    CHECK(evs->back().metadata.command_id == "transfers/" + cause + "/0");
    CHECK(evs->back().metadata.causation_id == std::to_string(t1->position));
    auto bob = rt.store().read_stream("account-bob");
    REQUIRE(bob);
    CHECK(bob->back().metadata.command_id == "transfers/" + cause + "/0.0");
  }

  // A refused withdrawal fails the transfer and moves no money.
  REQUIRE(rt.send<xfer::transfer>("t2", xfer::request{"alice", "bob", 500}).get());
  REQUIRE(reaches(rt, "t2", xfer::status::failed));
  CHECK(balance(rt, "alice") == 70);
  CHECK(balance(rt, "bob") == 30);

  // The handler fails once after sending its commands: the retry re-sends the same ids and
  // the accounts answer with their first results.
  obs.fail_once_armed = true;
  auto t3 = rt.send<xfer::transfer>("t3", xfer::request{"alice", "bob", 20}).get();
  REQUIRE(t3);
  REQUIRE(reaches(rt, "t3", xfer::status::completed));
  // The completion is visible before the manager's continuation has noted the reply of
  // `complete` (seen once under ASan: 4 of the 5 replies). The manager's position never
  // passes an event whose handling (continuations too) is unfinished, so once it is at
  // the head every reply is noted.
  auto t3_head = rt.store().last_position();
  REQUIRE(t3_head);
  REQUIRE(rt.await_projection("transfers", *t3_head, 30s));
  CHECK(obs.failures.load() == 1);
  CHECK(balance(rt, "alice") == 50);
  CHECK(balance(rt, "bob") == 50);
  {
    std::lock_guard<std::mutex> guard{obs.mx};
    std::vector<std::pair<std::string, bool>> t3_replies;
    for (auto& r : obs.replies)
      if (r.first.rfind("t3:", 0) == 0)
        t3_replies.push_back(r);
    CHECK(t3_replies == std::vector<std::pair<std::string, bool>>{{"t3:withdraw", false},
                                                                   {"t3:deposit", false},
                                                                   {"t3:withdraw", true},
                                                                   {"t3:deposit", true},
                                                                   {"t3:complete", false}});
  }
  // After its retry (a catch-up) the manager is live again.
  CHECK(wait_until([&] { return rt.projection("transfers")->state == projection_state::live; }, 30s));

  // A rebuild re-processes every transfer from position 0: nothing acts twice, the journal
  // does not grow at all. (One more event first, so that the head the rebuild must reach
  // is a live event.)
  REQUIRE(rt.send<bank::account>("carol", bank::open{"carol"}).get());
  auto head = rt.store().last_position();
  REQUIRE(head);
  REQUIRE(rt.await_projection("transfers", *head, 30s));
  std::size_t replies_before = 0;
  {
    std::lock_guard<std::mutex> guard{obs.mx};
    replies_before = obs.replies.size();
  }
  REQUIRE(rt.rebuild_projection("transfers"));
  REQUIRE(rt.await_projection("transfers", *head, 30s));
  CHECK(rt.store().last_position().value() == *head);
  CHECK(balance(rt, "alice") == 50);
  CHECK(balance(rt, "bob") == 50);
  CHECK(status_of(rt, "t1") == xfer::status::completed);
  CHECK(status_of(rt, "t2") == xfer::status::failed);
  CHECK(status_of(rt, "t3") == xfer::status::completed);
  {
    std::lock_guard<std::mutex> guard{obs.mx};
    REQUIRE(obs.replies.size() > replies_before);
    for (std::size_t i = replies_before; i < obs.replies.size(); ++i) {
      INFO(obs.replies[i].first);
      CHECK(obs.replies[i].second); // every re-sent command was answered as a duplicate
    }
  }
  REQUIRE(rt.stop());
}

TEST_CASE("a process manager that retries in catch-up still sees the events its own commands "
          "caused there",
          "[process]") {
  test::temp_dir dir;
  auto rt_ptr = open_runtime(dir.path());
  auto& rt = *rt_ptr;
  observed obs;
  auto pm = transfer_manager(rt, obs);
  pm.options.filter = event_filter::types({"transfer.requested", "transfer.completed"});
  std::mutex mx;
  std::set<std::string> completed_seen;
  auto inner = pm.handle;
  pm.handle = [inner, &mx, &completed_seen](process_context& ctx, const event_view& e) -> status {
    if (e.type == "transfer.completed") {
      std::lock_guard<std::mutex> guard{mx};
      completed_seen.insert(transfer_id(e));
      return {};
    }
    return inner(ctx, e);
  };
  REQUIRE(rt.add_process_manager(pm));
  REQUIRE(rt.start());
  REQUIRE(test::all_live(rt));
  REQUIRE(rt.send<bank::account>("alice", bank::open{"alice"}).get());
  REQUIRE(rt.send<bank::account>("bob", bank::open{"bob"}).get());
  REQUIRE(rt.send<bank::account>("alice", bank::deposit{100}).get());
  obs.fail_once_armed = true; // the first attempt fails after sending: the retry catches up
  REQUIRE(rt.send<xfer::transfer>("t", xfer::request{"alice", "bob", 10}).get());
  REQUIRE(reaches(rt, "t", xfer::status::completed));
  auto head = rt.store().last_position();
  REQUIRE(head);
  CHECK(rt.await_projection("transfers", *head, 3s));
  std::lock_guard<std::mutex> guard{mx};
  CHECK(completed_seen.count("t") == 1);
  REQUIRE(rt.stop());
}

namespace {

// The expiry manager: a durable timer per requested transfer (expire it at `due`), cancelled
// when the transfer completes. Keeps the due time in its state between the two events.
struct expiry_probe {
  std::atomic<timestamp_ns> due{0};
  std::atomic<int> found_state{0};
  timestamp_ns delay_ns = 0;
  std::chrono::milliseconds handle_delay{0}; // per requested transfer: a manager that lags
  std::chrono::milliseconds complete_delay{0}; // per completed transfer
  std::atomic<int> completed{0};               // completed transfers handled
};

process_manager expiry_manager(expiry_probe& probe) {
  process_manager pm;
  pm.options.name = "expirer";
  pm.options.filter = event_filter::types({"transfer.requested", "transfer.completed"});
  pm.handle = [&probe](process_context& ctx, const event_view& e) -> status {
    auto tid = transfer_id(e);
    if (e.type == "transfer.requested") {
      std::this_thread::sleep_for(probe.handle_delay);
      timestamp_ns due = e.timestamp + probe.delay_ns;
      if (tid == "slow")
        probe.due = due;
      ctx.put("due/" + tid, std::to_string(due));
      return ctx.schedule<xfer::transfer>("expire/" + tid, due, tid, xfer::expire{});
    }
    std::this_thread::sleep_for(probe.complete_delay);
    auto due = ctx.get("due/" + tid);
    if (!due)
      return due.error();
    if (*due)
      ++probe.found_state;
    ctx.erase("due/" + tid);
    ctx.cancel("expire/" + tid);
    ++probe.completed;
    return {};
  };
  return pm;
}

// The keys of read-model table `table` under `prefix`.
std::vector<std::string> keys_of_table(read_model_store& rm, const char* table, std::string_view prefix = "") {
  auto t = rm.table(table);
  REQUIRE(t);
  std::vector<std::string> out;
  REQUIRE(rm.read([&](const read_model_txn& tx) {
    return tx.scan(*t, prefix, [&](std::string_view k, std::string_view) {
      out.emplace_back(k);
      return true;
    });
  }));
  return out;
}

// Full keys of the pending timers (the rows of the runtime's "annal.timers" table: eight
// bytes of due time, then "<manager>/<key>").
std::vector<std::string> pending_timers(runtime& rt) {
  auto out = keys_of_table(rt.read_models(), "annal.timers");
  for (auto& k : out)
    k.erase(0, 8);
  return out;
}

std::vector<recorded_event> events_of(runtime& rt, const std::string& stream) {
  auto evs = rt.store().read_stream(stream);
  REQUIRE(evs);
  return std::move(*evs);
}

} // namespace

TEST_CASE("a durable timer of a process manager fires exactly once across a restart, and a "
          "cancelled one never fires",
          "[process][timer]") {
  test::temp_dir dir;
  expiry_probe probe;
  probe.delay_ns = 3'000'000'000; // 3 s: the runtime is stopped and reopened meanwhile
  global_position requested_at = 0;
  {
    auto rt = open_runtime(dir.path());
    REQUIRE(rt->add_process_manager(expiry_manager(probe)));
    REQUIRE(rt->start());
    REQUIRE(test::all_live(*rt));
    auto a = rt->send<xfer::transfer>("quick", xfer::request{"a", "b", 1}).get();
    REQUIRE(a);
    auto r = rt->send<xfer::transfer>("slow", xfer::request{"a", "b", 1}).get();
    REQUIRE(r);
    requested_at = r->position;
    // "quick" completes before its timer is due: the manager cancels the timer.
    auto c = rt->send<xfer::transfer>("quick", xfer::complete{}).get();
    REQUIRE(c);
    REQUIRE(rt->await_projection("expirer", c->position, 30s));
    CHECK(probe.found_state.load() == 1);
    CHECK(pending_timers(*rt) == std::vector<std::string>{"expirer/expire/slow"});
    REQUIRE(rt->stop());
  }
  REQUIRE(probe.due.load() > 0);
  // The timer must still be pending across the restart, or this test shows nothing.
  REQUIRE(now_ns() < probe.due.load());

  auto rt = open_runtime(dir.path());
  CHECK(status_of(*rt, "slow") == xfer::status::requested);
  REQUIRE(rt->add_process_manager(expiry_manager(probe)));
  REQUIRE(rt->start());
  REQUIRE(reaches(*rt, "slow", xfer::status::expired));
  // Not before it was due, by the timer's deterministic command id.
  auto evs = events_of(*rt, "transfer-slow");
  REQUIRE(evs.size() == 2);
  CHECK(evs[1].type == "transfer.expired");
  CHECK(evs[1].timestamp >= probe.due.load());
  CHECK(evs[1].metadata.command_id
        == "timer/expirer/expire/slow/" + std::to_string(probe.due.load()));
  CHECK(evs[1].metadata.causation_id == std::to_string(requested_at));
  // Fired once: the row is removed after its outcome, and no second event appears.
  REQUIRE(wait_until([&] { return pending_timers(*rt).empty(); }, 30s));
  CHECK(events_of(*rt, "transfer-slow").size() == 2);
  // The cancelled timer never fired (its transfer stays completed, no expiry attempt).
  CHECK(status_of(*rt, "quick") == xfer::status::completed);
  CHECK(events_of(*rt, "transfer-quick").size() == 2);
  REQUIRE(rt->stop());

  // Once more after another restart: nothing left to fire.
  auto again = open_runtime(dir.path());
  REQUIRE(again->add_process_manager(expiry_manager(probe)));
  REQUIRE(again->start());
  CHECK(pending_timers(*again).empty());
  auto head = again->store().last_position();
  REQUIRE(head);
  REQUIRE(again->await_projection("expirer", *head, 30s));
  CHECK(events_of(*again, "transfer-slow").size() == 2);
  REQUIRE(again->stop());
}

namespace {

// A node's say over shards without a cluster: commands run here, and it owns the shards
// the test says it owns.
struct ownership_forwarder final : command_forwarder {
  std::atomic<bool> owns{false};
  bool is_remote(std::string_view) const override { return false; }
  void forward(forwarded_command, std::function<void(command_result)> done) override {
    done(make_error(errc::unavailable, "no other node"));
  }
  bool owns_shard(uint16_t) const override { return owns.load(); }
};

uint16_t shard_of_transfer(const std::string& id) {
  return shard_of_stream(aggregate_traits<xfer::transfer>::stream_id(id), 64); // the default count
}

result<process_shard_state> export_now(runtime& rt, uint16_t shard, std::chrono::milliseconds timeout) {
  auto head = rt.store().last_position();
  REQUIRE(head);
  std::promise<result<process_shard_state>> p;
  rt.export_process_shard(shard, *head, timeout, [&p](result<process_shard_state> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

// The keys of `rows`, sorted.
template <class Row>
std::vector<std::string> keys_of(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows)
    out.push_back(r.key);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

} // namespace

TEST_CASE("a shard's process state reaches its new owner after the take-over, merged without undoing "
          "what the new owner's manager did once its wait for it ran out, and only the owner fires "
          "its timers",
          "[process][timer][shard]") {
  test::temp_dir dir;
  // Three transfers in one shard, one in another.
  const uint16_t shard = 7;
  std::vector<std::string> in;
  std::string out;
  for (int i = 0; i < 10000 && (in.size() < 3 || out.empty()); ++i) {
    auto id = "p" + std::to_string(i);
    if (shard_of_transfer(id) != shard)
      out = out.empty() ? id : out;
    else if (in.size() < 3)
      in.push_back(id);
  }
  REQUIRE(in.size() == 3);

  expiry_probe probe_a, probe_b;
  probe_a.delay_ns = probe_b.delay_ns = 4'000'000'000; // due after the hand-off
  probe_a.handle_delay = 400ms;                         // a's manager lags behind the commits
  auto a = open_runtime(dir.path() / "a");
  REQUIRE(a->add_process_manager(expiry_manager(probe_a)));
  REQUIRE(a->start());
  auto requested_at = now_ns();
  for (const auto& id : {in[0], out, in[1], in[2]})
    REQUIRE(a->send<xfer::transfer>(id, xfer::request{"x", "y", 1}).get());
  REQUIRE(a->store().fence_shard(shard, true)); // handed over: nothing more of it commits on a

  // b takes the shard over, expecting a's rows, and its manager acts on in[1] first: it
  // holds the event back for 300 ms, then (a's rows still not here) handles it without them.
  auto b = open_runtime(dir.path() / "b", 300ms);
  auto ownership = std::make_shared<ownership_forwarder>();
  REQUIRE(b->set_forwarder(ownership));
  REQUIRE(b->add_process_manager(expiry_manager(probe_b)));
  REQUIRE(b->start());
  REQUIRE(b->expect_process_shard(shard, 2));
  test::copy_shard(a->store(), *b, shard);
  auto done1 = b->send<xfer::transfer>(in[1], xfer::complete{}).get();
  REQUIRE(done1);
  REQUIRE(b->await_projection("expirer", done1->position, 30s));
  REQUIRE(wait_until([&] { return probe_b.completed.load() == 1; }, 30s));
  CHECK(probe_b.found_state.load() == 0); // a's rows are not here yet
  CHECK(b->expects_process_shard(shard));

  // a's rows, once its lagging manager handled everything it committed of the shard.
  auto rows = export_now(*a, shard, 10s);
  REQUIRE(rows);
  auto all_due = sorted({"expirer/due/" + in[0], "expirer/due/" + in[1], "expirer/due/" + in[2]});
  CHECK(keys_of(rows->state) == all_due);
  CHECK(keys_of(rows->timers)
        == sorted({"expirer/expire/" + in[0], "expirer/expire/" + in[1], "expirer/expire/" + in[2]}));
  auto taken = b->import_process_shard(shard, 2, *rows);
  REQUIRE(taken);
  CHECK(*taken == 4); // in[0] and in[2]: in[1]'s state and timer b's manager erased meanwhile
  auto again = b->import_process_shard(shard, 2, *rows);
  REQUIRE(again);
  CHECK(*again == 0); // a repeated hand-off changes nothing
  auto dropped = a->drop_process_shard(shard, a->process_shard_takes(shard), 2);
  REQUIRE(dropped);
  CHECK(*dropped);
  auto done = a->process_hand_offs_done();
  REQUIRE(done);
  CHECK(*done == std::map<uint16_t, uint64_t>{{shard, 2}}); // the hand-off of epoch 2 is no longer owed
  auto held = a->holds_process_shard(shard);
  REQUIRE(held);
  CHECK_FALSE(*held);
  CHECK(pending_timers(*a) == std::vector<std::string>{"expirer/expire/" + out});
  CHECK(sorted(pending_timers(*b)) == sorted({"expirer/expire/" + in[0], "expirer/expire/" + in[2]}));

  // b continues in[2] with a's state: completing it finds the due time, cancels the timer.
  auto done2 = b->send<xfer::transfer>(in[2], xfer::complete{}).get();
  REQUIRE(done2);
  REQUIRE(b->await_projection("expirer", done2->position, 30s));
  CHECK(probe_b.found_state.load() == 1);
  CHECK(pending_timers(*b) == std::vector<std::string>{"expirer/expire/" + in[0]});

  // Past the due time: a fires the timer of the shard it kept; b, not the owner yet by its
  // forwarder's say, holds in[0]'s until it is.
  REQUIRE(reaches(*a, out, xfer::status::expired));
  REQUIRE(wait_until([&] { return now_ns() > requested_at + probe_a.delay_ns + 800'000'000; }, 30s, 50ms));
  CHECK(status_of(*b, in[0]) == xfer::status::requested);
  CHECK(pending_timers(*b) == std::vector<std::string>{"expirer/expire/" + in[0]});
  ownership->owns = true;
  REQUIRE(reaches(*b, in[0], xfer::status::expired));
  CHECK(status_of(*b, in[1]) == xfer::status::completed);
  CHECK(status_of(*b, in[2]) == xfer::status::completed);
  CHECK(status_of(*a, in[0]) == xfer::status::requested); // a's copy never fired
  REQUIRE(b->stop());
  REQUIRE(a->stop());
}

namespace {

// The events manager "expirer" of `rt` holds back (rows of annal.process_deferred).
std::size_t held_back(runtime& rt) {
  return keys_of_table(rt.read_models(), "annal.process_deferred", "expirer").size();
}

} // namespace

TEST_CASE("a new owner's process manager holds a taken-over shard's events back, across a restart, "
          "until the old owner's state arrived, then handles them with it before the shard may "
          "move on",
          "[process][timer][shard]") {
  test::temp_dir dir;
  const uint16_t shard = 11;
  std::vector<std::string> in;
  for (int i = 0; i < 10000 && in.size() < 3; ++i)
    if (auto id = "q" + std::to_string(i); shard_of_transfer(id) == shard)
      in.push_back(id);
  REQUIRE(in.size() == 3);

  expiry_probe probe_a, probe_b;
  probe_a.delay_ns = probe_b.delay_ns = 60'000'000'000; // never due during the test
  probe_b.complete_delay = 300ms; // the shard stays held while its events run
  auto a = open_runtime(dir.path() / "a");
  REQUIRE(a->add_process_manager(expiry_manager(probe_a)));
  REQUIRE(a->start());
  for (const auto& id : {in[0], in[1]})
    REQUIRE(a->send<xfer::transfer>(id, xfer::request{"x", "y", 1}).get());
  REQUIRE(a->store().fence_shard(shard, true));

  auto start_b = [&] {
    auto b = open_runtime(dir.path() / "b");
    REQUIRE(b->add_process_manager(expiry_manager(probe_b)));
    REQUIRE(b->start());
    return b;
  };
  auto complete_on = [&](runtime& b, const std::string& id) {
    auto done = b.send<xfer::transfer>(id, xfer::complete{}).get();
    REQUIRE(done);
    // The checkpoint passes a held-back event: nothing waits on it.
    REQUIRE(b.await_projection("expirer", done->position, 30s));
  };
  {
    auto b = start_b();
    REQUIRE(b->expect_process_shard(shard, 2));
    test::copy_shard(a->store(), *b, shard);
    complete_on(*b, in[0]);
    CHECK(held_back(*b) == 1);
    REQUIRE(b->stop());
  }
  auto b = start_b();
  CHECK(b->expects_process_shard(shard)); // still waiting, and holding an event back
  complete_on(*b, in[1]);                 // held back too: after the first, in log order
  CHECK(held_back(*b) == 2);
  CHECK(probe_b.completed.load() == 0);
  CHECK(pending_timers(*b).empty());

  auto rows = export_now(*a, shard, 10s);
  REQUIRE(rows);
  auto taken = b->import_process_shard(shard, 2, *rows);
  REQUIRE(taken);
  CHECK(*taken == 4); // both transfers' due times and timers: b wrote nothing meanwhile
  // The shard counts as expected until both events ran, so it cannot move on before.
  REQUIRE(wait_until([&] { return !b->expects_process_shard(shard); }, 30s, 5ms));
  CHECK(probe_b.completed.load() == 2);
  CHECK(probe_b.found_state.load() == 2); // each saw the due time a's manager wrote
  CHECK(pending_timers(*b).empty());      // and cancelled a's timer
  CHECK(held_back(*b) == 0);
  CHECK(status_of(*b, in[0]) == xfer::status::completed);

  // An event of the shard after that runs at once.
  auto r = b->send<xfer::transfer>(in[2], xfer::request{"x", "y", 1}).get();
  REQUIRE(r);
  REQUIRE(b->await_projection("expirer", r->position, 30s));
  CHECK(pending_timers(*b) == std::vector<std::string>{"expirer/expire/" + in[2]});
  CHECK(held_back(*b) == 0);
  REQUIRE(b->stop());
  REQUIRE(a->stop());
}

TEST_CASE("a shard takes only the process state of the hand-over it expects: a copy from an "
          "earlier hand-over changes nothing, a later one waits, and a node taking a shard back "
          "drops what it kept of it but keeps what it merged after",
          "[process][timer][shard]") {
  test::temp_dir dir;
  expiry_probe probe_a, probe_b;
  probe_a.delay_ns = probe_b.delay_ns = 60'000'000'000; // never due during the test
  auto a = open_runtime(dir.path() / "a");
  REQUIRE(a->add_process_manager(expiry_manager(probe_a)));
  REQUIRE(a->start());
  auto done = a->send<xfer::transfer>("chain", xfer::request{"x", "y", 1}).get();
  REQUIRE(done);
  auto shard = shard_of_transfer("chain");
  auto takes = a->process_shard_takes(shard); // as a hand-off reads it before its export
  auto rows = export_now(*a, shard, 10s);
  REQUIRE(rows);
  REQUIRE(rows->timers.size() == 1);

  auto b = open_runtime(dir.path() / "b");
  REQUIRE(b->add_process_manager(expiry_manager(probe_b)));
  REQUIRE(b->start());
  CHECK_FALSE(b->expects_process_shard(shard));
  REQUIRE(b->expect_process_shard(shard, 3)); // b took the shard at epoch 3
  CHECK(b->expects_process_shard(shard));
  auto later = b->import_process_shard(shard, 4, *rows);
  REQUIRE_FALSE(later);
  CHECK(later.error().code == errc::unavailable);
  auto earlier = b->import_process_shard(shard, 2, *rows); // merged by the owner at epoch 2
  REQUIRE(earlier);
  CHECK(*earlier == 0);
  CHECK(b->expects_process_shard(shard)); // still waiting for epoch 3's
  CHECK(pending_timers(*b).empty());
  auto expected = b->import_process_shard(shard, 3, *rows);
  REQUIRE(expected);
  CHECK(*expected == rows->state.size() + rows->timers.size());
  CHECK_FALSE(b->expects_process_shard(shard));
  CHECK(pending_timers(*b) == std::vector<std::string>{"expirer/expire/chain"});
  auto b_holds = b->process_shards_held(64);
  REQUIRE(b_holds);
  CHECK(*b_holds == std::vector<uint16_t>{shard});

  // a never heard that its rows arrived, and takes the shard back at epoch 5: its copy is
  // stale (b's managers may have changed the rows since), b's hand-off brings the truth.
  REQUIRE(a->expect_process_shard(shard, 5));
  auto held = a->holds_process_shard(shard);
  REQUIRE(held);
  CHECK_FALSE(*held);
  CHECK(pending_timers(*a).empty());
  auto a_holds = a->process_shards_held(64);
  REQUIRE(a_holds);
  CHECK(a_holds->empty());
  auto back = a->import_process_shard(shard, 5, *rows); // b's hand-off
  REQUIRE(back);
  CHECK(*back == rows->state.size() + rows->timers.size());
  // b's late answer to a's first hand-off: a owns those rows now, they stay.
  auto dropped = a->drop_process_shard(shard, takes, 2);
  REQUIRE(dropped);
  CHECK_FALSE(*dropped);
  CHECK(pending_timers(*a) == std::vector<std::string>{"expirer/expire/chain"});
  REQUIRE(b->stop());
  REQUIRE(a->stop());
}

TEST_CASE("a process manager that is faulted stops its shard's process state from moving",
          "[process][shard]") {
  test::temp_dir dir;
  auto rt = open_runtime(dir.path());
  process_manager pm;
  pm.options.name = "broken";
  pm.options.on_failure = failure_policy::stop;
  pm.options.max_retries = 0;
  pm.handle = [](process_context&, const event_view&) -> status { return make_error(errc::io_error, "down"); };
  REQUIRE(rt->add_process_manager(pm));
  REQUIRE(rt->start());
  REQUIRE(rt->send<xfer::transfer>("f", xfer::request{"x", "y", 1}).get());
  auto rows = export_now(*rt, shard_of_transfer("f"), 30s);
  REQUIRE_FALSE(rows);
  CHECK(rows.error().code == errc::unavailable);
  CHECK_THAT(rows.error().message, Catch::Contains("'broken'"));
  REQUIRE(rt->stop());
}

TEST_CASE("a process manager with the skip policy parks a failing event in the documented "
          "format",
          "[process]") {
  test::temp_dir dir;
  auto rt_ptr = open_runtime(dir.path());
  auto& rt = *rt_ptr;
  process_manager pm;
  pm.options.name = "picky";
  pm.options.filter = event_filter::types({"transfer.requested"});
  pm.options.on_failure = failure_policy::skip;
  pm.options.max_retries = 0;
  pm.handle = [](process_context&, const event_view& e) -> status {
    if (transfer_id(e) == "bad")
      return make_error(errc::rejected, "picky refuses bad");
    return {};
  };
  REQUIRE(rt.add_process_manager(pm));
  REQUIRE(rt.start());
  REQUIRE(test::all_live(rt));
  auto bad = rt.send<xfer::transfer>("bad", xfer::request{"a", "b", 1}).get();
  REQUIRE(bad);
  auto good = rt.send<xfer::transfer>("good", xfer::request{"a", "b", 1}).get();
  REQUIRE(good);
  REQUIRE(rt.await_projection("picky", good->position, 30s));
  CHECK(rt.projection("picky")->parked == 1);
  auto parked_t = rt.read_models().table(parked_table_name);
  REQUIRE(parked_t);
  std::vector<std::string> keys;
  REQUIRE(rt.read_models().read([&](const read_model_txn& tx) {
    return tx.scan(*parked_t, "", [&](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      return true;
    });
  }));
  std::string expected = "picky";
  expected.push_back('\0');
  expected += test::be64(bad->position);
  CHECK(keys == std::vector<std::string>{expected});
  REQUIRE(rt.stop());
}

namespace {

// What the ordering probe saw: "start <stream>@<pos>" when a handler began, "end ..." when
// its continuation ran.
struct order_probe {
  std::mutex mx;
  std::vector<std::string> seen;
  void note(std::string s) {
    std::lock_guard<std::mutex> guard{mx};
    seen.push_back(std::move(s));
  }
};

process_manager echo_manager(order_probe& probe) {
  process_manager pm;
  pm.options.name = "echo";
  pm.options.filter = event_filter::types({"transfer.requested", "transfer.failed"});
  pm.handle = [&probe](process_context& ctx, const event_view& e) -> status {
    auto tag = std::string{e.stream_id} + "@" + std::to_string(e.position);
    probe.note("start " + tag);
    auto sent = ctx.send<bank::account>("sink-" + transfer_id(e), bank::deposit{1});
    ctx.then(sent, [&probe, tag](process_context&, const command_result& r) -> status {
      probe.note("end " + tag);
      return r ? status{} : status{r.error()};
    });
    return {};
  };
  return pm;
}

} // namespace

TEST_CASE("a process manager handles the events of different instances at once and those of "
          "one instance in order, each after the previous one's continuations",
          "[process]") {
  test::temp_dir dir;
  {
    // The events exist before the manager starts: it gets them as one catch-up batch.
    auto rt = open_runtime(dir.path());
    REQUIRE(rt->start());
    for (const char* id : {"a", "b"})
      REQUIRE(rt->send<bank::account>(std::string{"sink-"} + id, bank::open{id}).get());
    for (const char* id : {"a", "b"})
      REQUIRE(rt->send<xfer::transfer>(id, xfer::request{"x", "y", 1}).get());
    for (const char* id : {"a", "b"})
      REQUIRE(rt->send<xfer::transfer>(id, xfer::fail{"no"}).get());
    REQUIRE(rt->stop());
  }
  auto rt = open_runtime(dir.path());
  order_probe probe;
  REQUIRE(rt->add_process_manager(echo_manager(probe)));
  REQUIRE(rt->start());
  auto head = rt->store().last_position();
  REQUIRE(head);
  REQUIRE(rt->await_projection("echo", *head, 30s));
  std::lock_guard<std::mutex> guard{probe.mx};
  auto& seen = probe.seen;
  REQUIRE(seen.size() == 8);
  auto at = [&](const std::string& s) {
    return std::find(seen.begin(), seen.end(), s) - seen.begin();
  };
  // The first events of both instances started before either was answered: no thread
  // blocked on the first command.
  CHECK(seen[0].rfind("start ", 0) == 0);
  CHECK(seen[1].rfind("start ", 0) == 0);
  // Per instance: start, end, start, end, in position order.
  for (const char* stream : {"transfer-a", "transfer-b"}) {
    std::vector<std::string> mine;
    for (const auto& s : seen)
      if (s.find(stream) != std::string::npos)
        mine.push_back(s.substr(0, s.find(' ')));
    CHECK(mine == std::vector<std::string>{"start", "end", "start", "end"});
  }
  CHECK(at("start transfer-a@" + std::to_string(3)) < at("end transfer-a@3"));
  CHECK(rt->load<bank::account>("sink-a")->state.balance == 2);
  CHECK(rt->load<bank::account>("sink-b")->state.balance == 2);
  REQUIRE(rt->stop());
}

TEST_CASE("hand_over_checkpoints moves retired managers' progress to their successors at the "
          "lowest position, before any event one of them holds back",
          "[process]") {
  test::temp_dir dir;
  auto rt = open_runtime(dir.path());
  auto& rm = rt->read_models();
  REQUIRE(rm.save_checkpoint("pm/f-0", 40));
  REQUIRE(rm.save_checkpoint("pm/f-1", 25));
  REQUIRE(rm.save_checkpoint("pm/f-2", 31));
  REQUIRE(rm.save_checkpoint("pm/other", 3));
  auto retired = [](std::string_view n) { return n.rfind("f-", 0) == 0; };
  REQUIRE(hand_over_checkpoints(rm, retired, {"f-0"}));
  CHECK(rm.find_checkpoint("pm/f-0").value() == std::optional<global_position>{25});
  CHECK(rm.find_checkpoint("pm/f-1").value() == std::nullopt);
  CHECK(rm.find_checkpoint("pm/f-2").value() == std::nullopt);
  CHECK(rm.find_checkpoint("pm/other").value() == std::optional<global_position>{3});
  // Back to three: the orders are shared out anew, so all three start where the one was —
  // or before the event it holds back for its shard's process state (position 50, behind
  // its checkpoint), which the successors handle again.
  REQUIRE(rm.save_checkpoint("pm/f-0", 60));
  auto deferred = rm.table("annal.process_deferred");
  REQUIRE(deferred);
  std::string held{"f-0"};
  held.push_back('\0');
  held += std::string{'\0', '\7', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\x32'}; // shard 7, position 50
  REQUIRE(rm.write([&](read_model_txn& t) { return t.put(*deferred, held, {}); }));
  REQUIRE(hand_over_checkpoints(rm, retired, {"f-0", "f-1", "f-2"}));
  for (const char* n : {"pm/f-0", "pm/f-1", "pm/f-2"})
    CHECK(rm.find_checkpoint(n).value() == std::optional<global_position>{49});
  CHECK(keys_of_table(rm, "annal.process_deferred").empty()); // handled again from the checkpoints
  // Unchanged layout: nothing moves.
  REQUIRE(rm.save_checkpoint("pm/f-1", 70));
  REQUIRE(hand_over_checkpoints(rm, retired, {"f-0", "f-1", "f-2"}));
  CHECK(rm.find_checkpoint("pm/f-1").value() == std::optional<global_position>{70});
  REQUIRE(hand_over_checkpoints(rm, retired, {"f-3"}));
  CHECK(rm.find_checkpoint("pm/f-3").value() == std::optional<global_position>{49});
  CHECK(rm.find_checkpoint("pm/f-0").value() == std::nullopt);
}

TEST_CASE("is_transient says which errors a retry of the same command may cure, the one rule "
          "of process managers and timers",
          "[process][timer]") {
  for (auto code : {errc::storage_full, errc::io_error, errc::timeout, errc::unavailable, errc::overloaded})
    CHECK(is_transient(code));
  for (auto code : {errc::conflict, errc::rejected, errc::not_found, errc::already_exists,
                    errc::stream_deleted, errc::corrupt, errc::unknown_event_type, errc::bad_request})
    CHECK_FALSE(is_transient(code));
}

namespace gate {

// An aggregate whose decision waits until the test opens the gate: a command that stays
// in flight for as long as the test wants.
struct pass {
  template <class Archive>
  void serialize(Archive&) {}
};
struct passed {
  static constexpr std::string_view event_type = "gate.passed";
  template <class Archive>
  void serialize(Archive&) {}
};
struct state {
  int passes = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(passes); }
};

std::mutex mx;
std::condition_variable cv;
bool open = false;
std::atomic<int> entered{0};

struct turnstile {
  using state = gate::state;
  using command = std::variant<pass>;
  using event = std::variant<passed>;
  static constexpr std::string_view category = "gate";

  static decision<event> decide(const state&, const command&) {
    ++entered;
    std::unique_lock<std::mutex> lock{mx};
    cv.wait_for(lock, 30s, [] { return open; });
    return passed{};
  }
  static void evolve(state& s, const event&) { ++s.passes; }
};

void set_open(bool value) {
  {
    std::lock_guard<std::mutex> guard{mx};
    open = value;
  }
  cv.notify_all();
}

} // namespace gate

TEST_CASE("a process manager starts the next batch while an earlier batch's command is in flight, "
          "and its position passes an event only once that event is handled",
          "[process]") {
  test::temp_dir dir;
  gate::set_open(false);
  gate::entered = 0;
  auto rt = open_runtime(dir.path());
  REQUIRE(rt->register_aggregate<gate::turnstile>());
  process_manager pm;
  pm.options.name = "pipeline";
  pm.options.filter = event_filter::types({"transfer.requested"});
  pm.handle = [](process_context& ctx, const event_view& e) -> status {
    auto tid = transfer_id(e);
    if (tid == "slow") { // waits at the gate until the test opens it
      auto ref = ctx.send<gate::turnstile>("g", gate::pass{});
      ctx.then(ref, [](process_context&, const command_result& r) { return r ? status{} : status{r.error()}; });
      return {};
    }
    ctx.send<xfer::transfer>(tid, xfer::complete{});
    return {};
  };
  REQUIRE(rt->add_process_manager(std::move(pm)));
  REQUIRE(rt->start());
  auto slow = rt->send<xfer::transfer>("slow", xfer::request{"x", "y", 1}).get();
  REQUIRE(slow);
  REQUIRE(wait_until([] { return gate::entered > 0; }, 10s, 5ms));
  // A later event, in a batch of its own, is handled while the gate holds the first one.
  REQUIRE(rt->send<xfer::transfer>("fast", xfer::request{"x", "y", 1}).get());
  CHECK(reaches(*rt, "fast", xfer::status::completed, 5s));
  // The manager's position stays before the event still in flight.
  CHECK_FALSE(rt->await_projection("pipeline", slow->position, 200ms));
  gate::set_open(true);
  // With no event after it, the reply alone moves the manager on.
  auto head = rt->store().last_position();
  REQUIRE(head);
  CHECK(rt->await_projection("pipeline", *head, 10s));
  REQUIRE(rt->stop());
}
