#include "peer_link.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "annal/caf_error.hpp"
#include "annal/cluster/handshake.hpp"
#include "annal/log.hpp"
#include "live_map.hpp"
#include "shard_transfer.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

constexpr auto min_backoff = std::chrono::milliseconds{100};
constexpr auto max_backoff = std::chrono::milliseconds{2000};
// Connecting and each handshake step on loopback take milliseconds; this only bounds a
// peer that accepts the connection and then says nothing.
constexpr auto step_timeout = std::chrono::seconds{2};

struct link_state_data {
  std::shared_ptr<node_context> ctx;
  member peer;
  caf::actor remote;   // the peer's endpoint (a proxy), set while connected
  // False for the node with the larger id under TLS: it waits for the peer to dial and
  // introduce its endpoint (see dials_to).
  bool dials = true;
  bool up = false;
  bool retry_scheduled = false;
  // Incremented per attempt: answers of an older attempt are ignored.
  uint64_t attempt = 0;
  std::chrono::milliseconds backoff = min_backoff;
  std::string last_error;
  // Move steps waiting for the peer (a pull may take a while): a lost connection fails
  // them at once instead of after their bound.
  std::vector<std::shared_ptr<step_callback>> steps;
  static inline const char* name = "annal.cluster.link";
};

using self_ptr = caf::stateful_actor<link_state_data>*;

void set_state(self_ptr self, link_state s, std::string why = {}) {
  auto& st = self->state;
  st.up = s == link_state::up;
  st.last_error = why;
  st.ctx->health.set(st.peer.id, s, std::move(why));
}

// Gives up the current connection (if any) and tries again after the backoff.
void fail(self_ptr self, link_state s, const std::string& why) {
  auto& st = self->state;
  // Once per change (a peer that stays away is retried quietly).
  if (st.up || (s == link_state::refused && st.last_error != why))
    log(log_level::warning, "cluster: link to '" + st.peer.id + "' " + to_string(s) + ": " + why);
  if (st.remote)
    self->demonitor(st.remote);
  st.remote = nullptr;
  ++st.attempt;
  set_state(self, s, why);
  for (auto& step : st.steps)
    (*step)(make_error(errc::unavailable, "node '" + st.peer.id + "': " + why));
  st.steps.clear();
  if (!st.dials)
    return; // the peer dials again, and introduces its endpoint again
  if (!st.retry_scheduled) {
    st.retry_scheduled = true;
    self->delayed_send(self, st.backoff, connect_atom::value);
    st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds{max_backoff});
  }
}

// Exchanges shard maps with the peer: each side adopts what the other has at a higher
// epoch. After every handshake (a node that restarted, or was cut off during a move, learns
// the moves it missed) and after a move.
void sync_map(self_ptr self) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return;
  auto peer = st.peer.id;
  self->request(st.remote, st.ctx->config.forward_timeout, map_atom::value, encode_map(st.ctx->map.copy()))
    .then(
      [self](const std::string& bytes) {
        auto& s = self->state;
        if (auto theirs = decode_map(bytes, s.ctx->map.shard_count()))
          merge_peer_map(*s.ctx, *theirs);
        else
          log(log_level::warning, "cluster: node '" + s.peer.id + "' sent a malformed shard map");
      },
      [peer](caf::error& e) {
        log(log_level::info, "cluster: no shard map from '" + peer + "': " + from_caf_error(e).message);
      });
}

void prove(self_ptr self, uint64_t attempt, const std::string& client_nonce) {
  auto& st = self->state;
  const auto& cfg = st.ctx->config;
  self->request(st.remote, step_timeout, hello_atom::value, cfg.node_id, client_nonce)
    .then(
      [self, attempt, client_nonce](const std::string& server_nonce, const std::string& proof) {
        auto& s = self->state;
        if (attempt != s.attempt)
          return;
        const auto& c = s.ctx->config;
        auto expected = server_proof(c.secret, s.peer.id, c.node_id, client_nonce, server_nonce);
        if (!proofs_equal(proof, expected))
          return fail(self, link_state::refused, "the peer does not know the cluster secret");
        auto mine = client_proof(c.secret, s.peer.id, c.node_id, client_nonce, server_nonce);
        self->request(s.remote, step_timeout, prove_atom::value, mine)
          .then(
            [self, attempt](caf::atom_value) {
              auto& s2 = self->state;
              if (attempt != s2.attempt)
                return;
              s2.backoff = min_backoff;
              set_state(self, link_state::up);
              log(log_level::info, "cluster: link to '" + s2.peer.id + "' is up");
              // Where this node listens: a peer that does not know it (it joined) adds it.
              const auto& me = s2.ctx->config.self();
              self->send(s2.remote, member_atom::value, me.host, me.port, me.joins);
              sync_map(self);
              // Under TLS the peer does not dial back: it proves itself to our endpoint
              // over this connection once it knows where that is.
              if (s2.ctx->config.tls)
                if (auto own = caf::actor_cast<caf::actor>(s2.ctx->endpoint))
                  self->send(s2.remote, introduce_atom::value, own);
            },
            [self, attempt](caf::error& e) {
              if (attempt == self->state.attempt)
                fail(self, link_state::refused, "the peer refused our proof: " + from_caf_error(e).message);
            });
      },
      [self, attempt](caf::error& e) {
        if (attempt == self->state.attempt)
          fail(self, link_state::refused, "the peer refused our hello: " + from_caf_error(e).message);
      });
}

void connect(self_ptr self) {
  auto& st = self->state;
  st.retry_scheduled = false;
  auto attempt = ++st.attempt;
  set_state(self, link_state::connecting, st.last_error);
  // With TLS, libcaf_openssl's middleman actor connects (and checks the peer's
  // certificate against the CA) instead of the plain one: the same interface.
  auto& sys = self->home_system();
  auto mm = st.ctx->config.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  self->request(mm, step_timeout, caf::connect_atom::value, st.peer.host, st.peer.port)
    .then(
      [self, attempt](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto& s = self->state;
        if (attempt != s.attempt)
          return;
        if (!ptr)
          return fail(self, link_state::down, "no cluster endpoint is published on that port");
        s.remote = caf::actor_cast<caf::actor>(ptr);
        self->monitor(s.remote);
        auto nonce = make_nonce();
        if (!nonce)
          return fail(self, link_state::down, nonce.error().message);
        prove(self, attempt, *nonce);
      },
      [self, attempt](caf::error& e) {
        if (attempt == self->state.attempt)
          fail(self, link_state::down, "cannot connect: " + self->system().render(e));
      });
}

// The owner's link is down, or its answer did not come in time: the reader may retry.
error unreachable(const link_state_data& st, uint16_t shard) {
  return make_error(errc::unavailable, "node '" + st.peer.id + "', owner of shard " + std::to_string(shard)
                                         + ", is unreachable"
                                         + (st.last_error.empty() ? "" : ": " + st.last_error));
}

// A request to the owner that failed: no reply within the bound, or a lost connection,
// is `unavailable` (retry the call); the owner's own errors pass unchanged.
error request_error(const caf::error& e, const std::string& peer, std::chrono::milliseconds bound,
                    const std::string& note) {
  if (e == caf::sec::request_timeout)
    return make_error(errc::unavailable, "no reply from node '" + peer + "' within "
                                           + std::to_string(bound.count()) + " ms" + note);
  auto err = from_caf_error(e);
  if (err.code == errc::timeout || err.code == errc::io_error)
    err = make_error(errc::unavailable, "node '" + peer + "': " + err.message);
  return err;
}

void forward(self_ptr self, outbound_command& out) {
  auto& st = self->state;
  if (!st.up || !st.remote) {
    (*out.done)(unreachable(st, out.shard));
    return;
  }
  const auto& o = out.cmd.options;
  auto bound = std::min(o.timeout, st.ctx->config.forward_timeout);
  std::vector<std::string> ids{o.command_id, o.correlation_id, o.causation_id};
  auto done = out.done;
  auto peer = st.peer.id;
  self
    ->request(st.remote, bound, forward_atom::value, out.cmd.category, out.cmd.aggregate_id,
              out.cmd.stream_id, out.shard, out.epoch, out.cmd.command_bytes, ids,
              static_cast<uint8_t>(o.expected.which()), o.expected.version(),
              static_cast<int64_t>(o.timeout.count()))
    .then(
      [done](uint8_t code, std::string& msg, uint64_t version, uint64_t position, bool dup,
             uint16_t shard, uint64_t shard_position) {
        (*done)(from_wire(
          wire_reply{code, std::move(msg), version, position, dup, shard, shard_position}));
      },
      [done, peer, bound](caf::error& e) {
        (*done)(request_error(e, peer, bound, " (the command may have run there)"));
      });
}

void read(self_ptr self, outbound_read& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(unreachable(st, out.shard));
  auto bound = st.ctx->config.forward_timeout;
  auto done = out.done;
  auto peer = st.peer.id;
  auto stream = out.stream_id;
  self->request(st.remote, bound, read_atom::value, out.stream_id, out.shard, out.epoch, out.after)
    .then(
      [done, stream](uint8_t code, std::string& msg, uint64_t head, uint64_t last, uint64_t truncated,
                     bool deleted, bool more, std::string& events) {
        (*done)(from_wire(wire_read_reply{code, std::move(msg), head, last, truncated, deleted, more,
                                          std::move(events)},
                          stream));
      },
      [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); });
}

void read_shard(self_ptr self, outbound_shard_read& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(unreachable(st, out.shard));
  auto bound = st.ctx->config.forward_timeout;
  auto done = out.done;
  auto peer = st.peer.id;
  self
    ->request(st.remote, bound, read_shard_atom::value, out.shard, out.epoch, out.after, out.hint,
              max_read_events)
    .then(
      [done](uint8_t code, std::string& msg, uint64_t head, uint64_t hint, bool at_end,
             std::string& events) {
        (*done)(shard_from_wire(
          wire_shard_reply{code, std::move(msg), head, hint, at_end, std::move(events)}));
      },
      [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); });
}

void watch(self_ptr self, outbound_watch& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(make_error(errc::unavailable, "node '" + st.peer.id + "' is unreachable"
                                                       + (st.last_error.empty() ? "" : ": " + st.last_error)));
  // The peer holds the request for up to `wait`: the bound is that plus the usual one.
  auto bound = out.wait + st.ctx->config.forward_timeout;
  auto done = out.done;
  auto peer = st.peer.id;
  self->request(st.remote, bound, watch_atom::value, encode_heads(out.known), static_cast<int64_t>(out.wait.count()))
    .then(
      [done, peer](std::string& bytes) {
        auto heads = decode_heads(bytes);
        if (!heads)
          return (*done)(make_error(errc::corrupt, "node '" + peer + "' answered a watch with malformed heads"));
        (*done)(std::move(*heads));
      },
      [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); });
}

// A step of a shard move this node runs as the old owner: the peer pulls or takes the shard.
void move_step(self_ptr self, outbound_move_step& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(unreachable(st, out.shard));
  auto done = out.done;
  st.steps.erase(std::remove_if(st.steps.begin(), st.steps.end(),
                                [](const auto& x) { return x->delivered(); }),
                 st.steps.end());
  st.steps.push_back(done);
  auto peer = st.peer.id;
  auto bound = out.bound;
  auto on_error = [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); };
  if (out.take)
    self->request(st.remote, bound, take_atom::value, out.shard, out.epoch, out.head)
      .then([done](uint64_t) { (*done)(uint64_t{0}); }, on_error);
  else
    self->request(st.remote, bound, pull_atom::value, out.shard, out.epoch)
      .then([done](uint64_t head) { (*done)(head); }, on_error);
}

// A shard's process state, sent by this node (an earlier owner) to the owner.
void send_process_state(self_ptr self, outbound_process_state& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(unreachable(st, out.shard));
  auto done = out.done;
  auto peer = st.peer.id;
  auto bound = out.bound;
  self->request(st.remote, bound, procstate_atom::value, out.shard, out.epoch, std::move(out.rows))
    .then([done](uint64_t rows) { (*done)(rows); },
          [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); });
}

// A page of a moving shard's stream records, read from its old owner (this link's peer).
void read_records(self_ptr self, outbound_records_read& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(unreachable(st, out.shard));
  auto bound = st.ctx->config.forward_timeout;
  auto done = out.done;
  auto peer = st.peer.id;
  self->request(st.remote, bound, records_atom::value, out.shard, out.epoch, out.after)
    .then(
      [done](uint8_t code, std::string& msg, std::string& bytes, std::string& next, bool at_end) {
        (*done)(records_from_wire(wire_records_reply{code, std::move(msg), std::move(bytes), std::move(next), at_end}));
      },
      [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); });
}

// Under TLS only the node with the smaller id dials: libcaf_openssl 0.17.6 loses both
// connections when two nodes dial each other (CAF closes the redundant one, and with TLS
// that takes the route of the other down too: the links flapped up/lost at every retry).
// A node that joins dials whatever the ids: the others learn of it only when it does.
bool dials_to(const cluster_config& cfg, const member& peer) {
  if (!cfg.tls)
    return true;
  if (cfg.self().joins != peer.joins)
    return cfg.self().joins;
  return cfg.node_id < peer.id;
}

// A rebalance asks the peer, owner of a shard, to move it (to this node or another).
void give(self_ptr self, outbound_give& out) {
  auto& st = self->state;
  if (!st.up || !st.remote)
    return (*out.done)(unreachable(st, out.shard));
  auto done = out.done;
  auto peer = st.peer.id;
  auto bound = out.bound;
  auto shard = out.shard;
  self->request(st.remote, bound, give_atom::value, out.shard, out.to)
    .then(
      [done, shard](uint8_t code, std::string& msg, std::string& from, std::string& to, uint64_t epoch,
                    uint64_t head, int64_t pause, int64_t total, uint64_t rows, bool moved) {
        (*done)(move_from_wire(shard, wire_move_reply{code, std::move(msg), std::move(from), std::move(to),
                                                      epoch, head, pause, total, rows, moved}));
      },
      [done, peer, bound](caf::error& e) { (*done)(request_error(e, peer, bound, "")); });
}

// The peer dialed us and says where its endpoint is: prove ourselves to it over that
// connection (the same handshake as after a dial).
void adopt(self_ptr self, const caf::actor& peer_endpoint) {
  auto& st = self->state;
  if (st.dials || !peer_endpoint)
    return;
  if (st.remote)
    self->demonitor(st.remote);
  auto attempt = ++st.attempt;
  st.remote = peer_endpoint;
  self->monitor(st.remote);
  set_state(self, link_state::connecting, st.last_error);
  auto nonce = make_nonce();
  if (!nonce)
    return fail(self, link_state::down, nonce.error().message);
  prove(self, attempt, *nonce);
}

caf::behavior peer_link(self_ptr self, std::shared_ptr<node_context> ctx, member peer) {
  self->state.ctx = std::move(ctx);
  self->state.peer = std::move(peer);
  self->state.dials = dials_to(self->state.ctx->config, self->state.peer);
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (dm.source == self->state.remote.address())
      fail(self, link_state::down, "the connection was lost");
  });
  if (self->state.dials)
    connect(self);
  else
    set_state(self, link_state::connecting, "waiting for '" + self->state.peer.id + "' to connect");
  return {
    [self](connect_atom) {
      if (self->state.dials)
        connect(self);
    },
    [self](peer_endpoint_atom, const caf::actor& ep) { adopt(self, ep); },
    [self](outbound_command& out) { forward(self, out); },
    [self](outbound_read& out) { read(self, out); },
    [self](outbound_shard_read& out) { read_shard(self, out); },
    [self](outbound_watch& out) { watch(self, out); },
    [self](outbound_move_step& out) { move_step(self, out); },
    [self](outbound_map_sync&) { sync_map(self); },
    [self](outbound_records_read& out) { read_records(self, out); },
    [self](outbound_process_state& out) { send_process_state(self, out); },
    [self](outbound_give& out) { give(self, out); },
  };
}

} // namespace

caf::actor spawn_peer_link(caf::actor_system& sys, std::shared_ptr<node_context> ctx, member peer) {
  return sys.spawn(peer_link, std::move(ctx), std::move(peer));
}

} // namespace annal::cluster::detail
