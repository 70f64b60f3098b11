#include "process_handoff.hpp"

#include <caf/all.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <algorithm>
#include <optional>
#include <vector>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "annal/serialization.hpp"
#include "annal/shard_import.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

void send_rows(const std::shared_ptr<node_context>& ctx, uint16_t shard, uint64_t epoch, uint64_t takes,
               const process_shard_state& rows, std::function<void(result<uint64_t>)> done) {
  auto owner = ctx->map.owner(shard);
  if (owner.node == ctx->config.node_id)
    return done(make_error(errc::conflict, "this node owns shard " + std::to_string(shard)));
  auto link = ctx->peers.link(owner.node);
  if (!link)
    return done(make_error(errc::unavailable, "no link to node '" + owner.node + "'"));
  auto bytes = to_bytes(rows);
  if (!bytes)
    return done(std::move(bytes).error());
  auto sent = [ctx, shard, epoch, takes, done](result<uint64_t> taken) {
    if (!taken)
      return done(std::move(taken).error());
    // The owner has them, or its predecessor in the shard's chain of owners had them
    // (it merged them before moving the shard on): ours go, unless the shard came back
    // here meanwhile (what this node holds of it is then the owner's, merged).
    if (auto ok = ctx->rt->drop_process_shard(shard, takes, epoch); !ok)
      return done(std::move(ok).error());
    done(*taken);
  };
  caf::anon_send(link, outbound_process_state{shard, epoch, std::move(*bytes), ctx->config.move_timeout,
                                              std::make_shared<step_callback>(std::move(sent))});
}

} // namespace

void hand_off_process_state(std::shared_ptr<node_context> ctx, uint16_t shard, uint64_t epoch,
                            std::function<void(result<uint64_t>)> done) {
  // Everything of the shard this node's managers will ever handle is in its log by now.
  auto through = ctx->rt->store().last_position();
  if (!through)
    return done(std::move(through).error());
  auto timeout = ctx->config.move_timeout;
  auto takes = ctx->rt->process_shard_takes(shard);
  ctx->rt->export_process_shard(shard, *through, timeout,
                                [ctx, shard, epoch, takes, done](result<process_shard_state> rows) {
    if (!rows)
      return done(std::move(rows).error());
    send_rows(ctx, shard, epoch, takes, *rows, done);
  });
}

result<uint64_t> take_process_state(node_context& ctx, uint16_t shard, uint64_t epoch, const std::string& rows) {
  if (shard >= ctx.map.shard_count() || ctx.map.owner(shard).node != ctx.config.node_id)
    return make_error(errc::unavailable, "this node does not own shard " + std::to_string(shard));
  if (ctx.map.owner(shard).epoch < epoch)
    return make_error(errc::unavailable, "this node owns shard " + std::to_string(shard) + " at epoch "
                                           + std::to_string(ctx.map.owner(shard).epoch) + ", not yet at "
                                           + std::to_string(epoch));
  auto decoded = from_bytes<process_shard_state>(rows);
  if (!decoded)
    return make_error(errc::bad_request, "malformed process state of shard " + std::to_string(shard) + ": "
                                           + decoded.error().message);
  return ctx.rt->import_process_shard(shard, epoch, *decoded);
}

namespace {

using sweep_atom = caf::atom_constant<caf::atom("pssweep")>;
using look_atom = caf::atom_constant<caf::atom("pslook")>;
using swept_atom = caf::atom_constant<caf::atom("psswept")>;

// After a start (a restart after a kill -9 among them), the first look comes soon: the
// shard's owner cannot move it on before it has these rows.
constexpr auto first_look = std::chrono::seconds{1};

struct sweep_state {
  std::shared_ptr<node_context> ctx;
  std::chrono::milliseconds interval{0};
  bool busy = false;
  uint16_t next = 0; // where the next look starts: every shard gets its turn
  static inline const char* name = "annal.cluster.process_sweep";
};

struct hand_off_target {
  uint16_t shard = 0;
  uint64_t epoch = 0; // of this node's hand-over
};

// The epoch at which this node's journal handed `shard` over, if it did.
std::optional<uint64_t> handed_over_at(const std::vector<shard_owner_record>& records, uint16_t shard,
                                       const std::string& self) {
  for (const auto& r : records)
    if (r.shard == shard && !r.owner.empty() && r.owner != self)
      return r.epoch;
  return std::nullopt;
}

// The first shard from st.next on that this node does not own and owes a hand-off: it
// holds rows of it, or handed it over later than its last hand-off done (the owner
// waits for one, even an empty one, before it moves the shard on).
std::optional<hand_off_target> next_to_hand_off(sweep_state& st) {
  auto& ctx = *st.ctx;
  auto count = ctx.map.shard_count();
  auto held = ctx.rt->process_shards_held(count); // one read, not one per shard
  auto done = ctx.rt->process_hand_offs_done();
  if (!done && done.error().code == errc::unavailable)
    return std::nullopt; // no process managers here: nothing to hand off
  auto records = ctx.rt->store().shard_owners();
  if (!held || !done || !records) {
    auto why = !held ? held.error() : !done ? done.error() : records.error();
    log(log_level::warning, "cluster: the process sweep cannot read what it owes: " + why.to_string());
    return std::nullopt;
  }
  for (uint16_t i = 0; i < count; ++i) {
    auto s = static_cast<uint16_t>((st.next + i) % count);
    if (ctx.map.owner(s).node == ctx.config.node_id)
      continue;
    {
      std::lock_guard<std::mutex> guard{ctx.moves_mx};
      if (ctx.moving.count(s) > 0)
        continue;
    }
    bool has_rows = std::binary_search(held->begin(), held->end(), s);
    auto epoch = handed_over_at(*records, s, ctx.config.node_id);
    if (!epoch) {
      if (has_rows) // rows of a shard this journal never handed over: no owner expects them
        log(log_level::warning, "cluster: this node holds process state of shard " + std::to_string(s)
                                  + ", which its journal never handed over; it stays here");
      continue;
    }
    auto last = done->find(s);
    if (!has_rows && last != done->end() && last->second >= *epoch)
      continue;
    st.next = static_cast<uint16_t>((s + 1) % count);
    return hand_off_target{s, *epoch};
  }
  return std::nullopt;
}

void look(caf::stateful_actor<sweep_state>* self) {
  auto& st = self->state;
  if (st.busy)
    return;
  auto target = next_to_hand_off(st);
  if (!target)
    return;
  st.busy = true;
  auto me = caf::actor_cast<caf::actor>(self);
  auto shard = target->shard;
  hand_off_process_state(st.ctx, shard, target->epoch, [me, shard](result<uint64_t> taken) {
    if (taken)
      log(log_level::info, "cluster: handed the process state of shard " + std::to_string(shard)
                             + " to its owner (" + std::to_string(*taken) + " rows merged)");
    else
      log(log_level::warning, "cluster: the process state of shard " + std::to_string(shard)
                                + " stays here for now: " + taken.error().to_string());
    caf::anon_send(me, swept_atom::value, static_cast<bool>(taken));
  });
}

caf::behavior process_sweep(caf::stateful_actor<sweep_state>* self, std::shared_ptr<node_context> ctx,
                            std::chrono::milliseconds interval) {
  self->state.ctx = std::move(ctx);
  self->state.interval = interval;
  self->delayed_send(self, std::min<std::chrono::milliseconds>(interval, first_look), sweep_atom::value);
  return {
    [self](sweep_atom) {
      self->delayed_send(self, self->state.interval, sweep_atom::value);
      look(self);
    },
    [self](look_atom) { look(self); },
    [self](swept_atom, bool handed) {
      self->state.busy = false;
      if (handed) // the next shard at once: a drained node may hold rows of many
        self->send(self, look_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_process_sweep(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                               std::chrono::milliseconds interval) {
  return sys.spawn(process_sweep, std::move(ctx), interval);
}

} // namespace annal::cluster::detail
