#include "shop/node/render.hpp"

#include <ctime>

namespace shop::node {

using nlohmann::json;

json to_json(const product_view& v) {
  return {{"sku", v.sku}, {"name", v.name}, {"price_cents", v.price_cents}};
}

json to_json(const inventory_view& v) {
  return {{"sku", v.sku}, {"on_hand", v.on_hand}, {"reserved", v.reserved},
          {"available", v.available()}};
}

json to_json(const order_view& v) {
  json lines = json::array();
  for (const auto& l : v.lines)
    lines.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"price_cents", l.price_cents}});
  json out = {{"order_id", v.order_id},       {"customer_id", v.customer_id},
              {"status", to_string(v.status)}, {"lines", std::move(lines)},
              {"total_cents", v.total_cents},  {"version", v.version}};
  if (!v.reason.empty())
    out["reason"] = v.reason;
  return out;
}

json to_json(const std::vector<customer_order_view>& orders) {
  json list = json::array();
  for (const auto& o : orders)
    list.push_back({{"order_id", o.order_id}, {"status", to_string(o.status)},
                    {"total_cents", o.total_cents}});
  return {{"orders", std::move(list)}};
}

json to_json(const std::vector<sales_view>& sales) {
  json list = json::array();
  for (const auto& s : sales)
    list.push_back({{"sku", s.sku}, {"units", s.units}, {"revenue_cents", s.revenue_cents}});
  return {{"skus", std::move(list)}};
}

std::string rfc3339(annal::timestamp_ns t) {
  auto secs = static_cast<std::time_t>(t / 1'000'000'000);
  auto nanos = t % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(nanos));
  return buf;
}

json to_json(const annal::recorded_event& e, const annal::event_registry& reg) {
  json out = {{"position", e.position},
              {"stream", e.stream_id},
              {"version", e.version},
              {"type", e.type},
              {"schema_version", e.schema_version},
              {"timestamp", rfc3339(e.timestamp)},
              {"metadata",
               {{"command_id", e.metadata.command_id},
                {"correlation_id", e.metadata.correlation_id},
                {"causation_id", e.metadata.causation_id}}}};
  auto text = reg.to_json(e.type, e.schema_version, e.payload, e.corrupt);
  json data = text ? json::parse(*text, nullptr, false) : json{};
  if (!text) {
    out["data"] = nullptr;
    out["error"] = text.error().to_string();
  } else if (data.is_discarded()) {
    out["data"] = *text; // not JSON after all: keep the text rather than lose it
  } else {
    out["data"] = std::move(data);
  }
  return out;
}

} // namespace shop::node
