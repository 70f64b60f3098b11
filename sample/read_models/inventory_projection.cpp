#include "projections.hpp"

#include "row_codec.hpp"
#include "shop/domain/inventory.hpp"
#include "shop/read_models/views.hpp"

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
  annal::durable_projection p;
  p.options = read_model_options(inventory_projection, "inventory");
  p.tables = {inventory_table};
  auto table = tables.inventory;
  p.apply = [&reg, table](annal::read_model_txn& t, const annal::event_view& e) -> annal::status {
    auto ev = decode_event<inventory>(reg, e);
    if (!ev)
      return std::move(ev).error();
    auto sku = entity_id(e.stream_id);
    auto row = get_row<inventory_view>(t, table, sku);
    if (!row)
      return std::move(row).error();
    inventory_view v = *row ? std::move(**row) : inventory_view{sku, 0, 0};
    std::visit(level_change{v}, *ev);
    return put_row(t, table, sku, v);
  };
  return p;
}

} // namespace shop::detail
