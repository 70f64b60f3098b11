#include "rebalancer.hpp"

#include <caf/all.hpp>

#include "annal/log.hpp"
#include "rebalance_plan.hpp"
#include "shard_mover.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

using clock = std::chrono::steady_clock;
using step_atom = caf::atom_constant<caf::atom("clrbstep")>;

// Moves that fail in a row before the rebalance gives up (a stale map here is mended by the
// next map exchange, so a failure is retried after a pause).
constexpr int max_failures = 5;
constexpr auto retry_pause = std::chrono::milliseconds{500};
constexpr auto link_poll = std::chrono::milliseconds{100};

// A move's outcome, back in the rebalancer.
struct moved {
  result<move_report> outcome;
};

using rebalance_callback = annal::detail::once_delivery<result<rebalance_report>>;

struct rebalancer_state {
  std::shared_ptr<node_context> ctx;
  std::string draining;
  // Answers unavailable if the actor ends without a result (the node left).
  std::shared_ptr<rebalance_callback> done;
  rebalance_report report;
  clock::time_point links_deadline;
  int failures = 0;
  static inline const char* name = "annal.cluster.rebalancer";
};

} // namespace
} // namespace annal::cluster::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::cluster::detail::moved)

namespace annal::cluster::detail {

namespace {

using self_ptr = caf::stateful_actor<rebalancer_state>*;

void finish(self_ptr self, result<rebalance_report> r) {
  (*self->state.done)(std::move(r));
  self->quit();
}

// The first peer whose link is not up, or none.
std::optional<std::string> peer_down(const node_context& ctx, const std::vector<member>& members) {
  for (const auto& m : members)
    if (m.id != ctx.config.node_id && ctx.health.get(m.id).state != link_state::up)
      return m.id;
  return std::nullopt;
}

void step(self_ptr self) {
  auto& st = self->state;
  auto members = st.ctx->peers.members();
  if (auto down = peer_down(*st.ctx, members)) {
    if (clock::now() < st.links_deadline)
      return self->delayed_send(self, link_poll, step_atom::value);
    return finish(self, make_error(errc::unavailable, "node '" + *down + "' is not reachable: a rebalance "
                                                        "needs every member up"));
  }
  std::vector<std::string> ids;
  for (const auto& m : members)
    ids.push_back(m.id);
  auto plan = next_move(st.ctx->map.copy(), ids, st.draining);
  if (!plan)
    return finish(self, std::move(st.report));
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto then = [me](result<move_report> r) { caf::anon_send(me, moved{std::move(r)}); };
  if (plan->from == st.ctx->config.node_id)
    return move_shard(st.ctx, plan->shard, plan->to, std::move(then));
  auto link = st.ctx->peers.link(plan->from);
  if (!link)
    return then(make_error(errc::unavailable, "no link to node '" + plan->from + "'"));
  // The owner's move waits for its predecessor's process state and copies twice, each
  // bounded by move_timeout, and has short steps.
  auto bound = 3 * st.ctx->config.move_timeout + 4 * st.ctx->config.forward_timeout;
  caf::anon_send(link, outbound_give{plan->shard, plan->to, bound, std::make_shared<give_callback>(then)});
}

void on_moved(self_ptr self, moved& m) {
  auto& st = self->state;
  if (m.outcome) {
    st.failures = 0;
    st.report.moves.push_back(std::move(*m.outcome));
    return step(self);
  }
  log(log_level::warning, "cluster: rebalance: " + m.outcome.error().to_string());
  if (++st.failures >= max_failures)
    return finish(self, make_error(m.outcome.error().code,
                                   "the rebalance stopped after " + std::to_string(st.report.moves.size())
                                     + " moves, " + std::to_string(max_failures)
                                     + " failing in a row; the last: " + m.outcome.error().message));
  self->delayed_send(self, retry_pause, step_atom::value);
}

caf::behavior rebalancer(self_ptr self, std::shared_ptr<node_context> ctx, std::string draining,
                         std::shared_ptr<rebalance_callback> done) {
  auto& st = self->state;
  st.links_deadline = clock::now() + ctx->config.move_timeout;
  st.ctx = std::move(ctx);
  st.draining = std::move(draining);
  st.done = std::move(done);
  self->send(self, step_atom::value);
  return {
    [self](step_atom) { step(self); },
    [self](moved& m) { on_moved(self, m); },
  };
}

} // namespace

void rebalance(std::shared_ptr<node_context> ctx, std::string draining, rebalance_done done) {
  std::lock_guard<std::mutex> guard{ctx->moves_mx};
  if (ctx->rebalancer)
    return done(make_error(errc::conflict, "a rebalance runs on this node already"));
  // The handle in the context keeps the actor alive and lets leave() stop it; cleared
  // with the outcome, whichever way it comes.
  std::weak_ptr<node_context> weak = ctx;
  auto once = std::make_shared<rebalance_callback>(
    [weak, done = std::move(done)](result<rebalance_report> r) {
      if (auto c = weak.lock()) {
        std::lock_guard<std::mutex> g{c->moves_mx};
        c->rebalancer = nullptr;
      }
      done(std::move(r));
    },
    "the node left during the rebalance");
  auto& sys = ctx->rt->system();
  ctx->rebalancer = sys.spawn(rebalancer, ctx, std::move(draining), std::move(once));
}

} // namespace annal::cluster::detail
