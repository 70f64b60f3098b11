// The checks the soak runs after each restart, each returning the broken rules as text
// (empty: all held):
//  - lost: every acknowledged command's event is in the journal where its reply said;
//  - oversold: per sku, reserved + shipped never exceed restocked at any event, on-hand
//    never negative, and the inventory read model says what the events say;
//  - orders: every order is decided, confirmed/paid ones hold their lines' reservations,
//    shipped ones shipped them, rejected and cancelled ones hold nothing;
//  - quiet: the node reaches a state where nothing more is written and every projection
//    has caught up (bounded; not reaching it is a hang).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "soak/node_client.hpp"
#include "soak/soak_ledger.hpp"

namespace annal::soak {

/// How many acks have their event missing or different; `messages` says which (the first
/// 20). Reads the global log through GET /events from the oldest ack's position on;
/// `error` is set when the node did not answer.
std::size_t find_lost(shop_client& c, const std::vector<ack>& acks, std::vector<std::string>& messages,
                      std::string& error);

/// Waits up to `timeout` until the journal head stays put for a second, every projection
/// is at the head and no order of `orders` is still "placed". "" when quiet, otherwise why not.
std::string await_quiet(shop_client& c, const std::vector<std::pair<std::string, bool>>& orders,
                        std::chrono::seconds timeout);

/// The stock of one sku as its events tell it, audited incrementally across restarts.
struct stock_audit {
  uint64_t next_version = 1;
  int64_t restocked = 0;
  int64_t shipped = 0;
  int64_t reserved = 0;
  std::map<std::string, int64_t> reservations;     ///< open, by order id
  std::map<std::string, int64_t> shipped_by_order;
};

/// Audits every sku's inventory stream incrementally (events not seen before) and compares
/// the inventory read model with it.
class stock_auditor {
public:
  /// Reads the new events of every sku; `oversold` counts broken stock rules, the rest go
  /// to the returned list with them.
  std::vector<std::string> audit(shop_client& c, const std::vector<std::string>& skus,
                                 uint64_t& oversold);
  /// Checks the orders (id, placement acked) against the audited stock.
  std::vector<std::string> check_orders(shop_client& c,
                                        const std::vector<std::pair<std::string, bool>>& orders);

private:
  std::map<std::string, stock_audit> skus_;
};

} // namespace annal::soak
