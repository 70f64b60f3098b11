// Faults on the write path: journal failures (single and pipelined), a throwing evolve,
// overload and timeouts, and an undecodable snapshot.
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using namespace std::chrono_literals;
using bank::account;
using test::head_of;
using test::last_pos;
using test::ready_within;

namespace {

runtime_config config_in(const test::temp_dir& dir, const std::shared_ptr<test::commit_control>& ctl) {
  auto cfg = test::config_in(dir);
  if (ctl)
    cfg.writer.before_commit = test::commit_control::hook(ctl);
  return cfg;
}

// Collects log lines (thread-safe) while alive; restores the default sink afterwards.
struct log_capture {
  std::mutex m;
  std::vector<std::pair<log_level, std::string>> lines;
  log_capture() {
    set_log_sink([this](log_level l, std::string_view s) {
      std::lock_guard<std::mutex> g{m};
      lines.emplace_back(l, std::string{s});
    });
  }
  ~log_capture() { set_log_sink(nullptr); }
  int count(log_level l, const std::string& part) {
    std::lock_guard<std::mutex> g{m};
    int n = 0;
    for (auto& [lv, s] : lines)
      n += lv == l && s.find(part) != std::string::npos;
    return n;
  }
};

} // namespace

TEST_CASE("a journal failure fails the affected commands and leaves the state equal to the journal",
          "[aggregate][faults]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  log_capture logs; // the writer logs each failed commit as an error
  auto rt = test::start_runtime<account>(config_in(dir, ctl));
  REQUIRE(rt);
  auto& store = rt->store();
  REQUIRE(test::get_within(rt->send<account>("f", bank::open{"o"})));
  REQUIRE(test::get_within(rt->send<account>("f", bank::deposit{100})));
  auto pos = last_pos(store);

  // One command: it fails with the journal's error and nothing is written.
  ctl->fail_with(errc::io_error);
  auto r = test::get_within(rt->send<account>("f", bank::deposit{50}));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::io_error);
  ctl->stop_failing();
  CHECK(head_of(store, "account-f") == 2);
  CHECK(last_pos(store) == pos);
  // The live state is the journal's: the 50 never happened.
  CHECK(test::get_within(rt->send<account>("f", bank::withdraw{120})).code() == errc::rejected);
  auto d = test::get_within(rt->send<account>("f", bank::deposit{1}));
  REQUIRE(d);
  CHECK(d->version == 3);
  pos = last_pos(store);

  // Several pipelined commands of one instance: only the first one's commit fails, yet
  // all fail, because the others were decided on top of it.
  ctl->hold();
  ctl->fail_next(errc::io_error);
  std::vector<std::future<command_result>> fs;
  fs.push_back(rt->send<account>("f", bank::deposit{1000}));
  REQUIRE(ctl->wait_held()); // the first commit holds exactly that one append
  for (int i = 2; i <= 5; ++i)
    fs.push_back(rt->send<account>("f", bank::deposit{1000 * i}));
  // A rejection is answered at once; once it is, every deposit before it was decided and
  // its append sent, i.e. all five are in flight together.
  auto fence = rt->send<account>("f", bank::deposit{-1});
  REQUIRE(ready_within(fence, 10s));
  CHECK(test::get_within(fence).code() == errc::rejected);
  for (auto& f : fs)
    CHECK_FALSE(ready_within(f, 0ms));
  ctl->release();
  for (auto& f : fs) {
    REQUIRE(ready_within(f, 10s));
    auto x = test::get_within(f);
    REQUIRE_FALSE(x);
    CHECK(x.error().code == errc::io_error);
  }
  // The later appends reach the store after all, and are refused there (stale versions).
  // They were pipelined: each was decided against the tentative state of the one before.
  auto chained = [&] {
    std::vector<stream_version> out;
    for (auto& a : ctl->appends_seen())
      if (a.stream == "account-f" && a.expected.which() == expected_version::kind::exact
          && a.expected.version() >= 3)
        out.push_back(a.expected.version());
    return out;
  };
  // The instance's answers do not wait for the writer to take the refused ones (a command
  // deciding no event, as the touch below, is answered without it): wait for the writer.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (chained().size() < 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  CHECK(chained() == std::vector<stream_version>{3, 4, 5, 6, 7});
  auto sync = test::get_within(rt->send<account>("f", bank::touch{}));
  REQUIRE(sync);
  CHECK(sync->version == 3);
  ctl->stop_failing();
  CHECK(head_of(store, "account-f") == 3);
  CHECK(last_pos(store) == pos);

  auto v = rt->load<account>("f");
  REQUIRE(v);
  CHECK(v->version == 3);
  CHECK(v->state.balance == 101);
  CHECK(test::get_within(rt->send<account>("f", bank::withdraw{102})).code() == errc::rejected);
  auto w = test::get_within(rt->send<account>("f", bank::withdraw{101}));
  REQUIRE(w);
  CHECK(w->version == 4);
  auto after = rt->load<account>("f");
  REQUIRE(after);
  CHECK(after->state.balance == 0);

  // A failed command's id is not remembered: a retry with the same id runs.
  command_options retry;
  retry.command_id = "retry-me";
  ctl->fail_next(errc::io_error);
  CHECK(test::get_within(rt->send<account>("f", bank::deposit{7}, retry)).code() == errc::io_error);
  auto again = test::get_within(rt->send<account>("f", bank::deposit{7}, retry));
  REQUIRE(again);
  CHECK_FALSE(again->duplicate);
  CHECK(again->version == 5);
  auto dup = test::get_within(rt->send<account>("f", bank::deposit{7}, retry));
  REQUIRE(dup);
  CHECK(dup->duplicate);
  CHECK(dup->version == 5);
  CHECK(head_of(store, "account-f") == 5);
  CHECK(logs.count(log_level::error, "journal commit failed") >= 3);
}

TEST_CASE("a journal failure of a brand-new instance's first append leaves it unopened",
          "[aggregate][faults]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  log_capture logs;
  auto rt = test::start_runtime<account>(config_in(dir, ctl));
  REQUIRE(rt);
  ctl->fail_with(errc::storage_full);
  auto o = test::get_within(rt->send<account>("new", bank::open{"o"}));
  CHECK(o.code() == errc::storage_full);
  ctl->stop_failing();
  CHECK(head_of(rt->store(), "account-new") == 0);
  CHECK(test::get_within(rt->send<account>("new", bank::deposit{1})).code() == errc::rejected);
  auto again = test::get_within(rt->send<account>("new", bank::open{"o"}));
  REQUIRE(again);
  CHECK(again->version == 1);
}

TEST_CASE("an exception in evolve is a handler fault, contained while other appends are in flight",
          "[aggregate][faults]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  log_capture logs;
  auto rt = test::start_runtime<account>(config_in(dir, ctl));
  REQUIRE(rt);
  REQUIRE(test::get_within(rt->send<account>("p", bank::open{"o"})));
  ctl->hold();
  auto d1 = rt->send<account>("p", bank::deposit{10});
  REQUIRE(ctl->wait_held());
  auto poison = rt->send<account>("p", bank::poison{});
  auto d2 = rt->send<account>("p", bank::deposit{5});
  REQUIRE(ready_within(poison, 10s));
  auto pr = test::get_within(poison);
  REQUIRE_FALSE(pr);
  CHECK(pr.error().code == errc::handler_fault);
  CHECK(pr.error().message.find("evolve threw") != std::string::npos);
  ctl->release();
  REQUIRE(ready_within(d1, 10s));
  REQUIRE(ready_within(d2, 10s));
  auto r1 = test::get_within(d1);
  auto r2 = test::get_within(d2);
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK(r1->version == 2);
  CHECK(r2->version == 3);
  auto v = rt->load<account>("p");
  REQUIRE(v);
  CHECK(v->state.balance == 15);
  CHECK(head_of(rt->store(), "account-p") == 3);
  CHECK(logs.count(log_level::error, "evolve threw") == 1);
}

TEST_CASE("an exception in evolve is a handler fault: the instance rebuilds and keeps serving",
          "[aggregate][faults]") {
  test::temp_dir dir;
  log_capture logs;
  auto rt = test::start_runtime<account>(config_in(dir, nullptr));
  REQUIRE(rt);
  REQUIRE(test::get_within(rt->send<account>("a", bank::open{"a"})));
  REQUIRE(test::get_within(rt->send<account>("a", bank::deposit{10})));
  REQUIRE(test::get_within(rt->send<account>("b", bank::open{"b"})));
  auto pos = last_pos(rt->store());

  auto pr = test::get_within(rt->send<account>("a", bank::poison{}));
  REQUIRE_FALSE(pr);
  CHECK(pr.error().code == errc::handler_fault);
  CHECK(pr.error().message.find("evolve threw") != std::string::npos);
  CHECK(head_of(rt->store(), "account-a") == 2);
  CHECK(last_pos(rt->store()) == pos);

  // Other instances are unaffected.
  auto b = test::get_within(rt->send<account>("b", bank::deposit{3}));
  REQUIRE(b);
  CHECK(b->version == 2);

  // The same instance serves its next command from the state rebuilt from the journal.
  command_options quick;
  quick.timeout = 2s;
  auto next = rt->send<account>("a", bank::deposit{5}, quick);
  REQUIRE(ready_within(next, 3s));
  auto r = test::get_within(next);
  REQUIRE(r);
  CHECK(r->version == 3);
  auto v = rt->load<account>("a");
  REQUIRE(v);
  CHECK(v->state.balance == 15);
  CHECK(logs.count(log_level::error, "evolve threw") == 1);
}

TEST_CASE("excess commands fail fast as overloaded and waiting past the deadline fails as timeout",
          "[aggregate][faults]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  aggregate_options opts;
  opts.max_waiting = 2;
  opts.max_in_flight = 1;
  auto rt = test::start_runtime<account>(config_in(dir, ctl), opts);
  REQUIRE(rt);
  REQUIRE(test::get_within(rt->send<account>("o", bank::open{"o"})));

  SECTION("overloaded") {
    ctl->hold();
    auto first = rt->send<account>("o", bank::deposit{1});
    REQUIRE(ctl->wait_held());
    std::vector<std::future<command_result>> queued, excess;
    for (int i = 0; i < 2; ++i)
      queued.push_back(rt->send<account>("o", bank::deposit{10}));
    for (int i = 0; i < 8; ++i)
      excess.push_back(rt->send<account>("o", bank::deposit{100}));
    // Answered while the journal is still stuck: fast, not after the commit.
    for (auto& f : excess) {
      REQUIRE(ready_within(f, 10s));
      CHECK(test::get_within(f).code() == errc::overloaded);
    }
    CHECK_FALSE(ready_within(first, 0ms));
    ctl->release();
    auto r1 = test::get_within(first);
    REQUIRE(r1);
    CHECK(r1->version == 2);
    stream_version expect = 3;
    for (auto& f : queued) {
      auto r = test::get_within(f);
      REQUIRE(r);
      CHECK(r->version == expect++);
    }
    auto v = rt->load<account>("o");
    REQUIRE(v);
    CHECK(v->state.balance == 21);
    CHECK(v->version == 4);
  }

  SECTION("timeout") {
    ctl->hold();
    command_options soon, quick;
    soon.timeout = 100ms;
    quick.timeout = 1ms;
    // A command that already ran is never reported as timed out, however slow the commit.
    auto ran = rt->send<account>("o", bank::deposit{1}, soon);
    REQUIRE(ctl->wait_held());
    auto waits = rt->send<account>("o", bank::deposit{1000}, quick);
    // The waiting command fails at its deadline, while the commit ahead of it still hangs.
    CHECK(test::ready_within(waits, 2000ms));
    std::this_thread::sleep_for(150ms); // lets the first command's deadline pass too
    ctl->release();
    auto r1 = test::get_within(ran);
    REQUIRE(r1);
    CHECK(r1->version == 2);
    auto r2 = test::get_within(waits);
    REQUIRE_FALSE(r2);
    CHECK(r2.error().code == errc::timeout);
    auto r3 = test::get_within(rt->send<account>("o", bank::deposit{2}));
    REQUIRE(r3);
    CHECK(r3->version == 3);
    auto v = rt->load<account>("o");
    REQUIRE(v);
    CHECK(v->state.balance == 3);
  }
}

TEST_CASE("an undecodable snapshot falls back to a full replay with a warning", "[aggregate][faults][snapshot]") {
  test::temp_dir dir;
  aggregate_options opts;
  opts.snapshot_every = 0;
  {
    auto rt = test::start_runtime<account>(config_in(dir, nullptr), opts);
    REQUIRE(rt);
    REQUIRE(test::get_within(rt->send<account>("g", bank::open{"o"})));
    for (int i = 1; i <= 5; ++i)
      REQUIRE(test::get_within(rt->send<account>("g", bank::deposit{i})));
    REQUIRE(rt->stop());
  }
  log_capture logs;
  auto rt = test::start_runtime<account>(config_in(dir, nullptr), opts);
  REQUIRE(rt);
  // Garbage with the right type name and schema at the head version (too short to decode).
  REQUIRE(rt->store().save_snapshot(
    snapshot_record{"account-g", 6, 0, "account.state", 1, std::string(5, '\xff')}));

  auto v = rt->load<account>("g");
  REQUIRE(v);
  CHECK(v->version == 6);
  CHECK(v->state.balance == 15);
  CHECK(v->state.deposits == 5);
  CHECK(v->position > 0);
  CHECK(logs.count(log_level::warning, "undecodable snapshot of account-g") == 1);

  // The live instance rehydrates the same way and keeps its numbering.
  auto d = test::get_within(rt->send<account>("g", bank::deposit{100}));
  REQUIRE(d);
  CHECK(d->version == 7);
  CHECK(test::get_within(rt->send<account>("g", bank::withdraw{116})).code() == errc::rejected);
  CHECK(logs.count(log_level::warning, "undecodable snapshot of account-g") == 2);
  auto w = test::get_within(rt->send<account>("g", bank::withdraw{115}));
  REQUIRE(w);
  CHECK(w->version == 8);
  REQUIRE(rt->stop());
}
