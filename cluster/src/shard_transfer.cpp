#include "shard_transfer.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <limits>

#include "annal/log.hpp"
#include "annal/runtime.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

// Records in this node's journal that it owns `shard` from `epoch` on, passivates the
// instances left from when it owned the shard before (they hold what it was then), and
// makes it so in the live map.
status record_take_over(node_context& ctx, uint16_t shard, uint64_t epoch, const std::string& how) {
  // First: once the shard is ours, what our managers write for it must survive the merge
  // of the old owner's rows (which come after the take-over).
  if (auto ok = ctx.rt->expect_process_shard(shard, epoch); !ok)
    return ok;
  if (auto ok = ctx.rt->store().take_over_shard(shard, epoch); !ok)
    return ok;
  ctx.rt->forget_shard(shard, ctx.config.shards.shard_count());
  ctx.map.adopt(shard, shard_owner{ctx.config.node_id, epoch});
  log(log_level::info, "cluster: took over shard " + std::to_string(shard) + " at epoch "
                         + std::to_string(epoch) + " (" + how + ")");
  return {};
}

} // namespace

std::size_t merge_peer_map(node_context& ctx, const shard_map& incoming) {
  std::size_t changed = 0;
  for (uint16_t s = 0; s < incoming.shard_count() && s < ctx.map.shard_count(); ++s) {
    const auto& theirs = incoming.owner(s);
    if (theirs.epoch <= ctx.map.owner(s).epoch)
      continue;
    if (theirs.node != ctx.config.node_id) {
      changed += ctx.map.adopt(s, theirs) ? 1 : 0;
      continue;
    }
    // Our own take-over that the old owner recorded but whose message we never got.
    if (auto ok = record_take_over(ctx, s, theirs.epoch, "learned from a peer's map"); !ok)
      log(log_level::error, "cluster: cannot record the take-over of shard " + std::to_string(s)
                              + ": " + ok.error().to_string());
    else
      ++changed;
  }
  return changed;
}

result<uint64_t> local_shard_head(node_context& ctx, uint16_t shard) {
  shard_range r;
  r.shard = shard;
  r.after = std::numeric_limits<uint64_t>::max(); // the head alone, no scan
  auto c = ctx.rt->store().read_shard(r);
  if (!c)
    return std::move(c).error();
  return c->head;
}

namespace {

struct pull_job {
  std::shared_ptr<node_context> ctx;
  uint16_t shard = 0;
  uint64_t epoch = 0;
  caf::actor link;
  uint64_t after = 0;
  uint64_t hint = 0;
  uint64_t head = 0; // the shard's head here once the events are in
  std::function<void(result<uint64_t>)> done;
};

void pull_next(const std::shared_ptr<pull_job>& job);
void pull_records(const std::shared_ptr<pull_job>& job, std::string after);

// One chunk read from the old owner: imported here, then the next read (or the end).
void import_chunk(const std::shared_ptr<pull_job>& job, shard_events got) {
  shard_import chunk;
  chunk.shard = job->shard;
  chunk.events = std::move(got.events);
  if (got.at_end)
    chunk.source_head = got.head;
  if (!chunk.events.empty())
    job->after = chunk.events.back().shard_position;
  job->hint = got.next_hint;
  bool at_end = got.at_end;
  job->ctx->rt->import_shard(std::move(chunk), [job, at_end](result<import_outcome> out) {
    if (!out)
      return job->done(std::move(out).error());
    if (!at_end)
      return pull_next(job);
    job->head = out->head;
    {
      std::lock_guard<std::mutex> guard{job->ctx->moves_mx};
      job->ctx->pull_hints[job->shard] = {job->epoch, job->hint};
    }
    pull_records(job, {});
  });
}

// After the events, the streams they cannot speak for: deleted or truncated ones.
void pull_records(const std::shared_ptr<pull_job>& job, std::string after) {
  outbound_records_read read{job->shard, job->epoch, std::move(after),
                             std::make_shared<records_callback>([job](result<records_page> page) {
                               if (!page)
                                 return job->done(std::move(page).error());
                               auto& store = job->ctx->rt->store();
                               for (const auto& r : page->records)
                                 if (auto ok = store.import_stream_record(r); !ok)
                                   return job->done(ok.error());
                               if (page->at_end)
                                 return job->done(job->head);
                               pull_records(job, std::move(page->next_after));
                             })};
  caf::anon_send(job->link, std::move(read));
}

void pull_next(const std::shared_ptr<pull_job>& job) {
  outbound_shard_read read{job->shard, job->epoch, job->after, job->hint,
                           std::make_shared<shard_read_callback>([job](result<shard_events> got) {
                             if (!got)
                               return job->done(std::move(got).error());
                             import_chunk(job, std::move(*got));
                           })};
  caf::anon_send(job->link, std::move(read));
}

} // namespace

void pull_shard(std::shared_ptr<node_context> ctx, uint16_t shard, uint64_t epoch,
                const std::string& from, std::function<void(result<uint64_t>)> done) {
  auto link = ctx->peers.link(from);
  if (!link)
    return done(make_error(errc::unavailable, "no link to node '" + from + "'"));
  auto head = local_shard_head(*ctx, shard);
  if (!head)
    return done(std::move(head).error());
  auto job = std::make_shared<pull_job>();
  job->ctx = std::move(ctx);
  job->shard = shard;
  job->epoch = epoch;
  job->link = std::move(link);
  job->after = *head;
  {
    // The previous pull of this shard from the same owner scanned its log this far.
    std::lock_guard<std::mutex> guard{job->ctx->moves_mx};
    if (auto h = job->ctx->pull_hints.find(shard); h != job->ctx->pull_hints.end() && h->second.first == epoch)
      job->hint = h->second.second;
  }
  job->done = std::move(done);
  pull_next(job);
}

status take_shard(node_context& ctx, uint16_t shard, uint64_t epoch, uint64_t head) {
  auto have = local_shard_head(ctx, shard);
  if (!have)
    return std::move(have).error();
  if (*have < head)
    return make_error(errc::conflict, "this node holds shard " + std::to_string(shard) + " through "
                                        + std::to_string(*have) + ", not " + std::to_string(head));
  return record_take_over(ctx, shard, epoch, "its copy reaches shard position " + std::to_string(*have));
}

} // namespace annal::cluster::detail
