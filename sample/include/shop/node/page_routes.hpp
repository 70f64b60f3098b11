// The live operations page's routes beside the API (see web/ and sample/README.md):
//   public (no token; files without data): GET /  /ui/{file}  /docs  /docs/{file}  /openapi.json
//   data (token as the API):  GET /inventory  /streams/{stream}/state  /stats/throughput
// and GET /events/live (live_stream.hpp). The page's files are read from the web root
// (web/dist, made by `npm run build` in web/); without them the node runs all the same
// and `/` says how to build them.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "annal/runtime.hpp"
#include "shop/node/http_server.hpp"
#include "shop/node/throughput.hpp"
#include "shop/read_models/tables.hpp"

namespace shop::node {

/// One route: its method and path in OpenAPI's form ("/streams/{stream}/state").
struct route_spec {
  std::string method;
  std::string path;
};

/// Every route the node answers besides the API parser's (http::api_routes()): the
/// page's files, its data, the live stream and the API's description.
std::vector<route_spec> page_routes();

/// The OpenAPI 3.1 document of the whole HTTP API (sample/node/openapi.json, built in).
std::string_view openapi_document();

/// The public routes: the page and its files from `web_root`, the API docs, /openapi.json.
extra_route page_files_route(std::filesystem::path web_root);

/// The page's data routes: inventory per SKU, a stream's aggregate state at a version,
/// and the throughput samples. `rt` and `sampler` outlive the server.
extra_route page_data_route(annal::runtime& rt, read_model_tables tables,
                            const throughput_sampler& sampler);

} // namespace shop::node
