// The shop's invariants over a set of orders and skus, checked through the HTTP API once
// fulfilment has decided every order:
//  - no sku is ever oversold (reserved + shipped <= restocked, at every event);
//  - the inventory read model equals what the inventory events say;
//  - every confirmed or paid order holds exactly its lines' reservations, every shipped
//    order shipped exactly its lines, rejected and cancelled orders hold nothing.
#pragma once

#include <string>
#include <vector>

#include "shop_client.hpp"

namespace shop::test {

/// True when every projection's position has reached the journal's head.
bool projections_caught_up(shop_client& c);

/// Waits (up to `timeout`) until no order of `order_ids` is "placed" any more and every
/// projection has caught up with the journal; false on timeout.
bool await_quiet(shop_client& c, const std::vector<std::string>& order_ids,
                 std::chrono::seconds timeout = std::chrono::seconds(60));

/// The broken invariants (empty: all hold).
std::vector<std::string> check_invariants(shop_client& c, const std::vector<std::string>& skus,
                                          const std::vector<std::string>& order_ids);

} // namespace shop::test
