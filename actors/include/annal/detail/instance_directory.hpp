// Internal: the live instances of one aggregate type, by id, so that a caller reaches a
// live instance without a hop through its router.
//
// The router stays the only one that spawns and stops instances; the directory only lets
// a command skip it while that is safe for the order of commands: a caller sends straight
// to the instance only while the instance is live and no command for its id is still on
// its way through the router (each one sent through it is counted until the router passed
// it on), and it does so under the id's lock, which the router also takes before it tells
// an instance to stop — so a command sent straight arrives before the instance's
// passivation, and one caller's commands keep their order.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace annal::detail {

class instance_directory {
public:
  /// Which shard an id's stream is in, among `shard_count` (the aggregate type's rule).
  using shard_fn = std::function<uint16_t(const std::string& id, uint16_t shard_count)>;

  explicit instance_directory(shard_fn shard_of) : shard_of_(std::move(shard_of)) {}

  /// Calls `direct(instance)` when `id` has a live instance and nothing of it waits at the
  /// router; otherwise counts one more command on its way through the router and calls
  /// `via_router()`. Either runs under the id's lock, and must only enqueue a message.
  template <class Direct, class ViaRouter>
  void dispatch(const std::string& id, Direct&& direct, ViaRouter&& via_router) {
    auto& s = stripe_of(id);
    std::lock_guard<std::mutex> guard{s.mx};
    auto& e = s.entries[id];
    if (e.instance && e.at_router == 0) {
      e.touched = true;
      direct(e.instance);
      return;
    }
    ++e.at_router;
    via_router();
  }

  /// The router passed on (or answered) a command dispatch() counted; `live`, when set,
  /// is the id's instance, live, that got it or now serves the id.
  void routed(const std::string& id, const caf::actor& live);
  /// The router has `live` serve `id` from now (after passing it the commands it held).
  void open(const std::string& id, const caf::actor& live);
  /// `id`'s instance is about to be told to stop, or is gone: commands go to the router.
  void close(const std::string& id);
  /// Closes every id of `shard` (a shard moved: their instances may hold stale state);
  /// those instances are not opened again, even by a command the router passes on to one
  /// before it stops them.
  void close_shard(uint16_t shard, uint16_t shard_count);
  /// True (and forgotten) when a command reached `id`'s instance straight since the last
  /// call: the router counts it as a use of the instance.
  bool take_touched(const std::string& id);

private:
  struct entry {
    caf::actor instance;   // set while live and serving
    caf::actor_addr stale; // closed by close_shard: not opened again before the router stops it
    uint32_t at_router = 0;
    bool touched = false;
  };
  struct stripe {
    std::mutex mx;
    std::unordered_map<std::string, entry> entries;
  };
  static constexpr std::size_t stripes = 64;

  stripe& stripe_of(const std::string& id) { return stripes_[std::hash<std::string>{}(id) % stripes]; }
  // Drops `e` once nothing refers to it (no instance, nothing at the router, no stale one).
  static void prune(stripe& s, std::unordered_map<std::string, entry>::iterator i);

  shard_fn shard_of_;
  std::array<stripe, stripes> stripes_;
};

} // namespace annal::detail
