// Internal: the links' health, written by the link actors and read by status() from any
// thread. Thread safety: every function locks.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "annal/cluster/cluster_status.hpp"

namespace annal::cluster::detail {

struct link_health {
  link_state state = link_state::connecting;
  std::string last_error;
  uint64_t connects = 0;
};

class health_board {
public:
  void set(const std::string& peer, link_state s, std::string last_error = {}) {
    std::lock_guard<std::mutex> guard{mx_};
    auto& h = peers_[peer];
    if (s == link_state::up && h.state != link_state::up)
      ++h.connects;
    h.state = s;
    h.last_error = std::move(last_error);
  }
  link_health get(const std::string& peer) const {
    std::lock_guard<std::mutex> guard{mx_};
    auto i = peers_.find(peer);
    return i == peers_.end() ? link_health{} : i->second;
  }

private:
  mutable std::mutex mx_;
  std::map<std::string, link_health> peers_;
};

} // namespace annal::cluster::detail
