// Compiled (syntax only) by ctest, once per ANNAL_CASE: each broken aggregate must fail to
// compile with the sentence that names its missing piece (see tests/actors/CMakeLists.txt).
// ANNAL_CASE 0 is a complete aggregate and must compile.
#include <string_view>
#include <variant>

#include "annal/aggregate_traits.hpp"

namespace {

struct named {
  static constexpr std::string_view event_type = "named";
  template <class Ar>
  void serialize(Ar&) {}
};
struct unnamed {
  template <class Ar>
  void serialize(Ar&) {}
};
struct counter {
  int n = 0;
};

#if ANNAL_CASE == 0 || ANNAL_CASE == 1
struct subject {
  using state = counter;
  using command = int;
#if ANNAL_CASE == 0
  using event = std::variant<named>;
#else
  using event = std::variant<named, unnamed>; // an event without a stable name
#endif
  static constexpr std::string_view category = "subject";
  static annal::decision<event> decide(const state&, const command&) { return {}; }
  static void evolve(state& s, const event&) { ++s.n; }
};
#elif ANNAL_CASE == 2
struct subject { // decide takes no command, evolve is missing
  using state = counter;
  using command = int;
  using event = named;
  static constexpr std::string_view category = "subject";
  static annal::decision<event> decide(const state&) { return {}; }
};
#elif ANNAL_CASE == 3
struct subject { // no state type, no category
  using command = int;
  using event = named;
};
#endif

} // namespace

int main() {
  return static_cast<int>(sizeof(annal::aggregate_traits<subject>));
}
