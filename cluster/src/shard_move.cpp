// The old owner's side of a shard move (cluster_node::move_shard). In order, each step
// starting when the previous one answered:
//   0. if this node still expects the process-manager state of the shard's previous owner
//      (it took the shard over, the rows have not arrived), it waits for them, at most
//      move_timeout: moved on, the shard's next owner would never get them (the previous
//      owner's rows go to the owner of the hand-over they belong to, by its epoch);
//   1. the new owner pulls the shard while this node still serves it (most of the copy);
//   2. this node fences the shard in its journal: nothing more of it commits here;
//   3. the new owner pulls the rest, and must then hold the shard through this node's head;
//   4. this node records the hand-over (epoch + 1) in its journal: it refuses the shard for
//      good (a kill -9 before this leaves it the owner; after, the new owner learns it
//      from this node's map if the next step does not arrive);
//   5. the new owner records the take-over and serves the shard;
//   6. every peer is told the new map;
//   7. this node's process managers finish what it committed of the shard (their commands
//      to it go to the new owner now) and their state rows and timers of the shard go to
//      the new owner (process_handoff.hpp; retried by the sweep when this fails).
// Commands for the shard fail with unavailable from 2 to 5: the pause. Waiting for the
// managers inside the pause would deadlock: their commands to the fenced shard fail.
#include "shard_mover.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <nlohmann/json.hpp>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "process_handoff.hpp"
#include "shard_transfer.hpp"
#include "wire.hpp"

namespace annal::cluster {

std::string to_json(const move_report& r) {
  nlohmann::json j{{"shard", r.shard},
                   {"from", r.from},
                   {"to", r.to},
                   {"epoch", r.epoch},
                   {"head", r.head},
                   {"pause_ms", static_cast<double>(r.pause.count()) / 1000.0},
                   {"total_ms", static_cast<double>(r.total.count()) / 1000.0},
                   {"process_rows", r.process_rows},
                   {"process_state_moved", r.process_state_moved}};
  return j.dump();
}

namespace detail {

namespace {

using clock = std::chrono::steady_clock;
using poll_atom = caf::atom_constant<caf::atom("clmvpoll")>;

constexpr auto process_state_poll = std::chrono::milliseconds{50};

struct move_job {
  std::shared_ptr<node_context> ctx;
  caf::actor link; // to the new owner
  std::vector<caf::actor> peers;
  move_report report;
  uint64_t old_epoch = 0;
  clock::time_point started;
  clock::time_point fenced;
  bool fence_up = false;
  int take_attempts = 0;
  move_shard_done done;

  // Reports the outcome and lets the next move of the shard start (the job itself may
  // live on a while: a step's request can hold it until its bound).
  void end(result<move_report> r) {
    {
      std::lock_guard<std::mutex> guard{ctx->moves_mx};
      ctx->moving.erase(report.shard);
    }
    done(std::move(r));
  }
};

using job_ptr = std::shared_ptr<move_job>;

std::chrono::microseconds micros_since(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t);
}

void fail(const job_ptr& job, const error& why) {
  if (job->fence_up) // before the hand-over only: the shard is this node's again
    (void)job->ctx->rt->store().fence_shard(job->report.shard, false);
  log(log_level::warning, "cluster: moving shard " + std::to_string(job->report.shard) + " to '"
                            + job->report.to + "' failed: " + why.to_string());
  job->end(why);
}

void send_step(const job_ptr& job, bool take, uint64_t epoch, std::function<void(result<uint64_t>)> then) {
  outbound_move_step step{take, job->report.shard, epoch, job->report.head,
                          take ? job->ctx->config.forward_timeout : job->ctx->config.move_timeout,
                          std::make_shared<step_callback>(std::move(then))};
  caf::anon_send(job->link, std::move(step));
}

void finish(const job_ptr& job) {
  job->report.total = micros_since(job->started);
  log(log_level::info, "cluster: moved shard " + std::to_string(job->report.shard) + " to '"
                         + job->report.to + "' at epoch " + std::to_string(job->report.epoch)
                         + " (head " + std::to_string(job->report.head) + ", pause "
                         + std::to_string(job->report.pause.count() / 1000) + " ms)");
  job->end(job->report);
}

// 7: the shard's process state, once the shard is served again.
void hand_off(const job_ptr& job) {
  hand_off_process_state(job->ctx, job->report.shard, job->report.epoch, [job](result<uint64_t> taken) {
    if (taken) {
      job->report.process_rows = *taken;
      job->report.process_state_moved = true;
    } else {
      log(log_level::warning, "cluster: the process state of shard " + std::to_string(job->report.shard)
                                + " stays here until the sweep hands it over: " + taken.error().to_string());
    }
    finish(job);
  });
}

// 5: the new owner takes the shard; retried a few times (it answers a repeated take at
// once). If it never answers, it takes the shard when it next exchanges maps with us.
void take(const job_ptr& job) {
  send_step(job, true, job->report.epoch, [job](result<uint64_t> ok) {
    if (ok) {
      job->report.pause = micros_since(job->fenced);
      // The map first: peers that still route the shard here get refusals until they hear.
      for (auto& p : job->peers)
        caf::anon_send(p, outbound_map_sync{});
      return hand_off(job);
    }
    if (++job->take_attempts < 3)
      return take(job);
    job->end(make_error(errc::unavailable, "shard " + std::to_string(job->report.shard)
                                              + " was handed over to '" + job->report.to
                                              + "', which did not confirm: " + ok.error().message
                                              + "; it takes the shard when it next hears this node's map"));
  });
}

// 4: the hand-over, durable before the new owner may serve.
void hand_over(const job_ptr& job, uint64_t their_head) {
  auto& ctx = *job->ctx;
  auto ours = local_shard_head(ctx, job->report.shard);
  if (!ours)
    return fail(job, ours.error());
  if (their_head < *ours)
    return fail(job, make_error(errc::conflict, "the copy reached shard position " + std::to_string(their_head)
                                                  + ", this node's head is " + std::to_string(*ours)));
  job->report.head = *ours;
  if (auto ok = ctx.rt->store().hand_over_shard(job->report.shard, job->report.to, job->report.epoch); !ok)
    return fail(job, ok.error());
  job->fence_up = false; // for good now
  ctx.rt->forget_shard(job->report.shard, ctx.config.shards.shard_count()); // idle from now on
  ctx.map.adopt(job->report.shard, shard_owner{job->report.to, job->report.epoch});
  take(job);
}

// 2 and 3: fence, then the rest of the copy.
void fence_and_finish_copy(const job_ptr& job) {
  if (auto ok = job->ctx->rt->store().fence_shard(job->report.shard, true); !ok)
    return fail(job, ok.error());
  job->fence_up = true;
  job->fenced = clock::now();
  send_step(job, false, job->old_epoch, [job](result<uint64_t> head) {
    if (!head)
      return fail(job, head.error());
    hand_over(job, *head);
  });
}

// 0: the previous owner's process state first (polled: it arrives through the endpoint).
void await_process_state(const job_ptr& job, std::function<void()> then) {
  auto& ctx = *job->ctx;
  auto shard = job->report.shard;
  if (!ctx.rt->expects_process_shard(shard))
    return then();
  log(log_level::info, "cluster: shard " + std::to_string(shard) + " moves once the process state of its "
                         "previous owner arrived");
  auto deadline = clock::now() + ctx.config.move_timeout;
  // Answers once: the poll's outcome, or unavailable if the actor ends first (shutdown).
  auto waited = std::make_shared<step_callback>([job, then = std::move(then)](result<uint64_t> ok) {
    if (!ok)
      return fail(job, ok.error());
    then();
  });
  ctx.rt->system().spawn([job, deadline, waited](caf::event_based_actor* self) -> caf::behavior {
    self->send(self, poll_atom::value);
    return {[=](poll_atom) {
      auto s = job->report.shard;
      if (!job->ctx->rt->expects_process_shard(s)) {
        self->quit();
        return (*waited)(uint64_t{0});
      }
      if (clock::now() < deadline)
        return self->delayed_send(self, process_state_poll, poll_atom::value);
      self->quit();
      (*waited)(make_error(errc::conflict, "shard " + std::to_string(s) + " still waits for the process "
                                             "state of its previous owner (it hands it over when it is up); "
                                             "the shard moves on once it arrived"));
    }};
  });
}

} // namespace

void move_shard(std::shared_ptr<node_context> ctx, uint16_t shard, const std::string& to,
                move_shard_done done) {
  const auto& self = ctx->config.node_id;
  if (shard >= ctx->map.shard_count())
    return done(make_error(errc::bad_request, "no shard " + std::to_string(shard)));
  auto owner = ctx->map.owner(shard);
  if (owner.node != self)
    return done(make_error(errc::conflict, "node '" + owner.node + "' owns shard " + std::to_string(shard)
                                             + ", not this node: ask it to move the shard"));
  auto link = to == self ? caf::actor{} : ctx->peers.link(to);
  if (!link)
    return done(make_error(errc::bad_request, "'" + to + "' is not another member of the cluster"));
  {
    std::lock_guard<std::mutex> guard{ctx->moves_mx};
    if (!ctx->moving.insert(shard).second)
      return done(make_error(errc::conflict, "shard " + std::to_string(shard) + " is moving already"));
  }
  auto job = std::make_shared<move_job>();
  job->ctx = std::move(ctx);
  job->link = std::move(link);
  job->peers = job->ctx->peers.links();
  job->report = move_report{shard, self, to, owner.epoch + 1, 0, {}, {}};
  job->old_epoch = owner.epoch;
  job->started = clock::now();
  job->done = std::move(done);
  await_process_state(job, [job] {
    // 1: the bulk of the copy while this node still serves the shard.
    send_step(job, false, job->old_epoch, [job](result<uint64_t> head) {
      if (!head)
        return fail(job, head.error());
      fence_and_finish_copy(job);
    });
  });
}

} // namespace detail

} // namespace annal::cluster
