// The state of an aggregate whose shard another node owns, rebuilt here from the owner's
// journal: runtime::load<A>() reads the local store only, so a node that does not own an
// aggregate asks the owner for its events (cluster_node::read_stream) and applies them
// with A's own evolve. A caller that keeps a state asks only for the events after it.
//
// Snapshots are not used (the owner sends events), so this suits small streams read
// often (a product's price), not long ones. Thread safety: as cluster_node::read_stream.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "annal/aggregate_traits.hpp"
#include "annal/aggregate_view.hpp"
#include "annal/call_user_code.hpp"
#include "annal/cluster/cluster_node.hpp"
#include "annal/event_registry.hpp"

namespace annal::cluster {

template <class A>
using remote_load_done = std::function<void(result<aggregate_view<typename A::state>>)>;

/// Loads instance `id` of A from its owner's journal, continuing from `base` (a state the
/// caller holds at base.version; version 0 with A's initial state for none). `done` runs
/// once: on the calling thread when the stream is local, else on an actor thread.
/// `registry` (the runtime's) outlives the call. Errors: not_found (no events),
/// stream_deleted, unavailable (owner unreachable or too slow: retry), corrupt /
/// unknown_event_type (an event that does not decode or that evolve refuses), io_error.
template <class A>
void load_remote(const cluster_node& node, const event_registry& registry, const std::string& id,
                 aggregate_view<typename A::state> base, remote_load_done<A> done);

// -- definitions ----------------------------------------------------------------------------

namespace detail {

template <class A>
struct remote_load_step : std::enable_shared_from_this<remote_load_step<A>> {
  using traits = aggregate_traits<A>;
  const cluster_node& node;
  const event_registry& registry;
  std::string stream;
  aggregate_view<typename A::state> view;
  remote_load_done<A> done;
  // The owner's head below the caller's base (its journal was restored from an older
  // copy): start once from the beginning instead.
  bool restarted = false;

  remote_load_step(const cluster_node& n, const event_registry& r, std::string s,
                   aggregate_view<typename A::state> v, remote_load_done<A> d)
    : node(n), registry(r), stream(std::move(s)), view(std::move(v)), done(std::move(d)) {}

  void next() {
    auto self = this->shared_from_this();
    node.read_stream(stream, view.version, [self](result<remote_stream> r) { self->on_read(std::move(r)); });
  }

  void on_read(result<remote_stream> r) {
    if (!r)
      return done(std::move(r).error());
    if (r->head.deleted)
      return done(make_error(errc::stream_deleted, "stream '" + stream + "' was deleted"));
    if (r->head.head == 0)
      return done(make_error(errc::not_found, "no events of " + stream + " on its owner"));
    if (r->head.head < view.version) {
      if (restarted)
        return done(make_error(errc::corrupt, "the owner's head of " + stream + " keeps moving back"));
      restarted = true;
      view = {traits::initial_state(), 0, 0};
      return next();
    }
    for (const auto& e : r->events) {
      auto ev = traits::decode(registry, e.type, e.schema_version, e.payload, e.corrupt);
      if (!ev)
        return done(make_error(ev.error().code, stream + " v" + std::to_string(e.version) + ": "
                                                  + ev.error().message));
      if (auto ok = call_user_code("evolve", [&] { traits::apply(view.state, *ev); }); !ok)
        return done(make_error(errc::corrupt, stream + " v" + std::to_string(e.version) + ": "
                                                + ok.error().message));
      view.version = e.version;
      view.position = e.position;
    }
    if (r->more && !r->events.empty())
      return next();
    if (view.position == 0 && view.version == r->head.head)
      view.position = r->head.last_position; // the base was current already
    done(std::move(view));
  }
};

} // namespace detail

template <class A>
void load_remote(const cluster_node& node, const event_registry& registry, const std::string& id,
                 aggregate_view<typename A::state> base, remote_load_done<A> done) {
  auto stream = aggregate_traits<A>::stream_id(id);
  std::make_shared<detail::remote_load_step<A>>(node, registry, std::move(stream), std::move(base),
                                                std::move(done))
    ->next();
}

} // namespace annal::cluster
