// Deterministic tests of the aggregate instance and router actors on CAF's test
// coordinator (scheduler.policy = testing: no worker threads; the test runs every job).
// A fake journal writer records each append_request and answers only when the test says
// so. Streams are fresh (or stay empty), so an instance's (re)load reads the stream head
// synchronously and never leaves the deterministic scheduler for the loader pool.
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "annal/detail/aggregate_instance.hpp"
#include "annal/detail/aggregate_router.hpp"
#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "bank_account.hpp"
#include "counter_aggregate.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::detail;

namespace {

struct fake_writer_state {
  std::vector<append_request> requests;
  std::vector<caf::actor> senders;
  static inline const char* name = "test.fake_writer";
};

caf::behavior fake_writer(caf::stateful_actor<fake_writer_state>* self) {
  return {
    [=](append_atom, append_request& r) {
      self->state.requests.push_back(std::move(r));
      self->state.senders.push_back(caf::actor_cast<caf::actor>(self->current_sender()));
    },
  };
}

std::unique_ptr<event_store> open_store(const test::temp_dir& dir) {
  store_options o;
  o.dir = dir / "journal";
  o.mode = durability::no_sync;
  auto s = event_store::open(o);
  if (!s)
    throw std::runtime_error("cannot open the store: " + s.error().to_string());
  return std::move(*s);
}

struct det_fixture {
  struct reply {
    int slot = 0;
    command_result result = make_error(errc::io_error, "unset");
  };

  test::temp_dir dir;
  std::unique_ptr<event_store> store; // outlives the actor system (declared before it)
  event_registry registry;
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::actor writer;
  std::vector<caf::actor> spawned;
  std::vector<reply> replies;

  static caf::actor_system_config& init(caf::actor_system_config& c) {
    c.set("scheduler.policy", caf::atom("testing"));
    return c;
  }

  det_fixture()
    : store(open_store(dir)), sys(init(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    aggregate_traits<bank::account>::register_events(registry);
    aggregate_traits<ctr::counter>::register_events(registry);
    writer = sys.spawn(fake_writer);
    sched.run();
  }

  ~det_fixture() {
    for (auto& a : writer_state().senders)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    caf::anon_send_exit(writer, caf::exit_reason::kill);
    sched.run();
    spawned.clear();
    writer = nullptr;
  }

  template <class State, class Handle>
  State& state_of(const Handle& h) {
    return dynamic_cast<caf::stateful_actor<State>&>(*caf::actor_cast<caf::abstract_actor*>(h)).state;
  }

  fake_writer_state& writer_state() { return state_of<fake_writer_state>(writer); }

  std::shared_ptr<const aggregate_context> context(aggregate_options opts = {}) {
    auto ctx = std::make_shared<aggregate_context>();
    ctx->store = store.get();
    ctx->registry = &registry;
    ctx->writer = writer;
    ctx->loader = nullptr; // fresh streams never need it
    ctx->options = opts;
    return ctx;
  }

  template <class A>
  caf::actor spawn_instance(const std::string& stream) {
    auto a = sys.spawn(aggregate_instance<A>, context(), stream);
    spawned.push_back(a);
    sched.run();
    return a;
  }

  // A command whose reply is recorded under `slot`.
  template <class A>
  command_envelope<A> command(std::string id, typename A::command cmd, int slot,
                              command_options o = {}) {
    auto deadline = std::chrono::steady_clock::now() + o.timeout;
    return command_envelope<A>{std::move(id), std::move(cmd), std::move(o), deadline,
                               std::make_shared<annal::detail::once_callback>(
                                 [this, slot](command_result r) {
                                   replies.push_back({slot, std::move(r)});
                                 })};
  }

  // Answers the i-th recorded append with `outcomes` (one message, several outcomes).
  void answer(std::size_t sender_of, append_outcomes outcomes) {
    caf::anon_send(writer_state().senders.at(sender_of), appended_atom::value, std::move(outcomes));
    sched.run();
  }

  // Commits the i-th recorded append to the real store; its outcome.
  result<append_result> commit(std::size_t i) {
    auto& a = writer_state().requests.at(i).append;
    return store->append(a.stream_id, a.expected, a.events);
  }

  uint64_t token(std::size_t i) { return writer_state().requests.at(i).token; }

  void ack(std::size_t i) { answer(i, {append_outcome{token(i), commit(i)}}); }

  void fail(std::size_t i, errc code) {
    answer(i, {append_outcome{token(i), make_error(code, "injected")}});
  }
};

} // namespace

TEST_CASE_METHOD(det_fixture, "a second command is decided and appended before the first append is acknowledged",
                 "[aggregate][deterministic]") {
  auto inst = spawn_instance<bank::account>("account-p");
  caf::anon_send(inst, command<bank::account>("p", bank::open{"ann"}, 0));
  caf::anon_send(inst, command<bank::account>("p", bank::deposit{5}, 1));
  sched.run();

  auto& w = writer_state();
  REQUIRE(w.requests.size() == 2);
  CHECK(w.requests[0].append.stream_id == "account-p");
  CHECK(w.requests[0].append.expected == expected_version::no_stream());
  CHECK(w.requests[1].append.expected == expected_version::exact(1));
  REQUIRE(w.requests[0].append.events.size() == 1);
  REQUIRE(w.requests[1].append.events.size() == 1);
  CHECK(w.requests[0].append.events[0].type == "bank.opened");
  CHECK(w.requests[1].append.events[0].type == "bank.deposited");
  CHECK(w.requests[0].token != w.requests[1].token);
  CHECK(replies.empty()); // nothing is acknowledged before the writer says so
  auto& st = state_of<instance_state<bank::account>>(inst);
  CHECK(st.version == 2);
  CHECK(st.in_flight.size() == 2);

  ack(0);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].slot == 0);
  REQUIRE(replies[0].result);
  CHECK(replies[0].result->version == 1);
  CHECK(replies[0].result->position == 1);

  ack(1);
  REQUIRE(replies.size() == 2);
  CHECK(replies[1].slot == 1);
  REQUIRE(replies[1].result);
  CHECK(replies[1].result->version == 2);
  CHECK(replies[1].result->position == 2);
  CHECK(st.in_flight.empty());
  CHECK(st.tentative->balance == 5);
}

TEST_CASE_METHOD(det_fixture, "replies of pipelined commands are delivered in order after the writer acknowledges",
                 "[aggregate][deterministic]") {
  auto inst = spawn_instance<bank::account>("account-o");
  caf::anon_send(inst, command<bank::account>("o", bank::open{"ann"}, 0));
  caf::anon_send(inst, command<bank::account>("o", bank::touch{}, 1)); // no event: waits
  caf::anon_send(inst, command<bank::account>("o", bank::deposit{5}, 2));
  caf::anon_send(inst, command<bank::account>("o", bank::withdraw{500}, 3)); // rejected now
  caf::anon_send(inst, command<bank::account>("o", bank::deposit{6}, 4));
  sched.run();
  REQUIRE(writer_state().requests.size() == 3);
  // A rejection needs no durability; everything else waits.
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].slot == 3);
  CHECK(replies[0].result.code() == errc::rejected);
  replies.clear();

  // One commit acknowledges all three appends in one message.
  append_outcomes all;
  for (std::size_t i = 0; i < 3; ++i)
    all.push_back(append_outcome{token(i), commit(i)});
  answer(0, std::move(all));
  REQUIRE(replies.size() == 4);
  std::vector<int> order;
  std::vector<stream_version> versions;
  for (auto& r : replies) {
    order.push_back(r.slot);
    REQUIRE(r.result);
    versions.push_back(r.result->version);
  }
  CHECK(order == std::vector<int>{0, 1, 2, 4});
  CHECK(versions == std::vector<stream_version>{1, 1, 2, 3});
  CHECK(replies[1].result->position == replies[0].result->position);
}

TEST_CASE_METHOD(det_fixture, "a failed first append fails the pipelined ones behind it and triggers a rehydration",
                 "[aggregate][deterministic][faults]") {
  auto inst = spawn_instance<bank::account>("account-f");
  caf::anon_send(inst, command<bank::account>("f", bank::open{"ann"}, 0));
  caf::anon_send(inst, command<bank::account>("f", bank::deposit{5}, 1));
  caf::anon_send(inst, command<bank::account>("f", bank::deposit{7}, 2));
  sched.run();
  REQUIRE(writer_state().requests.size() == 3);
  CHECK(writer_state().requests[2].append.expected == expected_version::exact(2));
  auto& st = state_of<instance_state<bank::account>>(inst);
  CHECK(st.version == 3);
  CHECK(st.tentative->balance == 12);

  fail(0, errc::io_error);
  REQUIRE(replies.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(replies[std::size_t(i)].slot == i);
    CHECK(replies[std::size_t(i)].result.code() == errc::io_error);
  }
  // Rebuilt from the journal, which holds nothing.
  CHECK(st.in_flight.empty());
  CHECK(st.version == 0);
  CHECK(st.current == instance_state<bank::account>::phase::running);
  REQUIRE(st.tentative);
  CHECK_FALSE(st.tentative->is_open);
  CHECK(st.tentative->balance == 0);

  // The writer's late verdicts on the appends behind it change nothing.
  answer(0, {append_outcome{token(1), make_error(errc::conflict, "late")},
             append_outcome{token(2), make_error(errc::conflict, "late")}});
  CHECK(replies.size() == 3);

  caf::anon_send(inst, command<bank::account>("f", bank::deposit{1}, 3));
  sched.run();
  REQUIRE(replies.size() == 4);
  CHECK(replies[3].result.code() == errc::rejected); // not open: the journal's truth
  CHECK(writer_state().requests.size() == 3);

  caf::anon_send(inst, command<bank::account>("f", bank::open{"again"}, 4));
  sched.run();
  REQUIRE(writer_state().requests.size() == 4);
  CHECK(writer_state().requests[3].append.expected == expected_version::no_stream());
  ack(3);
  REQUIRE(replies.size() == 5);
  REQUIRE(replies[4].result);
  CHECK(replies[4].result->version == 1);
}

TEST_CASE_METHOD(det_fixture, "an in-flight duplicate command id waits for the first run's result",
                 "[aggregate][deterministic][idempotency]") {
  auto inst = spawn_instance<bank::account>("account-i");
  command_options o;
  o.command_id = "cmd-1";
  caf::anon_send(inst, command<bank::account>("i", bank::open{"ann"}, 0, o));
  caf::anon_send(inst, command<bank::account>("i", bank::open{"ann"}, 1, o));
  sched.run();
  CHECK(writer_state().requests.size() == 1);
  CHECK(replies.empty());
  ack(0);
  REQUIRE(replies.size() == 2);
  REQUIRE(replies[0].result);
  REQUIRE(replies[1].result);
  CHECK_FALSE(replies[0].result->duplicate);
  CHECK(replies[1].result->duplicate);
  CHECK(replies[1].result->version == replies[0].result->version);
  CHECK(replies[1].result->position == replies[0].result->position);
  caf::anon_send(inst, command<bank::account>("i", bank::deposit{9}, 2, o));
  sched.run();
  REQUIRE(replies.size() == 3);
  REQUIRE(replies[2].result);
  CHECK(replies[2].result->duplicate);
  CHECK(replies[2].result->version == 1);
  CHECK(writer_state().requests.size() == 1);
}

TEST_CASE_METHOD(det_fixture, "a command for a passivating instance waits at the router for a fresh instance",
                 "[aggregate][deterministic][passivation]") {
  aggregate_options opts;
  opts.max_live = 1;
  opts.idle_timeout = std::chrono::hours(1);
  auto router = sys.spawn(aggregate_router<ctr::counter>, context(opts),
                          std::shared_ptr<instance_directory>{});
  // (no directory: every command through the router)
  spawned.push_back(router);
  sched.run();
  auto& rs = state_of<router_state<ctr::counter>>(router);

  caf::anon_send(router, command<ctr::counter>("a", ctr::add{1, "a1"}, 0));
  sched.run();
  REQUIRE(writer_state().requests.size() == 1);
  // A second id pushes "a" out (max_live = 1); "a" still has an append in flight.
  caf::anon_send(router, command<ctr::counter>("b", ctr::add{2, "b1"}, 1));
  sched.run();
  REQUIRE(writer_state().requests.size() == 2);
  CHECK(rs.live == 1);
  REQUIRE(rs.instances.count("a") == 1);
  CHECK(rs.instances.at("a").stopping);
  // A command for "a" now waits at the router: no second instance of "a" runs.
  caf::anon_send(router, command<ctr::counter>("a", ctr::add{3, "a2"}, 2));
  sched.run();
  CHECK(writer_state().requests.size() == 2);
  CHECK(rs.instances.at("a").parked.size() == 1);
  CHECK(replies.empty());

  // The old instance finishes its in-flight append (here: it fails, so the journal stays
  // empty and the fresh instance needs no loader) and goes back to the router, which has
  // it serve "a" afresh: the same actor, recycled, decides on the journal's state.
  fail(0, errc::io_error);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].slot == 0);
  CHECK(replies[0].result.code() == errc::io_error);
  REQUIRE(writer_state().requests.size() == 3);
  auto& w = writer_state();
  CHECK(w.requests[2].append.stream_id == "counter-a");
  CHECK(w.requests[2].append.expected == expected_version::no_stream());
  CHECK(w.senders[2] == w.senders[0]);
  CHECK(rs.spare.empty());
  CHECK(rs.instances.at("a").parked.empty());
  CHECK(rs.live == 1);

  ack(1);
  ack(2);
  REQUIRE(replies.size() == 3);
  CHECK(replies[1].slot == 1);
  CHECK(replies[2].slot == 2);
  REQUIRE(replies[1].result);
  REQUIRE(replies[2].result);
  CHECK(replies[2].result->version == 1);
  // "b" was passivated to make room and is gone once its append was answered.
  CHECK(rs.instances.count("b") == 0);
  CHECK(rs.instances.count("a") == 1);
}

TEST_CASE_METHOD(det_fixture, "after a throwing evolve on an idle instance the next command runs on the rebuilt state",
                 "[aggregate][deterministic][faults]") {
  auto inst = spawn_instance<bank::account>("account-z");
  caf::anon_send(inst, command<bank::account>("z", bank::poison{}, 0));
  sched.run();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].result.code() == errc::handler_fault);
  caf::anon_send(inst, command<bank::account>("z", bank::open{"zed"}, 1));
  sched.run();
  auto& st = state_of<instance_state<bank::account>>(inst);
  CHECK_FALSE(st.reload_pending);
  CHECK(st.waiting.empty());
  REQUIRE(writer_state().requests.size() == 1);
  CHECK(writer_state().requests[0].append.expected == expected_version::no_stream());
  ack(0);
  REQUIRE(replies.size() == 2);
  REQUIRE(replies[1].result);
  CHECK(replies[1].result->version == 1);
  CHECK(st.tentative->owner == "zed");
}

TEST_CASE_METHOD(det_fixture, "the router passivates the least recently used instance beyond max_live",
                 "[aggregate][deterministic][router][passivation]") {
  aggregate_options opts;
  opts.max_live = 2;
  opts.idle_timeout = std::chrono::hours(1); // no idle passivation (nor do timers fire here)
  auto router = sys.spawn(aggregate_router<bank::account>, context(opts),
                          std::shared_ptr<instance_directory>{});
  spawned.push_back(router);
  sched.run();
  auto& rs = state_of<router_state<bank::account>>(router);
  // A command that decides nothing: brand-new instances need neither writer nor loader.
  int slot = 0;
  auto touch = [&](const std::string& id) {
    caf::anon_send(router, command<bank::account>(id, bank::touch{}, slot++));
    sched.run();
    auto i = rs.instances.find(id);
    REQUIRE(i != rs.instances.end());
    spawned.push_back(i->second.instance);
    return i->second.instance;
  };

  auto a = touch("a");
  auto b = touch("b");
  touch("a"); // "a" is now the most recently used; "b" the least
  CHECK(rs.live == 2);
  CHECK(rs.lru == std::list<std::string>{"a", "b"});

  touch("c");
  CHECK(rs.live == 2);
  CHECK(rs.instances.count("b") == 0); // passivated, and back as a spare for another id
  CHECK(rs.spare == std::vector<caf::actor>{b});
  REQUIRE(rs.instances.count("a") == 1);
  CHECK(rs.instances.at("a").instance == a); // the same actor: never passivated
  CHECK_FALSE(rs.instances.at("a").stopping);
  CHECK(rs.ids.size() == 2);
  CHECK(rs.lru == std::list<std::string>{"c", "a"});

  // "b" comes back on the spare, with its state loaded afresh, and pushes out "a", now the
  // least recently used, which becomes the spare.
  auto b2 = touch("b");
  CHECK(b2 == b);
  CHECK(rs.instances.count("a") == 0);
  CHECK(rs.spare == std::vector<caf::actor>{a});
  CHECK(rs.lru == std::list<std::string>{"b", "c"});

  REQUIRE(replies.size() == 5);
  bool all_ok = true;
  for (auto& r : replies)
    all_ok = all_ok && r.result && r.result->version == 0;
  CHECK(all_ok);
}

TEST_CASE_METHOD(det_fixture, "a command sent straight to a live instance comes behind the commands still on "
                              "their way to it through the router",
                 "[aggregate][deterministic][router][order]") {
  aggregate_options opts;
  opts.idle_timeout = std::chrono::hours(1);
  auto directory =
    std::make_shared<instance_directory>([](const std::string&, uint16_t) { return uint16_t{0}; });
  auto router = sys.spawn(aggregate_router<ctr::counter>, context(opts), directory);
  spawned.push_back(router);
  sched.run();
  // As the runtime's sender does (dispatch_command).
  int slot = 0;
  auto send = [&](const std::string& tag) {
    command_options o;
    o.command_id = tag;
    auto env = command<ctr::counter>("a", ctr::add{1, tag}, slot++, o);
    dispatch_command<ctr::counter>(*directory, router, std::move(env));
  };
  send("first");
  send("second");
  sched.run_once(); // the router starts the instance with "first"; "second" waits in its mailbox
  send("third");    // must not overtake "second"
  sched.run();
  send("fourth"); // nothing on its way through the router any more: straight to the instance
  sched.run();
  auto& w = writer_state();
  REQUIRE(w.requests.size() == 4);
  std::vector<std::string> order;
  for (auto& r : w.requests) {
    REQUIRE(r.append.events.size() == 1);
    order.push_back(r.append.events[0].metadata.command_id);
  }
  CHECK(order == std::vector<std::string>{"first", "second", "third", "fourth"});
}

TEST_CASE_METHOD(det_fixture, "an instance pushed out by max_live is closed in the directory: commands for it "
                              "wait at the router for a fresh instance",
                 "[aggregate][deterministic][router][passivation]") {
  aggregate_options opts;
  opts.max_live = 1;
  opts.idle_timeout = std::chrono::hours(1);
  auto directory =
    std::make_shared<instance_directory>([](const std::string&, uint16_t) { return uint16_t{0}; });
  auto router = sys.spawn(aggregate_router<ctr::counter>, context(opts), directory);
  spawned.push_back(router);
  sched.run();
  auto& rs = state_of<router_state<ctr::counter>>(router);
  int slot = 0;
  auto send = [&](const std::string& id) {
    auto env = command<ctr::counter>(id, ctr::add{1, id}, slot++);
    dispatch_command<ctr::counter>(*directory, router, std::move(env));
  };
  send("a");
  sched.run();
  send("b"); // pushes "a" out; "a" still has its append in flight, so it is passivating
  sched.run();
  REQUIRE(rs.instances.count("a") == 1);
  REQUIRE(rs.instances.at("a").stopping);
  send("a"); // not straight to the passivating instance: it waits at the router
  sched.run();
  CHECK(rs.instances.at("a").parked.size() == 1);
  CHECK(writer_state().requests.size() == 2);
}

TEST_CASE_METHOD(det_fixture, "after a shard's ids are closed, a command the router still passes on to a stale "
                              "instance does not open it again: the next one waits for a fresh instance",
                 "[aggregate][deterministic][router][shard]") {
  aggregate_options opts;
  opts.idle_timeout = std::chrono::hours(1);
  auto shard_of = [](const std::string& id, uint16_t count) {
    return shard_of_stream(aggregate_traits<ctr::counter>::stream_id(id), count);
  };
  auto directory = std::make_shared<instance_directory>(shard_of);
  const uint16_t shard = shard_of("a", 64);
  auto router = sys.spawn(aggregate_router<ctr::counter>, context(opts), directory);
  spawned.push_back(router);
  sched.run();
  auto& rs = state_of<router_state<ctr::counter>>(router);
  int slot = 0;
  auto send = [&] {
    auto env = command<ctr::counter>("a", ctr::add{1, "a"}, slot++);
    dispatch_command<ctr::counter>(*directory, router, std::move(env));
  };
  send();
  sched.run(); // "a" is live and open
  directory->close_shard(shard, 64); // as runtime::forget_shard does, then tells the router
  send();                        // closed: through the router, ahead of the forget
  caf::anon_send(router, forget_atom::value, shard, uint16_t{64});
  sched.run_once(); // the router passes that command on to the stale instance
  send();           // must not reach the stale instance straight
  sched.run();
  REQUIRE(rs.instances.count("a") == 1);
  CHECK(rs.instances.at("a").stopping);
  CHECK(rs.instances.at("a").parked.size() == 1);
  CHECK(writer_state().requests.size() == 2);
}
