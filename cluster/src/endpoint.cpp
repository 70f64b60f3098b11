#include "endpoint.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "annal/caf_error.hpp"
#include "annal/cluster/fencing.hpp"
#include "annal/cluster/handshake.hpp"
#include "annal/log.hpp"
#include "live_map.hpp"
#include "peer_link.hpp"
#include "process_handoff.hpp"
#include "shard_mover.hpp"
#include "shard_transfer.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

// A peer that said hello and has not proved the secret yet.
struct pending_peer {
  std::string id;
  std::string client_nonce;
  std::string server_nonce;
};

struct endpoint_state {
  std::shared_ptr<node_context> ctx;
  std::map<caf::actor_addr, pending_peer> pending;
  // Admitted senders (the peers' link actors, through their proxies) and their node ids.
  std::map<caf::actor_addr, std::string> admitted;
  std::unordered_map<uint64_t, caf::typed_response_promise<uint8_t, std::string, uint64_t, uint64_t, bool, uint16_t, uint64_t>> replies;
  uint64_t next_reply = 0;
  // Watches parked until a commit passes what the watcher knows, or their time is up.
  struct watcher {
    caf::typed_response_promise<std::string> promise;
    std::vector<uint64_t> known;
  };
  std::map<uint64_t, watcher> watchers;
  uint64_t next_watch = 0;
  // Pulls of a moving shard in progress (this node is the new owner), by request id.
  std::unordered_map<uint64_t, caf::typed_response_promise<uint64_t>> pulls;
  uint64_t next_pull = 0;
  // Moves peers asked of this node (give: a rebalance's step), by request id.
  std::unordered_map<uint64_t, caf::typed_response_promise<uint8_t, std::string, std::string, std::string,
                                                           uint64_t, uint64_t, int64_t, int64_t, uint64_t, bool>>
    gives;
  uint64_t next_give = 0;
  // Shared with the commit listener: how many watches are parked (none: commits send
  // nothing), and whether a commits_atom is on its way (one at a time).
  std::shared_ptr<std::atomic<std::size_t>> watching = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<std::atomic<bool>> signalled = std::make_shared<std::atomic<bool>>(false);
  static inline const char* name = "annal.cluster.endpoint";
};

using self_ptr = caf::stateful_actor<endpoint_state>*;

std::string describe(const caf::strong_actor_ptr& sender) {
  return sender ? caf::to_string(sender->node()) : std::string{"an anonymous sender"};
}

// The node id of an admitted sender; otherwise none, and a warning that names what the
// sender asked for (`what`, e.g. "a command").
const std::string* admitted_peer(self_ptr self, const char* what) {
  auto& st = self->state;
  auto sender = self->current_sender();
  auto i = st.admitted.find(caf::actor_cast<caf::actor_addr>(sender));
  if (i != st.admitted.end())
    return &i->second;
  log(log_level::warning, std::string{"cluster: refused "} + what + " from " + describe(sender)
                            + ": the peer has not proved the cluster secret");
  return nullptr;
}

caf::error not_admitted() {
  return to_caf_error(make_error(errc::unavailable, "not admitted: prove the cluster secret first"));
}

// A pull of `shard` by this node from the peer that owns it at `epoch`: answered with the
// head once the copy is complete (the copy runs on other threads; its end comes back here).
caf::result<uint64_t> start_pull(self_ptr self, const std::string& from, uint16_t shard, uint64_t epoch) {
  auto& st = self->state;
  auto owner = st.ctx->map.owner(shard < st.ctx->map.shard_count() ? shard : 0);
  if (shard >= st.ctx->map.shard_count() || owner.node != from || owner.epoch != epoch)
    return to_caf_error(make_error(errc::unavailable, "node '" + from + "' does not own shard "
                                                        + std::to_string(shard) + " at epoch "
                                                        + std::to_string(epoch) + " in this node's map"));
  auto rp = self->make_response_promise<uint64_t>();
  auto id = st.next_pull++;
  st.pulls.emplace(id, rp);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  pull_shard(st.ctx, shard, epoch, from, [me, id](result<uint64_t> head) {
    uint8_t code = head ? 0 : static_cast<uint8_t>(head.error().code);
    caf::anon_send(me, pulled_atom::value, id, code, head ? std::string{} : head.error().message,
                   head ? *head : uint64_t{0});
  });
  return rp;
}

// A node this one did not know proved the secret and says where it listens: it joined the
// running cluster. It becomes a member, with a link of its own.
void add_member(self_ptr self, member m) {
  auto& st = self->state;
  if (st.ctx->peers.known(m.id) || m.port == 0 || m.host.empty())
    return;
  auto link = spawn_peer_link(self->home_system(), st.ctx, m);
  auto text = "'" + m.id + "' at " + m.host + ":" + std::to_string(m.port);
  if (!st.ctx->peers.add(m, link)) {
    self->send_exit(link, caf::exit_reason::user_shutdown); // the node is leaving
    return;
  }
  log(log_level::info, "cluster: node " + text + " joined the cluster");
}

command_options options_from(const std::vector<std::string>& ids, uint8_t kind, uint64_t version,
                             int64_t timeout_ms, std::chrono::milliseconds bound) {
  command_options o;
  if (ids.size() == 3) {
    o.command_id = ids[0];
    o.correlation_id = ids[1];
    o.causation_id = ids[2];
  }
  switch (static_cast<expected_version::kind>(kind)) {
    case expected_version::kind::no_stream: o.expected = expected_version::no_stream(); break;
    case expected_version::kind::stream_exists: o.expected = expected_version::stream_exists(); break;
    case expected_version::kind::exact: o.expected = expected_version::exact(version); break;
    default: o.expected = expected_version::any(); break;
  }
  // A command still queued here when the sender stops waiting must not run later.
  o.timeout = std::min(std::chrono::milliseconds{std::max<int64_t>(timeout_ms, 0)}, bound);
  return o;
}

// True when a head of `heads` is past what `known` says of its shard.
bool passes(const std::vector<uint64_t>& heads, const std::vector<uint64_t>& known) {
  for (std::size_t i = 0; i < heads.size(); ++i)
    if (heads[i] > (i < known.size() ? known[i] : 0))
      return true;
  return false;
}

// Answers the parked watches that this node's heads pass (all of them with `expired`).
void answer_watches(self_ptr self, std::optional<uint64_t> expired = std::nullopt) {
  auto& st = self->state;
  auto heads = st.ctx->map.with([&](const shard_map& map) {
    return owned_heads(st.ctx->rt->store(), map, st.ctx->config.node_id);
  });
  for (auto i = st.watchers.begin(); i != st.watchers.end();) {
    if (!heads)
      i->second.promise.deliver(to_caf_error(heads.error()));
    else if (i->first == expired || passes(*heads, i->second.known))
      i->second.promise.deliver(encode_heads(*heads));
    else {
      ++i;
      continue;
    }
    i = st.watchers.erase(i);
  }
  st.watching->store(st.watchers.size());
}

// Wakes the endpoint after a local commit, while watches are parked.
void listen_for_commits(self_ptr self) {
  auto& st = self->state;
  auto addr = self->address();
  auto id = st.ctx->commits->listen([addr, watching = st.watching, signalled = st.signalled] {
    if (watching->load() == 0 || signalled->exchange(true))
      return;
    if (auto me = caf::actor_cast<caf::actor>(addr))
      caf::anon_send(me, commits_atom::value);
  });
  self->attach_functor([ctx = st.ctx, id] { ctx->commits->unlisten(id); });
}

caf::behavior endpoint(self_ptr self, std::shared_ptr<node_context> ctx) {
  self->state.ctx = std::move(ctx);
  listen_for_commits(self);
  self->set_down_handler([self](const caf::down_msg& dm) {
    self->state.pending.erase(dm.source);
    self->state.admitted.erase(dm.source);
  });
  return {
    [self](hello_atom, const std::string& peer, const std::string& client_nonce)
      -> caf::result<std::string, std::string> {
      auto& st = self->state;
      const auto& cfg = st.ctx->config;
      auto sender = self->current_sender();
      // A node this one does not know may be joining: proving the secret admits it.
      if (peer.empty() || peer.size() > 255 || peer == cfg.node_id || !sender || client_nonce.size() != 64) {
        log(log_level::warning, "cluster: refused a hello from " + describe(sender) + " claiming to be '"
                                  + peer + "': not a valid member id, or this node's own");
        return to_caf_error(make_error(errc::unavailable, "not a valid member id"));
      }
      auto nonce = make_nonce();
      if (!nonce)
        return to_caf_error(nonce.error());
      auto proof = server_proof(cfg.secret, cfg.node_id, peer, client_nonce, *nonce);
      auto addr = caf::actor_cast<caf::actor_addr>(sender);
      st.admitted.erase(addr);
      st.pending[addr] = {peer, client_nonce, *nonce};
      self->monitor(sender);
      return {*nonce, std::move(proof)};
    },
    [self](prove_atom, const std::string& proof) -> caf::result<caf::atom_value> {
      auto& st = self->state;
      const auto& cfg = st.ctx->config;
      auto sender = self->current_sender();
      auto addr = caf::actor_cast<caf::actor_addr>(sender);
      auto i = st.pending.find(addr);
      if (i == st.pending.end())
        return to_caf_error(make_error(errc::unavailable, "say hello first"));
      auto p = std::move(i->second);
      st.pending.erase(i);
      auto expected = client_proof(cfg.secret, cfg.node_id, p.id, p.client_nonce, p.server_nonce);
      if (!proofs_equal(proof, expected)) {
        log(log_level::warning, "cluster: refused peer '" + p.id + "' (" + describe(sender)
                                  + "): it does not know the cluster secret");
        return to_caf_error(make_error(errc::unavailable, "wrong cluster secret"));
      }
      st.admitted[addr] = p.id;
      log(log_level::info, "cluster: admitted peer '" + p.id + "'");
      return caf::ok_atom::value;
    },
    [self](forward_atom, const std::string& category, const std::string& aggregate_id,
           const std::string& stream_id, uint16_t shard, uint64_t epoch, const std::string& bytes,
           const std::vector<std::string>& ids, uint8_t kind, uint64_t version, int64_t timeout_ms)
      -> caf::result<uint8_t, std::string, uint64_t, uint64_t, bool, uint16_t, uint64_t> {
      if (admitted_peer(self, "a command") == nullptr)
        return not_admitted();
      auto& st = self->state;
      const auto& cfg = st.ctx->config;
      auto owned = st.ctx->map.with([&](const shard_map& map) {
        return check_ownership(map, cfg.node_id, stream_id, shard, epoch);
      });
      if (auto ok = std::move(owned); !ok) {
        auto w = to_wire(command_result{ok.error()});
        return {std::get<0>(w), std::get<1>(w), 0, 0, false, uint16_t{0}, uint64_t{0}};
      }
      forwarded_command cmd{category, aggregate_id, stream_id, bytes,
                            options_from(ids, kind, version, timeout_ms, cfg.forward_timeout)};
      auto rp = self->make_response_promise<uint8_t, std::string, uint64_t, uint64_t, bool, uint16_t, uint64_t>();
      auto id = st.next_reply++;
      st.replies.emplace(id, rp);
      // The runtime answers on one of its threads: hop back into this actor to deliver.
      caf::actor me = caf::actor_cast<caf::actor>(self);
      st.ctx->rt->run_forwarded(cmd, [me, id](command_result r) {
        caf::anon_send(me, reply_atom::value, id, to_wire(r));
      });
      return rp;
    },
    [self](read_atom, const std::string& stream_id, uint16_t shard, uint64_t epoch, uint64_t after)
      -> caf::result<uint8_t, std::string, uint64_t, uint64_t, uint64_t, bool, bool, std::string> {
      if (admitted_peer(self, "a read") == nullptr)
        return not_admitted();
      auto& st = self->state;
      const auto& cfg = st.ctx->config;
      // Only the owner's journal is the stream's authority: a reader with a stale map must
      // not get an old copy as if it were current.
      auto owned = st.ctx->map.with([&](const shard_map& map) {
        return check_ownership(map, cfg.node_id, stream_id, shard, epoch);
      });
      auto w = owned ? read_local(st.ctx->rt->store(), stream_id, after) : read_error(owned.error());
      // A point read and a few events (bounded by max_read_events): short enough to run
      // here, like the journal reads of the HTTP handlers.
      return std::apply([](auto&&... xs) {
        return caf::result<uint8_t, std::string, uint64_t, uint64_t, uint64_t, bool, bool, std::string>{
          std::move(xs)...};
      }, std::move(w));
    },
    [self](read_shard_atom, uint16_t shard, uint64_t epoch, uint64_t after, uint64_t hint,
           uint64_t max) -> caf::result<uint8_t, std::string, uint64_t, uint64_t, bool, std::string> {
      if (admitted_peer(self, "a shard read") == nullptr)
        return not_admitted();
      auto& st = self->state;
      const auto& cfg = st.ctx->config;
      // As for stream reads: only the owner at the reader's epoch answers.
      auto owned = st.ctx->map.with([&](const shard_map& map) {
        return check_shard_ownership(map, cfg.node_id, shard, epoch);
      });
      // A scan bounded by the store's per-call budget and at most max_read_events events.
      auto w = owned ? read_shard_local(st.ctx->rt->store(), cfg.shards, shard, after, hint, max)
                     : wire_shard_reply{static_cast<uint8_t>(owned.error().code),
                                        owned.error().message, 0, 0, false, std::string{}};
      return std::apply([](auto&&... xs) {
        return caf::result<uint8_t, std::string, uint64_t, uint64_t, bool, std::string>{
          std::move(xs)...};
      }, std::move(w));
    },
    [self](watch_atom, const std::string& known_bytes, int64_t wait_ms) -> caf::result<std::string> {
      if (admitted_peer(self, "a watch") == nullptr)
        return not_admitted();
      auto& st = self->state;
      auto known = decode_heads(known_bytes);
      if (!known)
        return to_caf_error(make_error(errc::bad_request, "malformed heads in a watch"));
      auto rp = self->make_response_promise<std::string>();
      auto id = st.next_watch++;
      st.watchers.emplace(id, endpoint_state::watcher{rp, std::move(*known)});
      st.watching->store(st.watchers.size());
      auto wait = std::chrono::milliseconds{std::clamp<int64_t>(wait_ms, 0, 10000)};
      self->delayed_send(self, wait, watch_expired_atom::value, id);
      // After parking: a commit from now on sends commits_atom; one before is seen here.
      answer_watches(self);
      return rp;
    },
    [self](commits_atom) {
      self->state.signalled->store(false);
      if (!self->state.watchers.empty())
        answer_watches(self);
    },
    [self](watch_expired_atom, uint64_t id) {
      if (self->state.watchers.count(id) != 0)
        answer_watches(self, id);
    },
    [self](map_atom, const std::string& bytes) -> caf::result<std::string> {
      auto& st = self->state;
      if (admitted_peer(self, "a shard map") == nullptr)
        return not_admitted();
      auto theirs = decode_map(bytes, st.ctx->map.shard_count());
      if (!theirs)
        return to_caf_error(make_error(errc::bad_request, "a malformed shard map"));
      merge_peer_map(*st.ctx, *theirs);
      return encode_map(st.ctx->map.copy());
    },
    [self](pull_atom, uint16_t shard, uint64_t epoch) -> caf::result<uint64_t> {
      auto* from = admitted_peer(self, "a pull");
      if (from == nullptr)
        return not_admitted();
      return start_pull(self, *from, shard, epoch);
    },
    [self](pulled_atom, uint64_t id, uint8_t code, const std::string& msg, uint64_t head) {
      auto i = self->state.pulls.find(id);
      if (i == self->state.pulls.end())
        return;
      if (code == 0)
        i->second.deliver(head);
      else
        i->second.deliver(to_caf_error(code_error(code, msg)));
      self->state.pulls.erase(i);
    },
    [self](records_atom, uint16_t shard, uint64_t epoch, const std::string& after)
      -> caf::result<uint8_t, std::string, std::string, std::string, bool> {
      auto& st = self->state;
      if (admitted_peer(self, "a records read") == nullptr)
        return not_admitted();
      const auto& cfg = st.ctx->config;
      auto owned = st.ctx->map.with([&](const shard_map& map) {
        return check_shard_ownership(map, cfg.node_id, shard, epoch);
      });
      // Bounded (a page of at most records_scan_budget streams), like a shard read.
      auto w = owned ? read_records_local(st.ctx->rt->store(), cfg.shards.shard_count(), shard, after)
                     : wire_records_reply{static_cast<uint8_t>(owned.error().code), owned.error().message,
                                          std::string{}, std::string{}, false};
      return std::apply([](auto&&... xs) {
        return caf::result<uint8_t, std::string, std::string, std::string, bool>{std::move(xs)...};
      }, std::move(w));
    },
    [self](procstate_atom, uint16_t shard, uint64_t epoch, const std::string& rows) -> caf::result<uint64_t> {
      if (admitted_peer(self, "a shard's process state") == nullptr)
        return not_admitted();
      auto taken = take_process_state(*self->state.ctx, shard, epoch, rows);
      if (!taken)
        return to_caf_error(taken.error());
      return *taken;
    },
    [self](take_atom, uint16_t shard, uint64_t epoch, uint64_t head) -> caf::result<uint64_t> {
      auto* from = admitted_peer(self, "a take-over");
      if (from == nullptr)
        return not_admitted();
      auto& st = self->state;
      if (shard >= st.ctx->map.shard_count())
        return to_caf_error(make_error(errc::bad_request, "no shard " + std::to_string(shard)));
      // Already ours at that epoch (a retried take, or learned from the old owner's map).
      auto current = st.ctx->map.owner(shard);
      if (current.node == st.ctx->config.node_id && current.epoch >= epoch)
        return uint64_t{0};
      // Only the shard's owner in this node's map hands it over (at a higher epoch).
      if (current.node != *from || epoch <= current.epoch)
        return to_caf_error(make_error(errc::unavailable, "node '" + *from + "' cannot hand over shard "
                                                            + std::to_string(shard) + " at epoch "
                                                            + std::to_string(epoch)));
      if (auto ok = take_shard(*st.ctx, shard, epoch, head); !ok)
        return to_caf_error(ok.error());
      return uint64_t{0};
    },
    [self](introduce_atom, const caf::actor& peer_endpoint) {
      auto* from = admitted_peer(self, "an endpoint's introduction");
      if (from == nullptr || !peer_endpoint)
        return; // only a proven peer may say where its endpoint is
      if (auto link = self->state.ctx->peers.link(*from))
        self->send(link, peer_endpoint_atom::value, peer_endpoint);
    },
    [self](member_atom, const std::string& host, uint16_t port, bool joins) {
      if (auto* from = admitted_peer(self, "a member's address"))
        add_member(self, member{*from, host, port, joins});
    },
    [self](give_atom, uint16_t shard, const std::string& to) -> caf::result<uint8_t, std::string, std::string,
                                                                            std::string, uint64_t, uint64_t,
                                                                            int64_t, int64_t, uint64_t, bool> {
      if (admitted_peer(self, "a move request") == nullptr)
        return not_admitted();
      auto& st = self->state;
      auto rp = self->make_response_promise<uint8_t, std::string, std::string, std::string, uint64_t, uint64_t,
                                            int64_t, int64_t, uint64_t, bool>();
      auto id = st.next_give++;
      st.gives.emplace(id, rp);
      caf::actor me = caf::actor_cast<caf::actor>(self);
      move_shard(st.ctx, shard, to, [me, id](result<move_report> r) {
        caf::anon_send(me, gave_atom::value, id, to_wire(r));
      });
      return rp;
    },
    [self](gave_atom, uint64_t id, const wire_move_reply& w) {
      auto i = self->state.gives.find(id);
      if (i == self->state.gives.end())
        return;
      std::apply([&](auto&&... xs) { i->second.deliver(xs...); }, w);
      self->state.gives.erase(i);
    },
    [self](reply_atom, uint64_t id, const wire_reply& w) {
      auto i = self->state.replies.find(id);
      if (i == self->state.replies.end())
        return;
      i->second.deliver(std::get<0>(w), std::get<1>(w), std::get<2>(w), std::get<3>(w),
                        std::get<4>(w), std::get<5>(w), std::get<6>(w));
      self->state.replies.erase(i);
    },
  };
}

} // namespace

caf::actor spawn_endpoint(caf::actor_system& sys, std::shared_ptr<node_context> ctx) {
  return sys.spawn(endpoint, std::move(ctx));
}

} // namespace annal::cluster::detail
