// A query that waits for its read model blocks the HTTP thread serving it, never one of
// CAF's scheduler threads: with a single scheduler thread, commands (whose aggregates run
// on it) still go through while queries wait out their min_position budget.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "shop_fixture.hpp"

using namespace shop::test;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// The threads of process `pid` named `name` (CAF 0.17 names its scheduler's workers
// "caf.multiplexer", detached actors "caf.actor").
int threads_named(pid_t pid, const std::string& name) {
  int n = 0;
  auto tasks = std::filesystem::path{"/proc"} / std::to_string(pid) / "task";
  for (const auto& task : std::filesystem::directory_iterator{tasks}) {
    std::ifstream in{task.path() / "comm"};
    std::string comm;
    if (std::getline(in, comm) && comm == name)
      ++n;
  }
  return n;
}

} // namespace

TEST_CASE("queries waiting for a read model never hold up commands", "[shop][query][scheduler]") {
  // The later --scheduler.max-threads wins over the fixture's 2.
  shop_fixture f{{"--scheduler.max-threads=1", "--http-threads", "16"}};
  REQUIRE(threads_named(f.node->pid(), "caf.multiplexer") == 1); // one scheduler worker

  constexpr int waiters = 8;
  const std::string never = "/products/x?min_position=1000000000000";
  // Every connection is opened before anything waits, so that only the requests race.
  std::vector<shop_client> clients;
  for (int i = 0; i < waiters; ++i) {
    clients.push_back(f.client());
    REQUIRE(clients.back().get("/health").status == 200);
  }
  auto commander = f.client();
  REQUIRE(commander.get("/health").status == 200);

  std::vector<reply> answers(waiters);
  std::vector<milliseconds> waited(waiters);
  std::atomic<int> sent{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < waiters; ++i)
    threads.emplace_back([&, i] {
      ++sent;
      auto started = steady_clock::now();
      answers[i] = clients[i].get(never);
      waited[i] = since(started);
      ++answered;
    });
  while (sent < waiters)
    std::this_thread::yield();
  // The queries are in their 5 s wait now.
  std::this_thread::sleep_for(milliseconds(500));

  auto started = steady_clock::now();
  auto created = commander.create_product("pen", "Pen", 100);
  auto create_took = since(started);
  started = steady_clock::now();
  auto restocked = commander.restock("pen", 7);
  auto restock_took = since(started);
  const int answered_during_commands = answered;

  for (auto& t : threads)
    t.join();
  INFO("node log:\n" << f.node->log());

  INFO("create took " << create_took.count() << " ms: " << created.status << " " << created.text);
  CHECK(created.status == 201);
  CHECK(create_took < milliseconds(1500));
  INFO("restock took " << restock_took.count() << " ms: " << restocked.status << " "
                       << restocked.text);
  CHECK(restocked.status == 200);
  CHECK(restock_took < milliseconds(1500));
  // The commands ran while every query still waited (not after the waits gave up).
  CHECK(answered_during_commands == 0);

  for (int i = 0; i < waiters; ++i) {
    INFO("query " << i << " after " << waited[i].count() << " ms: " << answers[i].status << " "
                  << answers[i].text);
    CHECK(answers[i].status == 504);
    CHECK(answers[i].error() == "projection_lagging");
    CHECK(waited[i] >= milliseconds(4000)); // it did wait (5 s) rather than fail early
  }

  // The restock went through in full.
  REQUIRE(restocked.status == 200);
  auto level = commander.get("/inventory/pen?min_position="
                             + std::to_string(restocked.json["position"].get<uint64_t>()));
  REQUIRE(level.status == 200);
  CHECK(level.json["on_hand"] == 7);
}
