#include "invariants.hpp"

#include <cstdio>
#include <map>
#include <thread>

#include "audit.hpp"
#include "shop/client/order_holdings.hpp"

namespace shop::test {

bool projections_caught_up(shop_client& c) {
  auto head = c.get("/health");
  auto p = c.get("/projections");
  if (head.status != 200 || p.status != 200)
    return false;
  auto position = head.json["position"].get<uint64_t>();
  for (const auto& x : p.json["projections"])
    if (x["position"].get<uint64_t>() < position)
      return false;
  return true;
}

bool await_quiet(shop_client& c, const std::vector<std::string>& order_ids,
                 std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t next = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    while (next < order_ids.size()) {
      auto o = c.order(order_ids[next]);
      if (o.status != 200 || o.json["status"] == "placed")
        break;
      ++next;
    }
    // Twice in a row: fulfilment's last commands may still be on their way.
    if (next == order_ids.size() && projections_caught_up(c)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (projections_caught_up(c))
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (next < order_ids.size())
    std::fprintf(stderr, "await_quiet: %zu of %zu orders decided; %s is %s\n", next,
                 order_ids.size(), order_ids[next].c_str(), c.order(order_ids[next]).text.c_str());
  std::fprintf(stderr, "await_quiet: head %s, projections %s\n", c.get("/health").text.c_str(),
               c.get("/projections").text.c_str());
  return false;
}

std::vector<std::string> check_invariants(shop_client& c, const std::vector<std::string>& skus,
                                          const std::vector<std::string>& order_ids) {
  std::vector<std::string> out;
  std::map<std::string, stock_audit> audits;
  for (const auto& sku : skus) {
    auto a = audit_stock(c, sku);
    for (const auto& v : a.violations)
      out.push_back(v);
    auto level = c.get("/inventory/" + sku);
    if (level.status != 200) {
      out.push_back("no inventory for " + sku);
    } else if (level.json["on_hand"] != a.restocked - a.shipped || level.json["reserved"] != a.reserved()) {
      out.push_back("inventory read model of " + sku + " is " + level.json.dump() + ", events say on_hand "
                    + std::to_string(a.restocked - a.shipped) + " reserved " + std::to_string(a.reserved()));
    }
    audits.emplace(sku, std::move(a));
  }
  for (const auto& id : order_ids) {
    auto o = c.order(id);
    if (o.status != 200) {
      out.push_back("order " + id + " is missing (" + std::to_string(o.status) + ")");
      continue;
    }
    auto status = o.json["status"].get<std::string>();
    for (const auto& line : o.json["lines"]) {
      auto sku = line["sku"].get<std::string>();
      auto q = line["quantity"].get<int64_t>();
      auto i = audits.find(sku);
      if (i == audits.end())
        continue;
      const auto& a = i->second;
      auto held = a.reservations.count(id) ? a.reservations.at(id) : 0;
      auto sent = a.shipped_by_order.count(id) ? a.shipped_by_order.at(id) : 0;
      if (!shop::client::line_holding_ok(status, q, held, sent)) // placed: not decided
        out.push_back("order " + id + " is " + status + " but holds " + std::to_string(held)
                      + " and shipped " + std::to_string(sent) + " of its " + std::to_string(q)
                      + " x " + sku);
    }
  }
  return out;
}

} // namespace shop::test
