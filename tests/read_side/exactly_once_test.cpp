// Exactly-once effect of durable projections (read model and checkpoint in one read-model
// transaction): a restart resumes from the checkpoint, and a kill -9 at any moment of the
// projection's writes leaves a read model that equals a fold of the journal up to the
// checkpoint and converges to a from-scratch rebuild.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <future>
#include <random>
#include <thread>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "projection_crash_model.hpp"
#include "read_side_helpers.hpp"
#include "temp_dir.hpp"

#ifndef ANNAL_PROJECTION_CRASH_CHILD
#error "ANNAL_PROJECTION_CRASH_CHILD must name the projection_crash_child executable"
#endif

using namespace annal;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

std::unique_ptr<runtime> open_runtime(const std::filesystem::path& dir, durability mode) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.mode = mode;
  auto rt = runtime::open(cfg);
  REQUIRE(rt);
  REQUIRE((*rt)->register_aggregate<bank::account>());
  return std::move(*rt);
}

// Sends `n` deposits spread over `accounts` (opened first), 16 in flight; returns the
// position of the newest event.
global_position deposit_many(runtime& rt, int accounts, int n) {
  global_position last = 0;
  for (int a = 0; a < accounts; ++a)
    (void)rt.send<bank::account>("e" + std::to_string(a), bank::open{"o"}).get();
  std::deque<std::future<command_result>> window;
  auto drain_one = [&] {
    auto r = window.front().get();
    window.pop_front();
    REQUIRE(r);
    last = std::max(last, r->position);
  };
  for (int i = 0; i < n; ++i) {
    window.push_back(rt.send<bank::account>("e" + std::to_string(i % accounts), bank::deposit{i % 5 + 1}));
    if (window.size() >= 16)
      drain_one();
  }
  while (!window.empty())
    drain_one();
  return *rt.store().last_position();
}

} // namespace

TEST_CASE("a durable projection resumes from its checkpoint after a restart and applies every "
          "event exactly once",
          "[exactly_once]") {
  test::temp_dir dir;
  std::atomic<uint64_t> applied{0};
  // The crash model (per-event application counts) plus a count of handler calls.
  auto add_counted = [&](runtime& rt) {
    auto t = rt.read_models().table(crash_model::table_name);
    REQUIRE(t);
    durable_projection dp;
    dp.options.name = crash_model::projection_name;
    dp.options.filter = event_filter::categories({"account"});
    dp.options.chunk_events = 50;
    dp.tables = {crash_model::table_name};
    dp.apply = [inner = crash_model::handler(*t), &applied](read_model_txn& tx, const event_view& e) {
      ++applied;
      return inner(tx, e);
    };
    REQUIRE(rt.add_projection(dp));
  };

  global_position first_head = 0, second_head = 0, third_head = 0;
  {
    auto rt = open_runtime(dir.path(), durability::no_sync);
    add_counted(*rt);
    REQUIRE(rt->start());
    REQUIRE(test::all_live(*rt));
    first_head = deposit_many(*rt, 4, 300);
    REQUIRE(rt->await_projection(crash_model::projection_name, first_head, 30s));
    CHECK(applied.load() == first_head);
    REQUIRE(rt->stop());
  }
  {
    // Without the projection: its checkpoint stays where it was.
    auto rt = open_runtime(dir.path(), durability::no_sync);
    REQUIRE(rt->start());
    second_head = deposit_many(*rt, 4, 250);
    REQUIRE(rt->stop());
    auto cp = rt->read_models().load_checkpoint(crash_model::projection_name);
    REQUIRE(cp);
    CHECK(*cp == first_head);
  }
  REQUIRE(second_head > first_head);
  applied = 0;
  {
    auto rt = open_runtime(dir.path(), durability::no_sync);
    add_counted(*rt);
    struct all_seen {
      std::vector<global_position> order;
    };
    memory_projection<all_seen> mem;
    mem.options.name = "mem";
    mem.options.filter = event_filter::categories({"account"});
    mem.apply = [](all_seen& m, const event_view& e) -> status {
      m.order.push_back(e.position);
      return {};
    };
    auto sink = rt->add_projection(mem);
    REQUIRE(sink);
    REQUIRE(rt->start());
    REQUIRE(rt->await_projection(crash_model::projection_name, second_head, 30s));
    // It resumed at its checkpoint: only the events written while it was away were applied.
    CHECK(applied.load() == second_head - first_head);
    REQUIRE(test::all_live(*rt));
    third_head = deposit_many(*rt, 4, 100);
    REQUIRE(rt->await_projection(crash_model::projection_name, third_head, 30s));
    REQUIRE(rt->await_projection("mem", third_head, 30s));
    CHECK(applied.load() == third_head - first_head);

    auto log = test::read_journal(rt->store());
    auto model = crash_model::read_model(rt->read_models());
    REQUIRE(model);
    CHECK(crash_model::diff(*model, crash_model::expected_model(log, third_head)) == "");
    // The in-memory model is rebuilt from the journal on start: every event once, in order.
    auto order = (*sink)->read([](const all_seen& m) { return m.order; });
    CHECK(order == test::positions_where(log, [](std::string_view, std::string_view) { return true; }));
    REQUIRE(rt->stop());
  }
}

namespace {

// Runs the child on `dir` until it reports ready, lets it work for `run_for`, then SIGKILLs
// and reaps it. Returns false when it never became ready (its stderr shows why).
bool run_and_kill(const std::filesystem::path& dir, uint64_t seed, std::chrono::milliseconds run_for,
                  int& wait_status) {
  const std::string exe = ANNAL_PROJECTION_CRASH_CHILD;
  const std::string dir_arg = dir.string();
  const std::string seed_arg = std::to_string(seed);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execl(exe.c_str(), exe.c_str(), dir_arg.c_str(), seed_arg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string got;
  bool ready = false;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    int rc = ::poll(&p, 1, 200);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc <= 0)
      continue;
    char buf[64];
    auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0)
      break; // the child died before it was ready
    got.append(buf, static_cast<std::size_t>(n));
    ready = got.find("ready\n") != std::string::npos;
  }
  if (ready)
    std::this_thread::sleep_for(run_for); // the kill time does not follow the child's work
  ::kill(pid, SIGKILL);
  ::close(fds[0]);
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  return ready;
}

// Opens both stores of `dir` read-only (nothing here may repair what a kill left) and
// checks that the read model equals the fold of the journal up to the checkpoint.
struct round_check {
  global_position checkpoint = 0;
  global_position head = 0;
};

round_check check_after_kill(const std::filesystem::path& dir) {
  store_options jo;
  jo.dir = dir / "journal";
  jo.read_only = true;
  auto journal = event_store::open(jo);
  REQUIRE(journal);
  store_options ro;
  ro.dir = dir / "read-models";
  ro.read_only = true;
  auto models = read_model_store::open(ro);
  REQUIRE(models);
  round_check out;
  auto cp = (*models)->load_checkpoint(crash_model::projection_name);
  REQUIRE(cp);
  out.checkpoint = *cp;
  auto head = (*journal)->last_position();
  REQUIRE(head);
  out.head = *head;
  // The checkpoint never runs ahead of the journal.
  CHECK(out.checkpoint <= out.head);
  auto log = test::read_journal(**journal);
  auto model = crash_model::read_model(**models);
  REQUIRE(model);
  CHECK(crash_model::diff(*model, crash_model::expected_model(log, out.checkpoint)) == "");
  return out;
}

} // namespace

TEST_CASE("after kill -9 during projection writes the read model equals the fold of the "
          "journal up to its checkpoint and converges to a rebuild after restart",
          "[exactly_once][crash]") {
  test::temp_dir dir;
  std::mt19937_64 rng{std::random_device{}()};
  constexpr int rounds = 6;
  int mid_flight = 0; // rounds killed while the projection lagged behind the journal
  global_position last_checkpoint = 0;
  for (int round = 0; round < rounds; ++round) {
    auto run_for = std::chrono::milliseconds(50 + rng() % 650);
    int ws = 0;
    INFO("round " << round << ", killed after " << run_for.count() << " ms");
    REQUIRE(run_and_kill(dir.path(), rng() % 1000000, run_for, ws));
    REQUIRE(WIFSIGNALED(ws));
    CHECK(WTERMSIG(ws) == SIGKILL);
    auto r = check_after_kill(dir.path());
    CHECK(r.checkpoint >= last_checkpoint);
    last_checkpoint = r.checkpoint;
    if (r.checkpoint < r.head)
      ++mid_flight;
  }
  // The workload made progress and the projection followed it; most kills catch it behind
  // the journal (in the middle of its work), typically 4 to 6 of the 6.
  CHECK(last_checkpoint > 0);
  CHECK(mid_flight > 0);

  // A restart converges: the model equals the fold of the whole journal, and equals it
  // again after a rebuild from position 0.
  auto rt = open_runtime(dir.path(), durability::durable);
  REQUIRE(crash_model::add_projection(*rt, 64));
  REQUIRE(rt->start());
  auto head = rt->store().last_position();
  REQUIRE(head);
  REQUIRE(rt->await_projection(crash_model::projection_name, *head, 60s));
  auto log = test::read_journal(rt->store());
  auto expected = crash_model::expected_model(log, *head);
  auto model = crash_model::read_model(rt->read_models());
  REQUIRE(model);
  CHECK(crash_model::diff(*model, expected) == "");
  REQUIRE(rt->rebuild_projection(crash_model::projection_name));
  REQUIRE(rt->await_projection(crash_model::projection_name, *head, 60s));
  auto rebuilt = crash_model::read_model(rt->read_models());
  REQUIRE(rebuilt);
  CHECK(crash_model::diff(*rebuilt, expected) == "");
  REQUIRE(rt->stop());
}
