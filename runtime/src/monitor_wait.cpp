#include "monitor_wait.hpp"

#include <caf/all.hpp>

#include <optional>

namespace annal::detail {

namespace {

using reached_atom = caf::atom_constant<caf::atom("pmreached")>;
using expired_atom = caf::atom_constant<caf::atom("pmexpired")>;

// The names of those not at `position` yet.
std::string behind(const std::vector<named_monitor>& monitors, global_position position) {
  std::string names;
  for (const auto& [name, m] : monitors)
    if (m->position() < position)
      names += (names.empty() ? "'" : ", '") + name + "'";
  return names;
}

// notify_when_all, answered on this actor, raced by the deadline.
caf::behavior waiter(caf::event_based_actor* self, std::vector<named_monitor> monitors, global_position position,
                     std::chrono::milliseconds timeout, std::function<void(status)> done) {
  std::vector<std::shared_ptr<projection_monitor>> plain;
  for (const auto& m : monitors)
    plain.push_back(m.second);
  auto me = caf::actor_cast<caf::actor>(self);
  auto cancel = notify_when_all(std::move(plain), position, [me](std::optional<std::size_t> failed) {
    // -1: every one reached the position.
    caf::anon_send(me, reached_atom::value, failed ? static_cast<int64_t>(*failed) : int64_t{-1});
  });
  self->delayed_send(self, timeout, expired_atom::value);
  auto finish = [self, done](status s) {
    done(std::move(s));
    self->quit();
  };
  return {
    [monitors, finish](reached_atom, int64_t failed) {
      if (failed < 0)
        return finish({});
      finish(make_error(errc::unavailable, "'" + monitors[static_cast<std::size_t>(failed)].first
                                             + "' is faulted or stopped"));
    },
    [monitors, position, cancel, finish](expired_atom) {
      cancel();
      finish(make_error(errc::timeout, "not handled through position " + std::to_string(position)
                                         + " in time by " + behind(monitors, position)));
    },
  };
}

} // namespace

caf::actor await_monitors(caf::actor_system& sys, std::vector<named_monitor> monitors, global_position position,
                          std::chrono::milliseconds timeout, std::function<void(status)> done) {
  if (monitors.empty()) {
    done({});
    return {};
  }
  return sys.spawn(waiter, std::move(monitors), position, timeout, std::move(done));
}

} // namespace annal::detail
