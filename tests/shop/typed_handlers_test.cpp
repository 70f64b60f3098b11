// The typed read side over the shop's own events: typed handlers decode every event type
// of every aggregate, and see its aggregate's category and id.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/event_handlers.hpp"
#include "annal/testing/event_log.hpp"
#include "annal/testing/serialization_check.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"

// A namespace of its own: unity builds put several test files in one translation unit.
namespace typed_handlers_cases {

using namespace annal;

namespace {

// What one handler call saw.
struct seen {
  std::string category;
  std::string aggregate_id;
  std::size_t alternative = 0;
};

template <class A>
void check_every_event_decodes() {
  using variant = typename A::event;
  event_registry reg;
  aggregate_traits<A>::register_events(reg);
  std::vector<seen> calls;
  auto handlers = event_handlers<std::vector<seen>>{reg}.template on_each<variant>(
    [](std::vector<seen>& out, const event_context& c, const auto& e) {
      out.push_back({std::string{c.category}, std::string{c.aggregate_id},
                     variant{e}.index()});
    });
  // One default value of each event type of A, as stored in stream "<category>-id-7".
  auto events = annal::testing::event_log{}
                  .add<A>("id-7", annal::testing::one_event_of_each_type<A>())
                  .events();
  REQUIRE(events.size() == std::variant_size_v<variant>);
  for (const auto& r : events) {
    INFO(r.type);
    REQUIRE(handlers(calls, r.view()));
  }
  REQUIRE(calls.size() == std::variant_size_v<variant>);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].alternative == i);
    CHECK(calls[i].category == A::category);
    CHECK(calls[i].aggregate_id == "id-7");
  }
  CHECK(handlers.types().size() == std::variant_size_v<variant>);
}

} // namespace

TEST_CASE("typed handlers decode every event type of the shop's aggregates", "[shop][read_side]") {
  check_every_event_decodes<shop::product>();
  check_every_event_decodes<shop::inventory>();
  check_every_event_decodes<shop::order>();
}

TEST_CASE("every event type of the shop's aggregates round-trips through the codec",
          "[shop][serialization]") {
  CHECK(annal::testing::events_round_trip<shop::product>());
  CHECK(annal::testing::events_round_trip<shop::inventory>());
  CHECK(annal::testing::events_round_trip<shop::order>());
  CHECK(annal::testing::snapshot_round_trips<shop::product>(shop::product::state{}));
  CHECK(annal::testing::snapshot_round_trips<shop::inventory>(shop::inventory::state{}));
  CHECK(annal::testing::snapshot_round_trips<shop::order>(shop::order::state{}));
}

} // namespace typed_handlers_cases
