#include "annal/event_bus.hpp"

#include <caf/all.hpp>

#include <vector>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"

namespace annal {

namespace {

struct bus_state {
  std::vector<caf::actor> subscribers;
  static inline const char* name = "annal.event_bus";
};

caf::behavior event_bus(caf::stateful_actor<bus_state>* self) {
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == dm.source; }),
               subs.end());
  });
  return {
    [=](detail::subscribe_atom, caf::actor subscriber) {
      self->monitor(subscriber);
      self->state.subscribers.push_back(std::move(subscriber));
    },
    [=](detail::committed_atom, const detail::committed_events& events) {
      for (auto& s : self->state.subscribers)
        self->send(s, detail::committed_atom::value, events);
    },
  };
}

} // namespace

caf::actor spawn_event_bus(caf::actor_system& sys) {
  return sys.spawn(event_bus);
}

} // namespace annal
