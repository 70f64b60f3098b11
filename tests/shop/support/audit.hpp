// Invariants of the stock, checked from the audit trail of one sku's inventory stream:
// at every event, reserved + shipped never exceeds what was restocked.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "shop_client.hpp"

namespace shop::test {

/// The stock of one sku as its events tell it.
struct stock_audit {
  int64_t restocked = 0;
  int64_t shipped = 0;
  /// Open reservations by order id.
  std::map<std::string, int64_t> reservations;
  /// Orders whose stock shipped, and how much.
  std::map<std::string, int64_t> shipped_by_order;
  /// Descriptions of every broken rule (empty: all held).
  std::vector<std::string> violations;
  uint64_t events = 0;

  int64_t reserved() const {
    int64_t n = 0;
    for (const auto& [id, q] : reservations)
      n += q;
    return n;
  }
};

/// Reads every event of inventory-<sku> (paged) and replays it, checking the never-oversell
/// rule after each event.
stock_audit audit_stock(shop_client& c, const std::string& sku);

/// Every event of a stream (paged).
std::vector<nlohmann::json> stream_events(shop_client& c, const std::string& stream);

} // namespace shop::test
