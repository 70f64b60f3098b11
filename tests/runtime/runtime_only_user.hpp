// A user's translation unit that sends commands and loads states with annal/runtime.hpp
// alone (runtime_only_user.cpp): the aggregate it uses, and what it does. The check
// runtime_header_includes_no_caf compiles that file and fails if CAF reaches it.
#pragma once

#include <annal/runtime.hpp>

#include <string>
#include <string_view>

namespace tally {

struct counted {
  static constexpr std::string_view event_type = "tally.counted";
  long n = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(n)); }
};
struct count { long n = 0; };

struct counter {
  struct state {
    long total = 0;
    template <class Archive>
    void serialize(Archive& ar) { ar(total); }
  };
  using command = count;
  using event = counted;
  static constexpr std::string_view category = "tally";
  static annal::decision<event> decide(const state&, const command& c) {
    if (c.n <= 0)
      return annal::reject("count a positive number");
    return counted{c.n};
  }
  static void evolve(state& s, const event& e) { s.total += e.n; }
};

/// Counts `n` on instance `id` through every path of runtime.hpp (future, callback,
/// load) and returns the total loaded afterwards, or the first error.
annal::result<long> count_and_load(annal::runtime& rt, const std::string& id, long n);

} // namespace tally
