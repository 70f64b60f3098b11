// In-process cluster nodes for the forwarding tests: each a runtime with its own actor
// system (and middleman) on a data folder of its own, joined to a cluster on 127.0.0.1
// ports chosen free at run time.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/variant.hpp> // the counter's command is a variant: forwarded serialized

#include "annal/cluster/cluster_config.hpp"
#include "annal/cluster/cluster_node.hpp"
#include "annal/runtime.hpp"
#include "annal/testing/loopback_port.hpp"
#include "counter_aggregate.hpp"
#include "temp_dir.hpp"

namespace annal::test {

using annal::testing::free_port;

/// A cluster config for node `self` of `members` (id, port) on 127.0.0.1 with
/// `shard_count` shards; `extra` is appended to the JSON object (e.g. shard overrides).
inline cluster::cluster_config loopback_config(const std::vector<std::pair<std::string, uint16_t>>& members,
                                               const std::string& self, int shard_count = 64,
                                               const std::string& extra = "") {
  std::string text = R"({"shard_count": )" + std::to_string(shard_count)
                     + R"(, "secret_env": "ANNAL_TEST_LOOPBACK_SECRET", "members": [)";
  for (std::size_t i = 0; i < members.size(); ++i)
    text += (i ? ", " : "") + std::string{R"({"id": ")"} + members[i].first + R"(", "host": "127.0.0.1", "port": )"
            + std::to_string(members[i].second) + "}";
  text += "]" + extra + "}";
  ::setenv("ANNAL_TEST_LOOPBACK_SECRET", "the-secret-of-the-loopback-tests", 1);
  auto cfg = cluster::parse_cluster_config(text, self);
  if (!cfg)
    throw std::runtime_error(cfg.error().to_string());
  return std::move(*cfg);
}

/// Polls `pred` every 10 ms until true or `timeout` passed; returns its last value.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// One node: a runtime hosting the counter aggregate, joined to the cluster.
struct test_node {
  std::unique_ptr<runtime> rt;
  std::unique_ptr<cluster::cluster_node> node;

  /// `before_start` registers what the test needs beyond the counter (process managers).
  test_node(const std::filesystem::path& dir, cluster::cluster_config cfg,
            const std::function<void(runtime&)>& before_start = {}) {
    runtime_config rc;
    rc.data_dir = dir;
    rc.mode = durability::no_sync;
    rc.caf_args = {"--scheduler.max-threads=2"};
    cluster::cluster_node::prepare(rc);
    auto r = runtime::open(rc);
    if (!r)
      throw std::runtime_error(r.error().to_string());
    rt = std::move(*r);
    if (auto ok = rt->register_aggregate<ctr::counter>(); !ok)
      throw std::runtime_error(ok.error().to_string());
    auto n = cluster::cluster_node::join(*rt, std::move(cfg));
    if (!n)
      throw std::runtime_error(n.error().to_string());
    node = std::move(*n);
    if (before_start)
      before_start(*rt);
    if (auto ok = rt->start(); !ok)
      throw std::runtime_error(ok.error().to_string());
  }
  ~test_node() { stop(); }

  void stop() {
    if (node)
      node->leave();
    if (rt)
      (void)rt->stop();
    node.reset();
    rt.reset();
  }

  /// True when this node's link to `peer` is in state `s`.
  bool link_is(const std::string& peer, cluster::link_state s) const {
    for (const auto& m : node->status().members)
      if (m.id == peer)
        return m.state == s;
    return false;
  }
};

/// Nodes "a" and "b" on loopback, each in a folder of `dir`; constructed once both links
/// are up (REQUIREd within 10 s).
struct two_nodes {
  temp_dir dir;
  std::vector<std::pair<std::string, uint16_t>> members{{"a", free_port()}, {"b", free_port()}};
  test_node a{dir / "a", loopback_config(members, "a")};
  test_node b{dir / "b", loopback_config(members, "b")};

  two_nodes() {
    REQUIRE(wait_until([&] {
      return b.link_is("a", cluster::link_state::up) && a.link_is("b", cluster::link_state::up);
    }));
  }
};

/// Moves `shard` from `from` to member `to` and waits for the outcome (REQUIREd within 60 s).
inline result<cluster::move_report> move_now(cluster::cluster_node& from, uint16_t shard, const std::string& to) {
  auto p = std::make_shared<std::promise<result<cluster::move_report>>>();
  auto f = p->get_future();
  from.move_shard(shard, to, [p](result<cluster::move_report> r) { p->set_value(std::move(r)); });
  REQUIRE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  return f.get();
}

/// Sends `n` adds of `amount` to counter `id` through `via` at once and requires every one
/// acknowledged (within 30 s each).
inline void add_n(test_node& via, const std::string& id, int n, int64_t amount = 1) {
  std::vector<std::future<command_result>> sent;
  for (int i = 0; i < n; ++i)
    sent.push_back(via.rt->send<ctr::counter>(id, ctr::add{amount, "t"}));
  for (auto& f : sent) {
    REQUIRE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    REQUIRE(f.get());
  }
}

} // namespace annal::test
