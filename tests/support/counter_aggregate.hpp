// A second small aggregate for the write-side tests: a counter whose events carry the
// amount and a caller-chosen tag, plus a command whose decide blocks at a test gate (to
// keep one instance busy while others must keep running).
#pragma once

#include <cereal/types/string.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "annal/decision.hpp"
#include "write_side_helpers.hpp"

namespace ctr {

struct added {
  static constexpr std::string_view event_type = "ctr.added";
  int64_t amount = 0;
  std::string tag;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(amount), CEREAL_NVP(tag)); }
};

// Commands are serializable only because runtime::register_aggregate currently fails to
// compile for a std::variant command whose alternatives are not (see the test report).
struct add {
  int64_t amount = 0;
  std::string tag;
  template <class Archive>
  void serialize(Archive& ar) { ar(amount, tag); }
};

/// Decides `added{0, "held"}`, but only after `g` was opened (blocks an actor thread).
struct held {
  std::shared_ptr<annal::test::gate> g;
  template <class Archive>
  void serialize(Archive&) {} // local only: the gate does not travel
};

struct state {
  int64_t total = 0;
  uint64_t count = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(total, count); }
  friend bool operator==(const state& a, const state& b) {
    return a.total == b.total && a.count == b.count;
  }
};

struct counter {
  using state = ctr::state;
  using command = std::variant<add, held>;
  using event = added;
  static constexpr std::string_view category = "counter";

  static annal::decision<event> decide(const state&, const command& c) {
    if (auto a = std::get_if<add>(&c))
      return added{a->amount, a->tag};
    std::get<held>(c).g->wait();
    return added{0, "held"};
  }

  static void evolve(state& s, const event& e) {
    s.total += e.amount;
    ++s.count;
  }
};

} // namespace ctr
