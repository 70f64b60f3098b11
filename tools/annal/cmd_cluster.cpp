// annal cluster status|move|rebalance|drain --url http://HOST:PORT: a cluster node's view
// of its members (link health, shards owned), whether its links use TLS, and the shard map
// with epochs (one row per owner and epoch), read from the node's GET /cluster/status
// (shop-node --cluster-config); and the shard moves the node runs for the operator (POST
// /cluster/shards/{s}/move, /cluster/rebalance, /cluster/drain). Needs no data folder.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>

#include "command.hpp"
#include "node_http.hpp"

namespace annal::cli {

namespace {

struct cluster_args {
  std::string url;
  std::string token;
  int shard = -1;
  std::string to;
  int timeout_s = 600;
};

const std::string not_a_cluster_node = "is it a cluster node (--cluster-config)?";

outcome<exit_code> run_status(context& ctx, const cluster_args& args) {
  auto node = parse_node_url(args.url);
  if (!node)
    return node.error();
  auto body = node_request(*node, "GET", "/cluster/status", {}, args.token, std::chrono::seconds(5),
                           not_a_cluster_node);
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
  std::string awaiting;
  for (const auto& s : j.value("awaiting_process_state", nlohmann::json::array()))
    awaiting += (awaiting.empty() ? "" : " ") + std::to_string(s.get<uint64_t>());
  if (!awaiting.empty()) {
    ctx.out.heading("waiting for the previous owner's process state (these do not move on yet)");
    record r;
    r.text("shards", awaiting);
    ctx.out.row(r);
  }
  return exit_code::ok;
}

// One row per move of a report (move_report's JSON).
void move_row(context& ctx, const nlohmann::json& m) {
  record r;
  r.number("shard", m.value("shard", uint64_t{0}))
    .text("from", m.value("from", std::string{}))
    .text("to", m.value("to", std::string{}))
    .number("epoch", m.value("epoch", uint64_t{0}))
    .number("head", m.value("head", uint64_t{0}))
    .number("pause_ms", m.value("pause_ms", 0.0), 1)
    .number("total_ms", m.value("total_ms", 0.0), 1);
  ctx.out.row(r);
}

// POSTs `target` to the node and shows the move(s) it answers with.
outcome<exit_code> run_moves(context& ctx, const cluster_args& args, const std::string& target,
                             const std::string& body) {
  auto node = parse_node_url(args.url);
  if (!node)
    return node.error();
  auto answer = node_request(*node, "POST", target, body, args.token, std::chrono::seconds(args.timeout_s),
                             not_a_cluster_node);
  if (!answer)
    return answer.error();
  auto j = nlohmann::json::parse(*answer, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return operation_failure("the node's answer is not JSON: " + answer->substr(0, 200));
  if (ctx.out.json()) {
    record r;
    r.json(j.contains("moves") ? "moves" : "move", (j.contains("moves") ? j["moves"] : j).dump());
    ctx.out.object(r);
    return exit_code::ok;
  }
  auto moves = j.contains("moves") ? j["moves"] : nlohmann::json::array({j});
  ctx.out.heading(std::to_string(moves.size()) + (moves.size() == 1 ? " shard moved" : " shards moved"));
  for (const auto& m : moves)
    move_row(ctx, m);
  return exit_code::ok;
}

// The options every cluster subcommand takes.
void node_options(CLI::App* cmd, cluster_args& args) {
  cmd->add_option("--url", args.url, "the node's HTTP address, http://HOST:PORT")->required();
  cmd->add_option("--token", args.token, "the node's API token (or set ANNAL_TOKEN)")->envname("ANNAL_TOKEN");
}

} // namespace

void add_cluster_command(CLI::App& app, runner& chosen) {
  auto* cmd = app.add_subcommand("cluster", "a cluster node's members, link health and shard map; shard moves");
  cmd->require_subcommand(1);
  auto args = std::make_shared<cluster_args>();
  auto* status = cmd->add_subcommand("status", "members, health and shard map as the node at --url sees them");
  node_options(status, *args);
  status->callback([&chosen, args] { chosen = [args](context& ctx) { return run_status(ctx, *args); }; });

  auto* move = cmd->add_subcommand("move", "moves a shard that the node at --url owns to another member");
  node_options(move, *args);
  move->add_option("--shard", args->shard, "the shard")->required()->check(CLI::Range(0, 65535));
  move->add_option("--to", args->to, "the member that takes it")->required();
  move->add_option("--timeout", args->timeout_s, "seconds to wait for the move (default 600)");
  move->callback([&chosen, args] {
    chosen = [args](context& ctx) {
      return run_moves(ctx, *args, "/cluster/shards/" + std::to_string(args->shard) + "/move",
                       nlohmann::json{{"to", args->to}}.dump());
    };
  });

  for (auto [name, help] : {std::pair{"rebalance", "evens out the shards among the members, one move at a time"},
                            std::pair{"drain", "moves every shard of the node at --url to the other members"}}) {
    auto* sub = cmd->add_subcommand(name, help);
    node_options(sub, *args);
    sub->add_option("--timeout", args->timeout_s, "seconds to wait for the moves (default 600)");
    sub->callback([&chosen, args, target = "/cluster/" + std::string{name}] {
      chosen = [args, target](context& ctx) { return run_moves(ctx, *args, target, "{}"); };
    });
  }
}

} // namespace annal::cli
