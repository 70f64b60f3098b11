// A shard whose previous owner has not handed over its process managers' state stays
// where it is, and says so: two nodes in one process, the old owner's manager faulted so
// that its hand-off fails. Once the manager runs again, the old owner's sweep owes the
// new owner a hand-off even though it holds no rows of the shard, and the shard moves on.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include <nlohmann/json.hpp>

#include "annal/aggregate_host.hpp"
#include "annal/process_manager.hpp"
#include "cluster_harness.hpp"
#include "counter_aggregate.hpp"

namespace process_state_wait_cases {

using namespace annal;
using namespace annal::test;
using namespace std::chrono_literals;

// A manager that writes nothing and fails while `failing` is set (then stops: faulted).
std::function<void(runtime&)> manager(std::shared_ptr<std::atomic<bool>> failing) {
  return [failing](runtime& rt) {
    process_manager pm;
    pm.options.name = "watcher";
    pm.options.on_failure = failure_policy::stop;
    pm.options.max_retries = 0;
    pm.handle = [failing](process_context&, const event_view&) -> status {
      if (failing->load())
        return make_error(errc::io_error, "down for the test");
      return {};
    };
    REQUIRE(rt.add_process_manager(pm));
  };
}

TEST_CASE("a shard waiting for its previous owner's process state is listed in the status, does not "
          "move on until that owner handed it over (an empty hand-off included), then moves",
          "[cluster][move][process]") {
  temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", free_port()}, {"b", free_port()}};
  const std::string bound = R"(, "move_timeout_ms": 1500)";
  auto a_failing = std::make_shared<std::atomic<bool>>(true);
  auto b_failing = std::make_shared<std::atomic<bool>>(false);
  test_node a{dir / "a", loopback_config(members, "a", 64, bound), manager(a_failing)};
  test_node b{dir / "b", loopback_config(members, "b", 64, bound), manager(b_failing)};
  REQUIRE(wait_until([&] { return a.link_is("b", cluster::link_state::up) && b.link_is("a", cluster::link_state::up); }));

  // A counter of a shard a owns; a's manager faults on its event.
  auto map = a.node->status().shards;
  std::string id;
  for (int i = 0; id.empty() && i < 100000; ++i)
    if (map.owner(map.shard_of(aggregate_traits<ctr::counter>::stream_id("w" + std::to_string(i)))).node == "a")
      id = "w" + std::to_string(i);
  auto shard = map.shard_of(aggregate_traits<ctr::counter>::stream_id(id));
  add_n(a, id, 2);
  REQUIRE(wait_until([&] { return a.rt->projection("watcher")->state == projection_state::faulted; }));
  CHECK(b.node->status().awaiting_process_state.empty());

  // The move itself succeeds; the hand-off of a's process state does not.
  auto moved = annal::test::move_now(*a.node, shard, "b");
  INFO((moved ? std::string{} : moved.error().to_string()));
  REQUIRE(moved);
  CHECK_FALSE(moved->process_state_moved);
  CHECK(b.node->status().awaiting_process_state == std::vector<uint16_t>{shard});
  auto j = nlohmann::json::parse(cluster::to_json(b.node->status()));
  CHECK(j["awaiting_process_state"] == nlohmann::json::array({shard}));

  // Moving it on waits for a's rows, at most move_timeout, then refuses: the shard stays.
  auto t0 = std::chrono::steady_clock::now();
  auto refused = annal::test::move_now(*b.node, shard, "a");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::conflict);
  CHECK(std::chrono::steady_clock::now() - t0 >= 1400ms);
  CHECK(b.node->status().shards.owner(shard).node == "b");
  CHECK(b.rt->send<ctr::counter>(id, ctr::add{1, "t"}).get()); // and b serves it

  // a's manager runs again: a holds no rows of the shard, but its sweep owes b the
  // hand-off of epoch 2, and sends it (empty); b stops waiting, the shard moves on.
  a_failing->store(false);
  REQUIRE(a.rt->restart_projection("watcher"));
  REQUIRE(wait_until([&] { return b.node->status().awaiting_process_state.empty(); }, 30s));
  // a records its hand-off as done after b's reply, which b sends once it stopped waiting.
  REQUIRE(wait_until([&] {
    auto done = a.rt->process_hand_offs_done();
    return done && done->count(shard) > 0 && done->at(shard) == 2;
  }));
  auto back = annal::test::move_now(*b.node, shard, "a");
  INFO((back ? std::string{} : back.error().to_string()));
  REQUIRE(back);
  CHECK(back->epoch == 3);
  CHECK(back->process_state_moved);
}

} // namespace process_state_wait_cases
