#include "shop/node/cluster_route.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

#include "annal/cluster/cluster_status.hpp"
#include "shop/node/shop_service.hpp"

namespace shop::node {

namespace {

constexpr std::string_view shards_prefix = "/cluster/shards/";
constexpr std::string_view move_suffix = "/move";

// "/cluster/shards/{shard}/move" -> shard; none for other paths.
std::optional<uint16_t> move_path_shard(std::string_view path) {
  if (path.size() <= shards_prefix.size() + move_suffix.size()
      || path.substr(0, shards_prefix.size()) != shards_prefix
      || path.substr(path.size() - move_suffix.size()) != move_suffix)
    return std::nullopt;
  auto digits = path.substr(shards_prefix.size(), path.size() - shards_prefix.size() - move_suffix.size());
  uint16_t shard = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), shard);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return shard;
}

http_response error(const annal::error& e) {
  return shop_service::error_response(to_api_error(e));
}

} // namespace

extra_route cluster_status_route(const annal::cluster::cluster_node& node) {
  return [&node](const http::request_view& req, responder done) {
    if (req.path != "/cluster/status" || req.method != "GET")
      return false;
    done(http_response{200, annal::cluster::to_json(node.status()), "application/json", false});
    return true;
  };
}

extra_route cluster_move_route(annal::cluster::cluster_node& node) {
  return [&node](const http::request_view& req, responder done) {
    auto shard = move_path_shard(req.path);
    if (!shard || req.method != "POST")
      return false;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("to") || !body["to"].is_string()) {
      done(error(annal::make_error(annal::errc::bad_request, "the body must be {\"to\": \"<member id>\"}")));
      return true;
    }
    node.move_shard(*shard, body["to"].get<std::string>(),
                    [done](annal::result<annal::cluster::move_report> r) {
                      done(r ? http_response{200, annal::cluster::to_json(*r), "application/json", false}
                             : error(r.error()));
                    });
    return true;
  };
}

extra_route cluster_rebalance_route(annal::cluster::cluster_node& node) {
  return [&node](const http::request_view& req, responder done) {
    bool drain = req.path == "/cluster/drain";
    if ((!drain && req.path != "/cluster/rebalance") || req.method != "POST")
      return false;
    auto answer = [done](annal::result<annal::cluster::rebalance_report> r) {
      done(r ? http_response{200, annal::cluster::to_json(*r), "application/json", false} : error(r.error()));
    };
    if (drain)
      node.drain(std::move(answer));
    else
      node.rebalance(std::move(answer));
    return true;
  };
}

} // namespace shop::node
