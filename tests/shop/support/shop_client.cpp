#include "shop_client.hpp"

#include <httplib.h>

#include <thread>

namespace shop::test {

std::string reply::error() const {
  if (json.is_object() && json.contains("error") && json["error"].is_string())
    return json["error"].get<std::string>();
  return {};
}

shop_client::shop_client(const std::string& host, int port, std::string token)
  : cli_(std::make_unique<httplib::Client>(host, port)), token_(std::move(token)) {
  cli_->set_keep_alive(true);
  cli_->set_tcp_nodelay(true); // headers and body go out in two writes: no Nagle delay
  cli_->set_connection_timeout(10);
  cli_->set_read_timeout(60);
  cli_->set_write_timeout(30);
}

shop_client::~shop_client() = default;
shop_client::shop_client(shop_client&&) noexcept = default;
shop_client& shop_client::operator=(shop_client&&) noexcept = default;

namespace {

reply convert(const httplib::Result& r) {
  reply out;
  if (!r)
    return out;
  out.status = r->status;
  out.text = r->body;
  for (const auto& [k, v] : r->headers)
    out.headers.emplace(k, v);
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  if (out.json.is_discarded())
    out.json = nullptr;
  return out;
}

} // namespace

reply shop_client::send(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type, const headers& h) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  for (const auto& [k, v] : h)
    req.headers.emplace(k, v);
  if (!token_.empty() && h.count("Authorization") == 0)
    req.headers.emplace("Authorization", "Bearer " + token_);
  req.body = body;
  if (!content_type.empty())
    req.headers.emplace("Content-Type", content_type);
  return convert(cli_->send(req));
}

reply shop_client::get(const std::string& path, const headers& h) {
  return send("GET", path, {}, {}, h);
}

reply shop_client::post(const std::string& path, const nlohmann::json& body, const headers& h) {
  return send("POST", path, body.dump(), "application/json", h);
}

reply shop_client::post_raw(const std::string& path, const std::string& body,
                            const std::string& content_type, const headers& h) {
  return send("POST", path, body, content_type, h);
}

reply shop_client::create_product(const std::string& sku, const std::string& name, int64_t price) {
  return post("/products", {{"sku", sku}, {"name", name}, {"price_cents", price}});
}

reply shop_client::restock(const std::string& sku, int64_t quantity) {
  return post("/inventory/" + sku + "/restock", {{"quantity", quantity}});
}

reply shop_client::place_order(const std::string& customer,
                               const std::vector<std::pair<std::string, int64_t>>& lines,
                               const std::string& order_id, const headers& h) {
  nlohmann::json body = {{"customer_id", customer}, {"lines", nlohmann::json::array()}};
  for (const auto& [sku, q] : lines)
    body["lines"].push_back({{"sku", sku}, {"quantity", q}});
  if (!order_id.empty())
    body["order_id"] = order_id;
  return post("/orders", body, h);
}

reply shop_client::order(const std::string& id, uint64_t min_position) {
  auto path = "/orders/" + id;
  if (min_position > 0)
    path += "?min_position=" + std::to_string(min_position);
  return get(path);
}

std::string shop_client::await_decided(const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string status;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = order(id);
    if (r.status == 200) {
      status = r.json["status"].get<std::string>();
      if (status != "placed")
        return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status;
}

} // namespace shop::test
