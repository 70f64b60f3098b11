// Internal: an aggregate's events as the journal's new_events (type, schema, payload), for
// the kit's pieces that append events themselves.
#pragma once

#include <string>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"

namespace annal::testing::detail {

/// Encodes `events` of aggregate A with its codec; the first encoding error stops it.
template <class A>
result<std::vector<new_event>> encode_events(const std::vector<typename A::event>& events) {
  using traits = aggregate_traits<A>;
  std::vector<new_event> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    new_event n;
    n.type = std::string{traits::event_name(e)};
    n.schema_version = traits::event_schema(e);
    if (auto ok = traits::encode(e, n.payload); !ok)
      return std::move(ok).error();
    out.push_back(std::move(n));
  }
  return out;
}

} // namespace annal::testing::detail
