#include "audit.hpp"

namespace shop::test {

std::vector<nlohmann::json> stream_events(shop_client& c, const std::string& stream) {
  std::vector<nlohmann::json> out;
  uint64_t from = 1;
  for (;;) {
    auto page = c.get("/streams/" + stream + "/events?from=" + std::to_string(from) + "&limit=1000");
    if (page.status != 200)
      return out;
    const auto& evs = page.json["events"];
    for (const auto& e : evs)
      out.push_back(e);
    if (evs.size() < 1000)
      return out;
    from = evs.back()["version"].get<uint64_t>() + 1;
  }
}

stock_audit audit_stock(shop_client& c, const std::string& sku) {
  stock_audit a;
  for (const auto& e : stream_events(c, "inventory-" + sku)) {
    ++a.events;
    const auto& type = e["type"];
    const auto& d = e["data"];
    if (type == "StockRestocked") {
      a.restocked += d["quantity"].get<int64_t>();
    } else if (type == "StockReserved") {
      auto id = d["order_id"].get<std::string>();
      if (a.reservations.count(id) > 0)
        a.violations.push_back("order " + id + " reserved twice");
      a.reservations[id] += d["quantity"].get<int64_t>();
    } else if (type == "StockReleased") {
      auto id = d["order_id"].get<std::string>();
      if (a.reservations.erase(id) == 0)
        a.violations.push_back("release of " + id + " which held nothing");
    } else if (type == "StockShipped") {
      auto id = d["order_id"].get<std::string>();
      auto q = d["quantity"].get<int64_t>();
      if (a.reservations[id] != q)
        a.violations.push_back("shipment of " + id + " differs from its reservation");
      a.reservations.erase(id);
      a.shipped += q;
      a.shipped_by_order[id] += q;
    }
    if (a.reserved() + a.shipped > a.restocked)
      a.violations.push_back(sku + " oversold at version " + std::to_string(e["version"].get<uint64_t>())
                             + ": reserved " + std::to_string(a.reserved()) + " + shipped "
                             + std::to_string(a.shipped) + " > restocked " + std::to_string(a.restocked));
  }
  return a;
}

} // namespace shop::test
