#include "monitor_wait.hpp"

#include <caf/all.hpp>

namespace annal::detail {

namespace {

using reached_atom = caf::atom_constant<caf::atom("pmreached")>;
using expired_atom = caf::atom_constant<caf::atom("pmexpired")>;

struct wait_state {
  std::vector<named_monitor> monitors;
  std::vector<projection_monitor::wait_ticket> tickets;
  std::vector<bool> reached;
  std::size_t missing = 0;
  global_position position = 0;
  std::function<void(status)> done;

  void cancel_all() {
    for (std::size_t i = 0; i < monitors.size(); ++i)
      if (tickets[i] != 0)
        monitors[i].second->cancel(tickets[i]);
  }

  std::string behind() const {
    std::string names;
    for (std::size_t i = 0; i < monitors.size(); ++i)
      if (!reached[i])
        names += (names.empty() ? "'" : ", '") + monitors[i].first + "'";
    return names;
  }
};

caf::behavior waiter(caf::event_based_actor* self, std::shared_ptr<wait_state> st,
                     std::chrono::milliseconds timeout) {
  auto me = caf::actor_cast<caf::actor>(self);
  for (std::size_t i = 0; i < st->monitors.size(); ++i)
    st->tickets[i] = st->monitors[i].second->notify_when(st->position, [me, i](bool ok) {
      caf::anon_send(me, reached_atom::value, static_cast<uint64_t>(i), ok);
    });
  self->delayed_send(self, timeout, expired_atom::value);
  auto finish = [self, st](status s) {
    st->cancel_all();
    st->done(std::move(s));
    self->quit();
  };
  return {
    [st, finish](reached_atom, uint64_t i, bool ok) {
      if (i >= st->reached.size() || st->reached[i])
        return;
      if (!ok)
        return finish(make_error(errc::unavailable, "'" + st->monitors[i].first + "' is faulted or stopped"));
      st->reached[i] = true;
      if (--st->missing == 0)
        finish({});
    },
    [st, finish](expired_atom) {
      finish(make_error(errc::timeout, "not handled through position " + std::to_string(st->position)
                                         + " in time by " + st->behind()));
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
  auto st = std::make_shared<wait_state>();
  st->tickets.assign(monitors.size(), 0);
  st->reached.assign(monitors.size(), false);
  st->missing = monitors.size();
  st->monitors = std::move(monitors);
  st->position = position;
  st->done = std::move(done);
  return sys.spawn(waiter, st, timeout);
}

} // namespace annal::detail
