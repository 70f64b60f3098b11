// What an order line must hold in inventory, by the order's status: the rule both the shop
// tests' invariants and the soak check against the events (one statement of it).
#pragma once

#include <cstdint>
#include <string_view>

namespace shop::client {

/// True when a line of `quantity` units of an order in `status` holds what fulfilment
/// promises: confirmed or paid — all units reserved, none shipped; shipped — none reserved,
/// all shipped; rejected or cancelled — nothing reserved or shipped. A placed order (not
/// decided yet) or an unknown status holds nothing right.
inline bool line_holding_ok(std::string_view status, int64_t quantity, int64_t reserved,
                            int64_t shipped) noexcept {
  if (status == "confirmed" || status == "paid")
    return reserved == quantity && shipped == 0;
  if (status == "shipped")
    return reserved == 0 && shipped == quantity;
  if (status == "rejected" || status == "cancelled")
    return reserved == 0 && shipped == 0;
  return false;
}

} // namespace shop::client
