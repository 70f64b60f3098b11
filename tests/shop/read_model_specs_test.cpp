// The shop's durable read models through the test kit's projection spec: events in, rows
// out, replay equality, and exactly-once across a crash at every position.
#include <catch2/catch.hpp>

#include <string>

#include "annal/testing/durable_projection_spec.hpp"
// The shop's internal projections behind its read models (not an installed header).
#include "../../sample/read_models/projections.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/domain/product.hpp"
#include "shop/read_models/queries.hpp"
#include "shop/read_models/tables.hpp"

namespace read_model_specs_cases {

using annal::testing::durable_projection_spec;

namespace {

const annal::event_registry& shop_registry() {
  static const annal::event_registry reg = [] {
    annal::event_registry r;
    annal::aggregate_traits<shop::product>::register_events(r);
    annal::aggregate_traits<shop::inventory>::register_events(r);
    return r;
  }();
  return reg;
}

// A factory for the spec: the projection over the tables of the store it is given.
template <annal::durable_projection (*Make)(const annal::event_registry&, const shop::read_model_tables&)>
annal::result<annal::durable_projection> over(annal::read_model_store& store) {
  auto tables = shop::open_read_model_tables(store);
  if (!tables)
    return std::move(tables).error();
  return Make(shop_registry(), *tables);
}

} // namespace

TEST_CASE("the catalog read model follows creations and price changes exactly once",
          "[shop][read_models][spec]") {
  auto spec = durable_projection_spec{over<shop::detail::make_catalog_projection>}
                .given<shop::product>("pen", {shop::product_created{"pen", "Pen", 250},
                                              shop::product_price_changed{250, 375}})
                .given<shop::product>("ink", {shop::product_created{"ink", "Ink", 90}});
  CHECK(spec.then([](annal::read_model_store& s) -> annal::status {
    auto tables = shop::open_read_model_tables(s);
    if (!tables)
      return std::move(tables).error();
    return s.read([&](const annal::read_model_txn& t) -> annal::status {
      auto pen = shop::find_product(t, *tables, "pen");
      if (!pen || !*pen || (*pen)->price_cents != 375 || (*pen)->name != "Pen")
        return annal::make_error(annal::errc::rejected, "pen is not priced 375");
      return {};
    });
  }));
  CHECK(spec.replays_equal());
  CHECK(spec.exactly_once_across_crash());
}

TEST_CASE("the inventory read model counts stock exactly once across a crash",
          "[shop][read_models][spec]") {
  auto spec = durable_projection_spec{over<shop::detail::make_inventory_projection>}
                .given<shop::inventory>("pen", {shop::stock_restocked{10},
                                                shop::stock_reserved{"o-1", 3},
                                                shop::stock_released{"o-1", 1},
                                                shop::stock_shipped{"o-1", 2}});
  CHECK(spec.then([](annal::read_model_store& s) -> annal::status {
    auto tables = shop::open_read_model_tables(s);
    if (!tables)
      return std::move(tables).error();
    return s.read([&](const annal::read_model_txn& t) -> annal::status {
      auto pen = shop::find_inventory(t, *tables, "pen");
      if (!pen || !*pen || (*pen)->on_hand != 8 || (*pen)->reserved != 0)
        return annal::make_error(annal::errc::rejected, "pen's stock is not 8 on hand, 0 reserved");
      return {};
    });
  }));
  CHECK(spec.replays_equal());
  CHECK(spec.exactly_once_across_crash());
}

} // namespace read_model_specs_cases
