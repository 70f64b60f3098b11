#include "soak/soak_ledger.hpp"

#include <algorithm>
#include <utility>

namespace annal::soak {

void soak_ledger::acknowledge(ack a) {
  last_ack_ticks = std::chrono::steady_clock::now().time_since_epoch().count();
  ++acked;
  std::lock_guard<std::mutex> g{mx_};
  unchecked_.push_back(std::move(a));
}

void soak_ledger::touch_order(const std::string& id, bool acked_placement) {
  std::lock_guard<std::mutex> g{mx_};
  touched_.insert(id);
  if (acked_placement)
    acked_orders_.insert(id);
}

void soak_ledger::add_sku(const std::string& sku) {
  std::lock_guard<std::mutex> g{mx_};
  if (std::find(skus_.begin(), skus_.end(), sku) == skus_.end())
    skus_.push_back(sku);
}

std::vector<std::string> soak_ledger::skus() const {
  std::lock_guard<std::mutex> g{mx_};
  return skus_;
}

std::vector<ack> soak_ledger::take_unchecked() {
  std::lock_guard<std::mutex> g{mx_};
  return std::exchange(unchecked_, {});
}

std::vector<std::pair<std::string, bool>> soak_ledger::take_touched() {
  std::lock_guard<std::mutex> g{mx_};
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& id : touched_)
    out.emplace_back(id, acked_orders_.count(id) > 0);
  touched_.clear();
  return out;
}

bool soak_ledger::placement_acked(const std::string& id) const {
  std::lock_guard<std::mutex> g{mx_};
  return acked_orders_.count(id) > 0;
}

std::vector<std::string> soak_ledger::acked_orders() const {
  std::lock_guard<std::mutex> g{mx_};
  return {acked_orders_.begin(), acked_orders_.end()};
}

} // namespace annal::soak
