// The aggregate of the write-path benchmarks: a counter with one small event.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include "annal/decision.hpp"

namespace annal::bench {

struct incremented {
  static constexpr std::string_view event_type = "bench.incremented";
  int64_t by = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(by); }
};

struct increment {
  int64_t by = 1;
};

struct counter_state {
  int64_t total = 0;
  uint64_t count = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(total, count); }
};

struct counter {
  using state = counter_state;
  using command = increment;
  using event = incremented;
  static constexpr std::string_view category = "counter";
  static decision<event> decide(const state&, const command& c) { return incremented{c.by}; }
  static void evolve(state& s, const event& e) {
    s.total += e.by;
    ++s.count;
  }
};

} // namespace annal::bench
