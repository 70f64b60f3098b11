#include "process_handoff.hpp"

#include <caf/all.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "annal/serialization.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

void send_rows(const std::shared_ptr<node_context>& ctx, uint16_t shard, const process_shard_state& rows,
               std::function<void(result<uint64_t>)> done) {
  auto owner = ctx->map.owner(shard);
  if (owner.node == ctx->config.node_id)
    return done(make_error(errc::conflict, "this node owns shard " + std::to_string(shard)));
  auto link = ctx->peers.link(owner.node);
  if (!link)
    return done(make_error(errc::unavailable, "no link to node '" + owner.node + "'"));
  auto bytes = to_bytes(rows);
  if (!bytes)
    return done(std::move(bytes).error());
  auto sent = [ctx, shard, done](result<uint64_t> taken) {
    if (!taken)
      return done(std::move(taken).error());
    // The owner has them (or had them from an earlier hand-off): ours go.
    if (auto ok = ctx->rt->drop_process_shard(shard); !ok)
      return done(std::move(ok).error());
    done(*taken);
  };
  caf::anon_send(link, outbound_process_state{shard, std::move(*bytes), ctx->config.move_timeout,
                                              std::make_shared<step_callback>(std::move(sent))});
}

} // namespace

void hand_off_process_state(std::shared_ptr<node_context> ctx, uint16_t shard,
                            std::function<void(result<uint64_t>)> done) {
  // Everything of the shard this node's managers will ever handle is in its log by now.
  auto through = ctx->rt->store().last_position();
  if (!through)
    return done(std::move(through).error());
  auto timeout = ctx->config.move_timeout;
  ctx->rt->export_process_shard(shard, *through, timeout, [ctx, shard, done](result<process_shard_state> rows) {
    if (!rows)
      return done(std::move(rows).error());
    send_rows(ctx, shard, *rows, done);
  });
}

result<uint64_t> take_process_state(node_context& ctx, uint16_t shard, const std::string& rows) {
  if (shard >= ctx.map.shard_count() || ctx.map.owner(shard).node != ctx.config.node_id)
    return make_error(errc::unavailable, "this node does not own shard " + std::to_string(shard));
  auto decoded = from_bytes<process_shard_state>(rows);
  if (!decoded)
    return make_error(errc::bad_request, "malformed process state of shard " + std::to_string(shard) + ": "
                                           + decoded.error().message);
  return ctx.rt->import_process_shard(shard, *decoded);
}

namespace {

using sweep_atom = caf::atom_constant<caf::atom("pssweep")>;
using swept_atom = caf::atom_constant<caf::atom("psswept")>;

struct sweep_state {
  std::shared_ptr<node_context> ctx;
  std::chrono::milliseconds interval{0};
  bool busy = false;
  uint16_t next = 0; // where the next look starts: every shard gets its turn
  static inline const char* name = "annal.cluster.process_sweep";
};

// The first shard from st.next on that this node holds rows of but does not own.
std::optional<uint16_t> next_to_hand_off(sweep_state& st) {
  auto& ctx = *st.ctx;
  auto count = ctx.map.shard_count();
  for (uint16_t i = 0; i < count; ++i) {
    auto s = static_cast<uint16_t>((st.next + i) % count);
    if (ctx.map.owner(s).node == ctx.config.node_id)
      continue;
    {
      std::lock_guard<std::mutex> guard{ctx.moves_mx};
      if (ctx.moving.count(s) > 0)
        continue;
    }
    auto held = ctx.rt->holds_process_shard(s);
    if (held && *held) {
      st.next = static_cast<uint16_t>((s + 1) % count);
      return s;
    }
  }
  return std::nullopt;
}

caf::behavior process_sweep(caf::stateful_actor<sweep_state>* self, std::shared_ptr<node_context> ctx,
                            std::chrono::milliseconds interval) {
  self->state.ctx = std::move(ctx);
  self->state.interval = interval;
  self->delayed_send(self, interval, sweep_atom::value);
  return {
    [self](sweep_atom) {
      auto& st = self->state;
      self->delayed_send(self, st.interval, sweep_atom::value);
      if (st.busy)
        return;
      auto shard = next_to_hand_off(st);
      if (!shard)
        return;
      st.busy = true;
      auto me = caf::actor_cast<caf::actor>(self);
      hand_off_process_state(st.ctx, *shard, [me, shard = *shard](result<uint64_t> taken) {
        if (taken)
          log(log_level::info, "cluster: handed the process state of shard " + std::to_string(shard)
                                 + " to its owner (" + std::to_string(*taken) + " rows merged)");
        else
          log(log_level::warning, "cluster: the process state of shard " + std::to_string(shard)
                                    + " stays here for now: " + taken.error().to_string());
        caf::anon_send(me, swept_atom::value);
      });
    },
    [self](swept_atom) { self->state.busy = false; },
  };
}

} // namespace

caf::actor spawn_process_sweep(caf::actor_system& sys, std::shared_ptr<node_context> ctx,
                               std::chrono::milliseconds interval) {
  return sys.spawn(process_sweep, std::move(ctx), interval);
}

} // namespace annal::cluster::detail
