// One aggregate's write path, deterministic and on the calling thread: load (replay the
// stream), decide, append to a journal, evolve. No actors, so nothing to step: each
// send() has finished when it returns. The journal is any event_store (in memory by
// default; wrap it with make_faulty_journal to inject faults).
//
//   annal::testing::aggregate_harness<account> h;
//   REQUIRE(h.send("7", open{"ann"}));
//   REQUIRE(h.state("7")->balance == 0);
#pragma once

#include <memory>
#include <string>

#include "annal/aggregate_traits.hpp"
#include "annal/call_user_code.hpp"
#include "annal/event_registry.hpp"
#include "annal/memory_event_store.hpp"
#include "annal/testing/detail/encode_events.hpp"

namespace annal::testing {

template <class A>
class aggregate_harness {
public:
  using state_type = typename A::state;

  explicit aggregate_harness(std::unique_ptr<event_store> journal = make_memory_event_store())
    : journal_(std::move(journal)) {
    aggregate_traits<A>::register_events(registry_);
  }

  /// The state of instance `id`, replayed from the journal. Errors: the journal's,
  /// corrupt / unknown_event_type (decoding), handler_fault (evolve threw).
  result<state_type> state(const std::string& id) const {
    stream_version version = 0;
    return load(id, version);
  }

  /// Runs `cmd` against instance `id`: the decided events are appended with the version
  /// the decision saw (conflict if the stream moved). Returns the stream version after.
  /// Errors: rejected (with the reason), handler_fault, and the journal's.
  result<stream_version> send(const std::string& id, const typename A::command& cmd) {
    using traits = aggregate_traits<A>;
    stream_version version = 0;
    auto s = load(id, version);
    if (!s)
      return std::move(s).error();
    std::optional<decision<typename A::event>> d;
    auto decided = call_user_code("decide", [&]() -> status {
      d.emplace(traits::decide(*s, cmd));
      return {};
    });
    if (!decided)
      return std::move(decided).error();
    if (d->rejected())
      return make_error(errc::rejected, d->reason());
    if (d->events().empty())
      return version;
    auto out = detail::encode_events<A>(d->events());
    if (!out)
      return std::move(out).error();
    auto r = journal_->append(traits::stream_id(id), expected_version::exact(version), std::move(*out));
    if (!r)
      return std::move(r).error();
    return r->next_expected_version;
  }

  event_store& journal() noexcept { return *journal_; }
  event_registry& registry() noexcept { return registry_; }

private:
  result<state_type> load(const std::string& id, stream_version& version) const {
    using traits = aggregate_traits<A>;
    auto events = journal_->read_stream(traits::stream_id(id));
    if (!events)
      return std::move(events).error();
    auto s = traits::initial_state();
    for (const auto& r : *events) {
      auto e = traits::decode(registry_, r.type, r.schema_version, r.payload, r.corrupt);
      if (!e)
        return std::move(e).error();
      auto ok = call_user_code("evolve", [&]() -> status {
        traits::apply(s, *e);
        return {};
      });
      if (!ok)
        return std::move(ok).error();
      version = r.version;
    }
    return s;
  }

  std::unique_ptr<event_store> journal_;
  event_registry registry_;
};

} // namespace annal::testing
