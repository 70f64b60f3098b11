#include "shop/node/cluster_route.hpp"

#include "annal/cluster/cluster_status.hpp"

namespace shop::node {

extra_route cluster_status_route(const annal::cluster::cluster_node& node) {
  return [&node](const http::request_view& req, responder done) {
    if (req.path != "/cluster/status" || req.method != "GET")
      return false;
    done(http_response{200, annal::cluster::to_json(node.status()), "application/json", false});
    return true;
  };
}

} // namespace shop::node
