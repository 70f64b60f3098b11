// The serialization checks: an aggregate's events and state round-trip, an old schema
// version upcasts; and the checker fails for a type whose codec loses data.
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <string>
#include <variant>

#include "annal/decision.hpp"
#include "annal/testing/serialization_check.hpp"
#include "bank_account.hpp"

namespace serialization_check_cases {

using namespace annal;
namespace at = annal::testing;

// -- a type whose load drops a field (the codec does not round-trip) ------------------------
struct noted {
  static constexpr std::string_view event_type = "t.noted";
  int64_t amount = 0;
  std::string note;
  template <class Archive>
  void save(Archive& ar) const { ar(amount, note); }
  template <class Archive>
  void load(Archive& ar) { ar(amount); } // the bug: note is never read back
};

// -- version 2 of an event, with an upcaster from version 1 --------------------------------
struct renamed_v1 {
  std::string name;
  template <class Archive>
  void serialize(Archive& ar) { ar(name); }
};
struct renamed {
  static constexpr std::string_view event_type = "t.renamed";
  static constexpr uint32_t schema_version = 2;
  std::string first;
  std::string last;
  template <class Archive>
  void serialize(Archive& ar) { ar(first, last); }
};

struct nothing {
  template <class Archive>
  void serialize(Archive&) {}
};

// A minimal aggregate over those events (only its types matter here).
template <class... Events>
struct holder {
  using state = nothing;
  using command = std::variant<nothing>;
  using event = std::variant<Events...>;
  static constexpr std::string_view category = "t";
  static decision<event> decide(const state&, const command&) { return {}; }
  static void evolve(state&, const event&) {}
};

TEST_CASE("serialization check: every event type and the state of an aggregate round-trip",
          "[testing][serialization]") {
  CHECK(at::one_event_of_each_type<bank::account>().size() == 4);
  CHECK(at::events_round_trip<bank::account>());
  CHECK(at::events_round_trip<bank::account>({bank::opened{"ann"}, bank::deposited{42}}));
  bank::state s;
  s.is_open = true;
  s.owner = "ann";
  s.balance = 12;
  CHECK(at::snapshot_round_trips<bank::account>(s));
}

TEST_CASE("serialization check: fails for a codec that does not round-trip",
          "[testing][serialization]") {
  auto r = at::events_round_trip<holder<noted>>({noted{5, "hello"}});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::Contains("t.noted"));
}

TEST_CASE("serialization check: an event type missing from the registry fails",
          "[testing][serialization]") {
  event_registry reg; // nothing registered
  auto r = at::events_round_trip<bank::account>({bank::deposited{1}}, &reg);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::Contains("not registered"));
}

TEST_CASE("serialization check: an old schema version upcasts to the current type",
          "[testing][serialization]") {
  using agg = holder<renamed>;
  event_registry reg;
  aggregate_traits<agg>::register_events(reg);
  auto old = to_bytes(renamed_v1{"Ada Lovelace"});
  REQUIRE(old);
  // Without an upcaster, version 1 cannot be read.
  CHECK_FALSE(at::upcasts_to<agg>(reg, "t.renamed", 1, *old, renamed{"Ada", "Lovelace"}));
  reg.add_upcaster<renamed_v1, renamed>("t.renamed", 1, [](renamed_v1 v) {
    auto space = v.name.find(' ');
    return renamed{v.name.substr(0, space), v.name.substr(space + 1)};
  });
  CHECK(at::upcasts_to<agg>(reg, "t.renamed", 1, *old, renamed{"Ada", "Lovelace"}));
  // A wrong expectation fails and shows both values.
  auto r = at::upcasts_to<agg>(reg, "t.renamed", 1, *old, renamed{"Ada", "Byron"});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.message(), Catch::Contains("Byron"));
  CHECK(at::events_round_trip<agg>({renamed{"a", "b"}}, &reg));
}

} // namespace serialization_check_cases
