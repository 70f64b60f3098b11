#include "soak/soak_checks.hpp"

#include "shop/client/order_holdings.hpp"

#include <algorithm>
#include <thread>
#include <unordered_map>

namespace annal::soak {

using nlohmann::json;
using clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t page = 1000;
constexpr std::size_t max_reported = 20;

void report(std::vector<std::string>& out, std::string what) {
  if (out.size() < max_reported)
    out.push_back(std::move(what));
  else if (out.size() == max_reported)
    out.push_back("(more left out)");
}

} // namespace

std::size_t find_lost(shop_client& c, const std::vector<ack>& acks, std::vector<std::string>& lost,
                      std::string& error) {
  std::size_t count = 0;
  if (acks.empty())
    return 0;
  std::unordered_map<uint64_t, const ack*> by_position;
  uint64_t first = UINT64_MAX;
  uint64_t last = 0;
  for (const auto& a : acks) {
    by_position.emplace(a.position, &a);
    first = std::min(first, a.position);
    last = std::max(last, a.position);
  }
  uint64_t after = first - 1;
  // Bounded: each page moves `after` forward by at least one position.
  for (uint64_t pages = 0; after < last && pages <= last - first + 1; ++pages) {
    auto r = c.get("/events?after=" + std::to_string(after) + "&limit=" + std::to_string(page));
    if (r.status != 200) {
      error = "GET /events?after=" + std::to_string(after) + ": " + std::to_string(r.status) + " " + r.text;
      return count;
    }
    const auto& evs = r.json["events"];
    if (evs.empty())
      break;
    for (const auto& e : evs) {
      auto pos = e["position"].get<uint64_t>();
      auto i = by_position.find(pos);
      if (i == by_position.end())
        continue;
      const auto& a = *i->second;
      if (e["stream"] != a.stream || e["version"] != a.version || !a.matches(e["type"].get<std::string>())) {
        ++count;
        report(lost, "ack " + a.stream + " v" + std::to_string(a.version) + " " + a.type + " at "
                       + std::to_string(a.position) + " but the journal has " + e["stream"].get<std::string>()
                       + " v" + std::to_string(e["version"].get<uint64_t>()) + " "
                       + e["type"].get<std::string>() + " there");
      }
      by_position.erase(i);
    }
    after = evs.back()["position"].get<uint64_t>();
  }
  for (const auto& [pos, a] : by_position) {
    ++count;
    report(lost, "ack " + a->stream + " v" + std::to_string(a->version) + " " + a->type + " at "
                   + std::to_string(pos) + " is not in the journal");
  }
  return count;
}

std::string await_quiet(shop_client& c, const std::vector<std::pair<std::string, bool>>& orders,
                        std::chrono::seconds timeout) {
  auto deadline = clock::now() + timeout;
  std::size_t next = 0; // orders before it are decided (an order never returns to placed)
  uint64_t stable_head = 0;
  int stable_polls = 0;
  std::string why = "no answer";
  while (clock::now() < deadline) {
    auto h = c.get("/health");
    if (h.status != 200) {
      why = "GET /health: " + std::to_string(h.status) + " " + h.text;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    auto head = h.json["position"].get<uint64_t>();
    for (; next < orders.size(); ++next) {
      auto o = c.get("/orders/" + orders[next].first);
      if (o.status == 404 && !orders[next].second)
        continue; // its placement never reached the journal
      if (o.status != 200 || o.json.value("status", "") == "placed") {
        why = "order " + orders[next].first + " is " + (o.status == 200 ? o.json.value("status", "") : o.text);
        break;
      }
    }
    bool caught_up = next == orders.size();
    if (caught_up) {
      auto p = c.get("/projections");
      if (p.status != 200) {
        caught_up = false;
        why = "GET /projections: " + std::to_string(p.status);
      } else {
        for (const auto& x : p.json["projections"])
          if (x["position"].get<uint64_t>() < head) {
            caught_up = false;
            why = "projection " + x["name"].get<std::string>() + " at " + std::to_string(x["position"].get<uint64_t>())
                  + " of " + std::to_string(head);
          }
      }
    }
    if (caught_up && head == stable_head) {
      if (++stable_polls >= 4)
        return {};
    } else {
      stable_polls = 0;
      if (caught_up)
        why = "the journal still grows (head " + std::to_string(head) + ")";
    }
    stable_head = head;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return why;
}

std::vector<std::string> stock_auditor::audit(shop_client& c, const std::vector<std::string>& skus,
                                              uint64_t& oversold) {
  std::vector<std::string> out;
  for (const auto& sku : skus) {
    auto& a = skus_[sku];
    // Bounded: each page moves next_version forward.
    for (int pages = 0; pages < 1000000; ++pages) {
      auto r = c.get("/streams/inventory-" + sku + "/events?from=" + std::to_string(a.next_version)
                     + "&limit=" + std::to_string(page));
      if (r.status == 404)
        break; // never restocked
      if (r.status != 200) {
        report(out, "GET /streams/inventory-" + sku + "/events: " + std::to_string(r.status) + " " + r.text);
        break;
      }
      const auto& evs = r.json["events"];
      for (const auto& e : evs) {
        auto version = e["version"].get<uint64_t>();
        a.next_version = version + 1;
        const auto& type = e["type"];
        const auto& d = e["data"];
        if (type == "StockRestocked") {
          a.restocked += d["quantity"].get<int64_t>();
        } else if (type == "StockReserved") {
          auto id = d["order_id"].get<std::string>();
          if (a.reservations.count(id) > 0)
            report(out, sku + ": order " + id + " reserved twice");
          auto q = d["quantity"].get<int64_t>();
          a.reservations[id] += q;
          a.reserved += q;
        } else if (type == "StockReleased") {
          auto id = d["order_id"].get<std::string>();
          auto i = a.reservations.find(id);
          if (i == a.reservations.end()) {
            report(out, sku + ": release of " + id + " which held nothing");
          } else {
            a.reserved -= i->second;
            a.reservations.erase(i);
          }
        } else if (type == "StockShipped") {
          auto id = d["order_id"].get<std::string>();
          auto q = d["quantity"].get<int64_t>();
          auto i = a.reservations.find(id);
          if (i == a.reservations.end() || i->second != q)
            report(out, sku + ": shipment of " + std::to_string(q) + " for " + id + " which reserved "
                          + std::to_string(i == a.reservations.end() ? 0 : i->second));
          if (i != a.reservations.end()) {
            a.reserved -= i->second;
            a.reservations.erase(i);
          }
          a.shipped += q;
          a.shipped_by_order[id] += q;
        }
        if (a.reserved + a.shipped > a.restocked || a.restocked - a.shipped < 0) {
          ++oversold;
          report(out, "oversold: " + sku + " at version " + std::to_string(version) + ": reserved "
                        + std::to_string(a.reserved) + " + shipped " + std::to_string(a.shipped)
                        + " > restocked " + std::to_string(a.restocked));
        }
      }
      if (evs.size() < page)
        break;
    }
    if (a.next_version == 1)
      continue;
    auto level = c.get("/inventory/" + sku);
    if (level.status != 200) {
      report(out, "GET /inventory/" + sku + ": " + std::to_string(level.status) + " " + level.text);
    } else if (level.json["on_hand"] != a.restocked - a.shipped || level.json["reserved"] != a.reserved
               || level.json["on_hand"].get<int64_t>() < 0) {
      report(out, "inventory read model of " + sku + " is " + level.json.dump() + ", the events say on_hand "
                    + std::to_string(a.restocked - a.shipped) + " reserved " + std::to_string(a.reserved));
    }
  }
  return out;
}

std::vector<std::string> stock_auditor::check_orders(
  shop_client& c, const std::vector<std::pair<std::string, bool>>& orders) {
  std::vector<std::string> out;
  for (const auto& [id, acked] : orders) {
    auto o = c.get("/orders/" + id);
    if (o.status == 404 && !acked)
      continue;
    if (o.status != 200) {
      report(out, "order " + id + ": " + std::to_string(o.status) + " " + o.text);
      continue;
    }
    auto status = o.json["status"].get<std::string>();
    for (const auto& line : o.json["lines"]) {
      auto sku = line["sku"].get<std::string>();
      auto q = line["quantity"].get<int64_t>();
      auto i = skus_.find(sku);
      if (i == skus_.end())
        continue;
      const auto& a = i->second;
      auto held = a.reservations.count(id) ? a.reservations.at(id) : 0;
      auto sent = a.shipped_by_order.count(id) ? a.shipped_by_order.at(id) : 0;
      if (!shop::client::line_holding_ok(status, q, held, sent))
        report(out, "order " + id + " is " + status + " but holds " + std::to_string(held) + " and shipped "
                      + std::to_string(sent) + " of its " + std::to_string(q) + " x " + sku);
    }
  }
  return out;
}

} // namespace annal::soak
