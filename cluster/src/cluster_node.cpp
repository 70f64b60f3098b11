#include "annal/cluster/cluster_node.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include <utility>

#include "annal/log.hpp"
#include "annal/memory_projection.hpp"
#include "annal/runtime.hpp"
#include "endpoint.hpp"
#include "forwarder.hpp"
#include "node_context.hpp"
#include "peer_link.hpp"
#include "process_handoff.hpp"
#include "rebalancer.hpp"
#include "shard_mover.hpp"
#include "wire.hpp"

namespace annal::cluster {

namespace {

// How often a node looks for process state of shards it no longer owns (a hand-off after
// a move that failed, or that a kill -9 cut short); each look reads the pending timers.
constexpr std::chrono::seconds process_sweep_interval{10};

// Without heartbeats a silent partition (no reset: a cut cable, a dropped route) leaves
// CAF's connection open for as long as TCP retransmits, minutes: the peer would look up,
// every forwarded command would wait out its bound, and what was queued would be delivered
// late, after the heal. With them a connection that hears nothing is closed, its proxies
// go down and the links redial.
void prepare_network(runtime_config& rc, std::chrono::milliseconds heartbeat,
                     std::chrono::milliseconds connection_timeout) {
  auto previous = rc.caf_setup;
  rc.caf_setup = [previous, heartbeat, connection_timeout](caf::actor_system_config& cfg) {
    if (previous)
      previous(cfg);
    cfg.load<caf::io::middleman>();
    cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat});
    cfg.set("middleman.connection-timeout", caf::timespan{connection_timeout});
  };
}

// A memory projection over every event, from the journal's end on, that fires `commits`:
// how the endpoint's parked watches and local cluster projections hear of commits.
status watch_commits(runtime& rt, std::shared_ptr<detail::commit_signal> commits) {
  struct no_model {};
  memory_projection<no_model> spec;
  spec.options.name = "annal.cluster.commits";
  spec.options.filter = event_filter::all();
  spec.options.start = start_position::end;
  spec.apply = [commits](no_model&, const event_view&) -> status {
    commits->fire();
    return {};
  };
  auto view = rt.add_projection(std::move(spec));
  if (!view)
    return std::move(view).error();
  return {};
}

// The configured map with this node's journal records applied: shards it handed over to
// another node, and shards it took over, since the cluster was configured.
status load_live_map(detail::node_context& ctx) {
  ctx.map.reset(ctx.config.shards);
  auto records = ctx.rt->store().shard_owners();
  if (!records)
    return std::move(records).error();
  for (const auto& r : *records)
    ctx.map.adopt(r.shard, shard_owner{r.owner.empty() ? ctx.config.node_id : r.owner, r.epoch});
  return {};
}

} // namespace

void cluster_node::prepare(runtime_config& rc) {
  cluster_config defaults;
  prepare_network(rc, defaults.heartbeat, defaults.connection_timeout);
}

void cluster_node::prepare(runtime_config& rc, const cluster_config& config) {
  prepare_network(rc, config.heartbeat, config.connection_timeout);
  if (!config.tls)
    return;
  auto tls = *config.tls;
  auto previous = rc.caf_setup;
  rc.caf_setup = [previous, tls](caf::actor_system_config& cfg) {
    previous(cfg); // the middleman first: the openssl manager runs on it
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls.certificate.string();
    cfg.openssl_key = tls.key.string();
    cfg.openssl_cafile = tls.ca_file.string();
  };
}

result<std::unique_ptr<cluster_node>> cluster_node::join(runtime& rt, cluster_config config) {
  if (rt.running())
    return make_error(errc::bad_request, "join the cluster before the runtime starts");
  auto& sys = rt.system();
  if (!sys.has_middleman())
    return make_error(errc::bad_request, "the runtime's actor system has no network layer: "
                                         "call cluster_node::prepare on its runtime_config");
  if (config.tls && !sys.has_openssl_manager())
    return make_error(errc::bad_request, "the cluster config asks for TLS: call cluster_node::prepare "
                                         "with it on the runtime_config");
  std::unique_ptr<cluster_node> node{new cluster_node};
  node->ctx_ = std::make_shared<detail::node_context>();
  node->ctx_->config = std::move(config);
  node->ctx_->rt = &rt;
  // First: nothing to undo when it fails (the runtime refuses projections once started).
  if (auto ok = watch_commits(rt, node->ctx_->commits); !ok)
    return std::move(ok).error();
  const auto& cfg = node->ctx_->config;
  if (auto ok = load_live_map(*node->ctx_); !ok)
    return std::move(ok).error();
  node->endpoint_ = detail::spawn_endpoint(sys, node->ctx_);
  node->ctx_->endpoint = node->endpoint_.address();
  node->ctx_->sweep = detail::spawn_process_sweep(sys, node->ctx_, process_sweep_interval);
  // The links before the endpoint is published: it hands them what peers send for them.
  for (const auto& m : cfg.members) {
    if (m.id == cfg.node_id)
      node->ctx_->peers.add(m);
    else
      node->ctx_->peers.add(m, detail::spawn_peer_link(sys, node->ctx_, m));
  }
  const auto& self = cfg.self();
  auto port = cfg.tls ? caf::openssl::publish(node->endpoint_, self.port, self.host.c_str(), true)
                      : caf::io::publish(node->endpoint_, self.port, self.host.c_str(), true);
  if (!port) {
    auto why = sys.render(port.error());
    node->leave();
    return make_error(errc::unavailable, "cannot listen on " + self.host + ":"
                                           + std::to_string(self.port) + ": " + why);
  }
  node->port_ = *port;
  auto fwd = std::make_shared<detail::shard_forwarder>(node->ctx_);
  node->forwarder_ = fwd;
  if (auto ok = rt.set_forwarder(fwd); !ok) {
    node->leave();
    return std::move(ok).error();
  }
  log(log_level::info, "cluster: node '" + cfg.node_id + "' listening on " + self.host + ":"
                         + std::to_string(node->port_) + (cfg.tls ? " (TLS)" : "") + ", owns "
                         + std::to_string(node->ctx_->map.copy().shards_of(cfg.node_id).size()) + " of "
                         + std::to_string(cfg.shards.shard_count()) + " shards");
  return node;
}

cluster_node::~cluster_node() {
  leave();
}

cluster_status cluster_node::status() const {
  cluster_status s;
  const auto& cfg = ctx_->config;
  s.node_id = cfg.node_id;
  s.tls = cfg.tls.has_value();
  s.shards = ctx_->map.copy();
  for (const auto& m : ctx_->peers.members()) {
    member_status ms;
    ms.id = m.id;
    ms.host = m.host;
    ms.port = m.port;
    ms.joins = m.joins;
    ms.self = m.id == cfg.node_id;
    ms.shards = s.shards.shards_of(m.id).size();
    if (ms.self) {
      ms.state = link_state::up;
    } else {
      auto h = ctx_->health.get(m.id);
      ms.state = h.state;
      ms.last_error = h.last_error;
      ms.connects = h.connects;
    }
    s.members.push_back(std::move(ms));
  }
  for (uint16_t i = 0; i < s.shards.shard_count(); ++i)
    if (ctx_->rt->expects_process_shard(i))
      s.awaiting_process_state.push_back(i);
  return s;
}

bool cluster_node::is_remote(std::string_view stream_id) const {
  return forwarder_ && forwarder_->is_remote(stream_id);
}

void cluster_node::read_stream(std::string stream_id, stream_version after, read_stream_done done) const {
  if (!forwarder_)
    return done(make_error(errc::unavailable, "this node is not in a cluster"));
  if (!forwarder_->is_remote(stream_id))
    return done(detail::from_wire(detail::read_local(ctx_->rt->store(), stream_id, after), stream_id));
  forwarder_->read(std::move(stream_id), after, std::move(done));
}

void cluster_node::read_shard(uint16_t shard, uint64_t after, uint64_t hint, uint64_t hint_epoch,
                              read_shard_done done) const {
  if (!forwarder_)
    return done(make_error(errc::unavailable, "this node is not in a cluster"));
  const auto& map = ctx_->config.shards; // its shard count: the live map's never changes
  if (shard >= map.shard_count())
    return done(make_error(errc::bad_request, "shard " + std::to_string(shard)
                                                + " does not exist (the cluster has "
                                                + std::to_string(map.shard_count()) + ")"));
  auto owner = ctx_->map.owner(shard);
  if (hint_epoch != owner.epoch)
    hint = 0;
  if (owner.node != ctx_->config.node_id)
    return forwarder_->read_shard(shard, after, hint, owner, std::move(done));
  auto got = detail::shard_from_wire(
    detail::read_shard_local(ctx_->rt->store(), map, shard, after, hint, detail::max_read_events));
  if (got)
    got->epoch = owner.epoch;
  done(std::move(got));
}

bool cluster_node::owns_shard(uint16_t shard) const {
  return shard < ctx_->config.shards.shard_count() && ctx_->map.owner(shard).node == ctx_->config.node_id;
}

void cluster_node::leave() {
  if (!endpoint_)
    return;
  auto& sys = ctx_->rt->system();
  (void)sys.middleman().unpublish(endpoint_, port_);
  // Waits until the links (commands in flight to peers fail with unavailable) and the
  // endpoint are gone: none of them may touch the runtime after this returns.
  // The endpoint first: it adds the links of joining nodes (none once the registry closed).
  std::vector<caf::actor> actors{endpoint_};
  {
    std::lock_guard<std::mutex> guard{ctx_->moves_mx};
    if (ctx_->rebalancer)
      actors.push_back(ctx_->rebalancer);
  }
  if (ctx_->sweep)
    actors.push_back(std::exchange(ctx_->sweep, caf::actor{}));
  for (auto& link : ctx_->peers.close())
    actors.push_back(std::move(link));
  {
    caf::scoped_actor self{sys};
    for (auto& a : actors) {
      self->monitor(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
    }
    for (std::size_t i = 0; i < actors.size(); ++i)
      self->receive([](const caf::down_msg&) {},
                    caf::after(std::chrono::seconds(5)) >> [] {
                      log(log_level::error, "cluster: an actor did not stop within 5 s");
                    });
  }
  endpoint_ = nullptr;
}

void cluster_node::watch_shards(const std::string& peer, std::vector<uint64_t> known,
                                std::chrono::milliseconds wait, watch_shards_done done) const {
  auto link = ctx_->peers.link(peer);
  if (!link)
    return done(make_error(errc::unavailable, "no link to node '" + peer + "'"));
  detail::outbound_watch out{std::move(known), std::min(wait, std::chrono::milliseconds{10000}),
                             std::make_shared<detail::watch_callback>(std::move(done))};
  caf::anon_send(link, std::move(out));
}

void cluster_node::move_shard(uint16_t shard, const std::string& to, move_shard_done done) {
  if (!endpoint_)
    return done(make_error(errc::unavailable, "this node left the cluster"));
  detail::move_shard(ctx_, shard, to, std::move(done));
}

void cluster_node::rebalance(rebalance_done done) {
  if (!endpoint_)
    return done(make_error(errc::unavailable, "this node left the cluster"));
  detail::rebalance(ctx_, {}, std::move(done));
}

void cluster_node::drain(rebalance_done done) {
  if (!endpoint_)
    return done(make_error(errc::unavailable, "this node left the cluster"));
  detail::rebalance(ctx_, ctx_->config.node_id, std::move(done));
}

std::vector<std::string> cluster_node::peers() const {
  std::vector<std::string> out;
  for (const auto& m : ctx_->peers.members())
    if (m.id != ctx_->config.node_id)
      out.push_back(m.id);
  return out;
}

uint64_t cluster_node::add_commit_listener(std::function<void()> fn) const {
  return ctx_->commits->listen(std::move(fn));
}

void cluster_node::remove_commit_listener(uint64_t id) const {
  ctx_->commits->unlisten(id);
}

} // namespace annal::cluster
