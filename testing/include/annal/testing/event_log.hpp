// Events for the read-side specs: typed events of aggregates, stored the way the journal
// stores them (stream "<category>-<id>", versions per stream, global positions 1, 2, ...).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/event_filter.hpp"
#include "annal/recorded_event.hpp"

namespace annal::testing {

/// An ordered log of recorded events built from typed events. A value.
class event_log {
public:
  /// Appends `events` of instance `id` of A (stream aggregate_traits<A>::stream_id(id)).
  /// Events that do not encode are a bug of the test: encode errors throw std::logic_error.
  template <class A>
  event_log& add(const std::string& id, const std::vector<typename A::event>& events,
                 const event_metadata& metadata = {}) {
    using traits = aggregate_traits<A>;
    for (const auto& e : events) {
      recorded_event r;
      r.stream_id = traits::stream_id(id);
      r.version = next_version(r.stream_id);
      r.position = events_.size() + 1;
      r.type = std::string{traits::event_name(e)};
      r.schema_version = traits::event_schema(e);
      r.timestamp = static_cast<timestamp_ns>(r.position) * 1000;
      r.metadata = metadata;
      if (auto ok = traits::encode(e, r.payload); !ok)
        throw std::logic_error("event_log: " + ok.error().message);
      events_.push_back(std::move(r));
    }
    return *this;
  }

  const std::vector<recorded_event>& events() const noexcept { return events_; }
  /// Position of the newest event (0 when empty).
  global_position last_position() const noexcept { return events_.size(); }

  /// Views of the events with positions in (after, through] that `filter` passes.
  std::vector<event_view> views(global_position after = 0,
                                global_position through = ~global_position{0},
                                const event_filter* filter = nullptr) const {
    std::vector<event_view> out;
    for (const auto& r : events_)
      if (r.position > after && r.position <= through
          && (filter == nullptr || filter->matches(r.stream_id, r.type)))
        out.push_back(r.view());
    return out;
  }

private:
  stream_version next_version(const std::string& stream) const {
    stream_version v = 1;
    for (const auto& r : events_)
      if (r.stream_id == stream)
        v = r.version + 1;
    return v;
  }
  std::vector<recorded_event> events_;
};

} // namespace annal::testing
