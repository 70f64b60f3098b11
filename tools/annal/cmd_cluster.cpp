// annal cluster status --url http://HOST:PORT: a cluster node's view of its members (link
// health, shards owned), whether its links use TLS, and the shard map with epochs (one row
// per owner and epoch), read from the node's GET /cluster/status (shop-node
// --cluster-config). Needs no data folder.
#include <CLI/CLI.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <regex>

#include "command.hpp"

namespace annal::cli {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct cluster_args {
  std::string url;
  std::string token;
};

// GET `target` from host:port, bounded by a 5 s deadline (connect, write, read).
outcome<std::string> http_get(const std::string& host, const std::string& port, const std::string& target,
                              const std::string& token) {
  try {
    boost::asio::io_context io;
    tcp::resolver resolver{io};
    beast::tcp_stream stream{io};
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    if (!token.empty())
      req.set(http::field::authorization, "Bearer " + token);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    if (res.result() == http::status::not_found)
      return operation_failure(host + ":" + port + " serves no /cluster/status: is it a cluster node "
                                                   "(--cluster-config)?");
    if (res.result() != http::status::ok)
      return operation_failure(host + ":" + port + " answered " + std::to_string(res.result_int())
                               + ": " + res.body());
    return res.body();
  } catch (const std::exception& e) {
    return operation_failure("cannot read " + host + ":" + port + target + ": " + e.what());
  }
}

outcome<exit_code> run_status(context& ctx, const cluster_args& args) {
  static const std::regex url_form{R"(^http://(\[[^\]]+\]|[^:/]+):([0-9]{1,5})/?$)"};
  std::smatch m;
  if (!std::regex_match(args.url, m, url_form))
    return failure{exit_code::usage, "--url must be http://HOST:PORT, not '" + args.url + "'"};
  auto host = m[1].str();
  if (host.front() == '[')
    host = host.substr(1, host.size() - 2);
  auto body = http_get(host, m[2].str(), "/cluster/status", args.token);
  if (!body)
    return body.error();
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.contains("members") || !j.contains("shards"))
    return operation_failure("the node's /cluster/status is not a cluster status: " + body->substr(0, 200));
  if (ctx.out.json()) {
    record r;
    r.json("status", j.dump());
    ctx.out.object(r);
    return exit_code::ok;
  }
  ctx.out.heading("node " + j.value("node", std::string{}) + ": members"
                  + (j.value("tls", false) ? " (links over TLS)" : ""));
  for (const auto& x : j["members"]) {
    record r;
    r.text("member", x.value("id", std::string{}) + (x.value("self", false) ? " (this node)" : ""))
      .text("address", x.value("host", std::string{}) + ":" + std::to_string(x.value("port", 0)))
      .text("health", x.value("health", std::string{}))
      .number("shards", x.value("shards", uint64_t{0}))
      .number("connects", x.value("connects", uint64_t{0}))
      .text("last_error", x.value("last_error", std::string{}));
    ctx.out.row(r);
  }
  ctx.out.end_table();
  // One row per (owner, epoch) with its shards: 64 rows of one shard each hide who owns what.
  std::map<std::pair<std::string, uint64_t>, std::string> owned;
  for (const auto& x : j["shards"]) {
    auto& list = owned[{x.value("owner", std::string{}), x.value("epoch", uint64_t{0})}];
    list += (list.empty() ? "" : " ") + std::to_string(x.value("shard", uint64_t{0}));
  }
  ctx.out.heading("shard map (" + std::to_string(j.value("shard_count", 0)) + " shards)");
  for (const auto& [key, shards] : owned) {
    record r;
    r.text("owner", key.first).number("epoch", key.second).text("shards", shards);
    ctx.out.row(r);
  }
  return exit_code::ok;
}

} // namespace

void add_cluster_command(CLI::App& app, runner& chosen) {
  auto* cmd = app.add_subcommand("cluster", "a cluster node's members, link health and shard map");
  cmd->require_subcommand(1);
  auto* status = cmd->add_subcommand("status", "members, health and shard map as the node at --url sees them");
  auto args = std::make_shared<cluster_args>();
  status->add_option("--url", args->url, "the node's HTTP address, http://HOST:PORT")->required();
  status->add_option("--token", args->token, "the node's API token (or set ANNAL_TOKEN)")->envname("ANNAL_TOKEN");
  status->callback([&chosen, args] { chosen = [args](context& ctx) { return run_status(ctx, *args); }; });
}

} // namespace annal::cli
