#include "projections.hpp"

#include "shop/domain/inventory.hpp"

namespace shop::detail {

namespace {

// Applies one inventory event to the row of its sku.
struct level_change {
  inventory_view& row;
  void operator()(const stock_restocked& e) const { row.on_hand += e.quantity; }
  void operator()(const stock_reserved& e) const { row.reserved += e.quantity; }
  void operator()(const stock_released& e) const { row.reserved -= e.quantity; }
  void operator()(const stock_shipped& e) const {
    row.on_hand -= e.quantity;
    row.reserved -= e.quantity;
  }
};

} // namespace

annal::durable_projection make_inventory_projection(const annal::event_registry& reg,
                                                    const read_model_tables& tables) {
  auto table = tables.inventory;
  annal::durable_projection p;
  p.options = read_model_options(inventory_projection, "inventory");
  p.tables = {inventory_table};
  p.apply = annal::event_handlers<annal::read_model_txn>{reg}.on_each<inventory::event>(
    [table](annal::read_model_txn& t, const annal::event_context& c, const auto& e) -> annal::status {
      std::string sku{c.aggregate_id};
      auto row = table.get(t, sku);
      if (!row)
        return std::move(row).error();
      inventory_view v = *row ? std::move(**row) : inventory_view{sku, 0, 0};
      level_change{v}(e);
      return table.put(t, sku, v);
    });
  return p;
}

} // namespace shop::detail
