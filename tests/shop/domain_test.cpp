// Decider specs of the shop's aggregates: given past events, when a command, then events
// or a rejection. Pure: no runtime.
#include <catch2/catch.hpp>

#include <cereal/types/map.hpp>

#include <map>

#include "annal/testing/decider_spec.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/order.hpp"
#include "shop/domain/product.hpp"

using annal::testing::given;
using namespace shop;

TEST_CASE("a product is created once and changes its price", "[shop][domain]") {
  CHECK(given<product>({}).when(create_product{"p1", "Pen", 250}).then_events({product_created{"p1", "Pen", 250}}));
  CHECK(given<product>({product_created{"p1", "Pen", 250}})
          .when(create_product{"p1", "Pen", 250})
          .then_rejected("exists already"));
  CHECK(given<product>({}).when(create_product{"p1", "", 250}).then_rejected("name"));
  CHECK(given<product>({}).when(create_product{"p/1", "Pen", 250}).then_rejected("sku"));
  CHECK(given<product>({}).when(create_product{"p1", "Pen", -1}).then_rejected("negative"));
  CHECK(given<product>({}).when(change_price{100}).then_rejected("no such product"));
  CHECK(given<product>({product_created{"p1", "Pen", 250}})
          .when(change_price{300})
          .then_events({product_price_changed{250, 300}}));
  CHECK(given<product>({product_created{"p1", "Pen", 250}}).when(change_price{250}).then_nothing());
  CHECK(given<product>({product_created{"p1", "Pen", 250}}).when(change_price{max_price_cents + 1}).then_rejected());
}

TEST_CASE("inventory never reserves more than is available", "[shop][domain]") {
  std::vector<inventory::event> stocked{stock_restocked{5}};
  CHECK(given<inventory>({}).when(reserve_stock{"o1", 1}).then_rejected("insufficient stock: 0 available"));
  CHECK(given<inventory>(stocked).when(reserve_stock{"o1", 5}).then_events({stock_reserved{"o1", 5}}));
  CHECK(given<inventory>(stocked).when(reserve_stock{"o1", 6}).then_rejected("5 available, 6 requested"));
  CHECK(given<inventory>({stock_restocked{5}, stock_reserved{"o1", 3}})
          .when(reserve_stock{"o2", 3})
          .then_rejected("2 available"));
  CHECK(given<inventory>(stocked).when(restock{0}).then_rejected("quantity"));
  CHECK(given<inventory>(stocked).when(reserve_stock{"o1", 0}).then_rejected("quantity"));
  CHECK(given<inventory>(stocked).when(restock{3}).then_state([](const inventory_state& s) {
    return s.on_hand == 8 && s.available() == 8;
  }));
}

TEST_CASE("inventory commands repeat safely", "[shop][domain]") {
  std::vector<inventory::event> held{stock_restocked{5}, stock_reserved{"o1", 2}};
  // The same reservation again holds already.
  CHECK(given<inventory>(held).when(reserve_stock{"o1", 2}).then_nothing());
  CHECK(given<inventory>(held).when(reserve_stock{"o1", 3}).then_rejected("already holds 2"));
  CHECK(given<inventory>(held).when(release_stock{"o1"}).then_events({stock_released{"o1", 2}}));
  CHECK(given<inventory>(held).when(release_stock{"o2"}).then_nothing());
  CHECK(given<inventory>(held).when(ship_stock{"o1"}).then_state([](const inventory_state& s) {
    return s.on_hand == 3 && s.reserved == 0 && s.reservations.empty();
  }));
  auto released = held;
  released.push_back(stock_released{"o1", 2});
  // A late re-delivered reserve cannot bring a closed reservation back.
  CHECK(given<inventory>(released).when(reserve_stock{"o1", 2}).then_rejected("was closed"));
  CHECK(given<inventory>(released).when(ship_stock{"o1"}).then_rejected("holds no reservation"));
  auto shipped = held;
  shipped.push_back(stock_shipped{"o1", 2});
  CHECK(given<inventory>(shipped).when(ship_stock{"o1"}).then_nothing());
  CHECK(given<inventory>(shipped).when(release_stock{"o1"}).then_nothing());
}

TEST_CASE("inventory remembers a bounded number of closed orders", "[shop][domain]") {
  std::vector<inventory::event> events{stock_restocked{1'000'000}};
  for (std::size_t i = 0; i < inventory::closed_memory + 10; ++i) {
    auto id = "o" + std::to_string(i);
    events.push_back(stock_reserved{id, 1});
    events.push_back(stock_released{id, 1});
  }
  auto g = given<inventory>(events);
  CHECK(g.state().closed.size() == inventory::closed_memory);
  CHECK(g.state().closed_order.size() == inventory::closed_memory);
  CHECK(g.state().reserved == 0);
  CHECK(annal::testing::snapshot_round_trip_matches_replay<inventory>(
    std::vector<inventory::event>(events.begin(), events.begin() + 40)));
}

namespace {

// inventory_state as it was until stop 40, with ordered maps.
struct ordered_inventory_state {
  int64_t on_hand = 0;
  int64_t reserved = 0;
  std::map<std::string, int64_t> reservations;
  std::map<std::string, closed_as> closed;
  std::deque<std::string> closed_order;
  template <class Archive>
  void serialize(Archive& ar) { ar(on_hand, reserved, reservations, closed, closed_order); }
};

} // namespace

TEST_CASE("an inventory snapshot written when its maps were ordered still decodes", "[shop][domain]") {
  // cereal writes hashed maps as it wrote the ordered ones, so the snapshots in existing
  // journals keep their meaning.
  ordered_inventory_state old{10, 3, {{"o1", 1}, {"o2", 2}}, {{"o0", closed_as::shipped}}, {"o0"}};
  auto decoded = annal::from_bytes<inventory_state>(annal::to_bytes(old).value());
  REQUIRE(decoded);
  CHECK(decoded->on_hand == 10);
  CHECK(decoded->reserved == 3);
  CHECK(decoded->reservations == std::unordered_map<std::string, int64_t>{{"o1", 1}, {"o2", 2}});
  CHECK(decoded->closed == std::unordered_map<std::string, closed_as>{{"o0", closed_as::shipped}});
  CHECK(decoded->closed_order == std::deque<std::string>{"o0"});
}

namespace {

std::vector<order::event> placed() {
  return {order_placed{"o1", "c1", {{"a", 2, 100}, {"b", 1, 50}}, 250}};
}

std::vector<order::event> with(std::vector<order::event> base, order::event e) {
  base.push_back(std::move(e));
  return base;
}

} // namespace

TEST_CASE("an order is placed with valid lines", "[shop][domain]") {
  CHECK(given<order>({}).when(place_order{"o1", "c1", {{"a", 2, 100}, {"b", 1, 50}}}).then_events(placed()));
  CHECK(given<order>({}).when(place_order{"o1", "c1", {}}).then_rejected("at least one line"));
  CHECK(given<order>({}).when(place_order{"o1", "c1", {{"a", 1, 1}, {"a", 1, 1}}}).then_rejected("two lines"));
  CHECK(given<order>({}).when(place_order{"o1", "c1", {{"a", 0, 1}}}).then_rejected("out of bounds"));
  CHECK(given<order>(placed()).when(place_order{"o1", "c1", {{"a", 1, 1}}}).then_rejected("exists already"));
}

TEST_CASE("an order follows its life cycle and refuses everything else", "[shop][domain]") {
  auto confirmed = with(placed(), order_confirmed{});
  auto paid = with(confirmed, order_paid{250});
  auto shipped = with(paid, order_shipped{});
  auto rejected = with(placed(), order_rejected{"no stock"});
  auto cancelled = with(confirmed, order_cancelled{"changed my mind"});

  CHECK(given<order>(placed()).when(confirm_order{}).then_events({order_confirmed{}}));
  CHECK(given<order>(placed()).when(reject_order{"no stock"}).then_events({order_rejected{"no stock"}}));
  CHECK(given<order>(confirmed).when(pay_order{250}).then_events({order_paid{250}}));
  CHECK(given<order>(confirmed).when(pay_order{249}).then_rejected("does not equal the total 250"));
  CHECK(given<order>(paid).when(ship_order{}).then_events({order_shipped{}}));
  CHECK(given<order>(placed()).when(cancel_order{"x"}).then_events({order_cancelled{"x"}}));
  CHECK(given<order>(confirmed).when(cancel_order{"x"}).then_events({order_cancelled{"x"}}));

  // Refusals, with a reason.
  CHECK(given<order>(placed()).when(pay_order{250}).then_rejected("the order is placed"));
  CHECK(given<order>(confirmed).when(ship_order{}).then_rejected("only paid orders"));
  CHECK(given<order>(paid).when(pay_order{250}).then_rejected("the order is paid"));
  CHECK(given<order>(paid).when(cancel_order{"x"}).then_rejected("only placed or confirmed"));
  CHECK(given<order>(shipped).when(cancel_order{"x"}).then_rejected("the order is shipped"));
  CHECK(given<order>(shipped).when(ship_order{}).then_rejected());
  CHECK(given<order>(rejected).when(confirm_order{}).then_rejected("the order is rejected"));
  CHECK(given<order>(cancelled).when(confirm_order{}).then_rejected("the order is cancelled"));
  CHECK(given<order>(cancelled).when(cancel_order{"x"}).then_rejected());
  CHECK(given<order>({}).when(pay_order{1}).then_rejected("no such order"));
  CHECK(given<order>(confirmed).when(reject_order{"late"}).then_rejected("cannot be rejected"));

  // Fulfilment may repeat itself.
  CHECK(given<order>(confirmed).when(confirm_order{}).then_nothing());
  CHECK(given<order>(shipped).when(confirm_order{}).then_nothing());
  CHECK(given<order>(rejected).when(reject_order{"again"}).then_nothing());

  CHECK(annal::testing::snapshot_round_trip_matches_replay<order>(shipped));
  CHECK(annal::testing::snapshot_round_trip_matches_replay<order>(cancelled));
}

TEST_CASE("order totals stay within bounds", "[shop][domain]") {
  CHECK(order_total({{"a", 3, 100}, {"b", 2, 5}}) == 310);
  CHECK(order_total({{"a", max_quantity, max_price_cents}}) == max_quantity * max_price_cents);
  CHECK(order_total({{"a", max_quantity + 1, 1}}) == -1);
  CHECK(order_total({{"a", 1, -1}}) == -1);
}
