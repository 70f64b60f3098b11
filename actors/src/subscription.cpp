#include "annal/detail/subscription.hpp"

#include <caf/all.hpp>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"

namespace annal::detail {

subscription::subscription(caf::event_based_actor* self, event_store& store, caf::actor bus,
                           event_filter filter, std::size_t chunk, apply_fn apply, fail_fn fail,
                           mode_fn mode, std::chrono::milliseconds apply_interval)
  : self_(self), store_(store), bus_(std::move(bus)), filter_(std::move(filter)),
    chunk_(std::max<std::size_t>(chunk, 1)), apply_interval_(apply_interval),
    apply_(std::move(apply)), fail_(std::move(fail)), mode_(std::move(mode)) {}

void subscription::start(global_position position) {
  position_ = position;
  live_ = false;
  queued_.clear();
  queued_through_ = 0;
  active_ = true;
  auto epoch = ++epoch_;
  mode_(false);
  // Subscribing first makes the bus buffer every batch after live_from, so reading the
  // journal up to (at least) live_from leaves no gap.
  // The bus paces live batches to our apply interval: we would only queue them meanwhile.
  auto pace_ms = static_cast<uint32_t>(apply_interval_.count());
  self_->request(bus_, caf::infinite, subscribe_atom::value, caf::actor_cast<caf::actor>(self_), filter_,
                 pace_ms)
    .then([=](global_position live_from) {
      if (epoch != epoch_ || !active_)
        return;
      live_from_ = live_from;
      self_->send(self_, catchup_atom::value);
    },
    [=](const caf::error& err) {
      if (epoch == epoch_ && active_) {
        pause();
        fail_(make_error(errc::unavailable, "event bus: " + caf::to_string(err)));
      }
    });
}

void subscription::pause() {
  if (!active_)
    return;
  active_ = false;
  live_ = false;
  ++epoch_;
  self_->send(bus_, unsub_atom::value, caf::actor_cast<caf::actor>(self_));
}

bool subscription::apply(const std::vector<event_view>& events, global_position through) {
  if (auto ok = apply_(events, through); !ok) {
    pause();
    fail_(ok.error());
    return false;
  }
  position_ = through;
  return true;
}

void subscription::catch_up_step() {
  if (!active_ || live_)
    return;
  // A failed apply reports itself (and may restart the subscription at once): remember
  // the epoch to know whether what follows still belongs to this step.
  auto epoch = epoch_;
  // Copied out of the read transaction before applying: a sink may wait (a read-model
  // fsync, a process manager's commands), and no wait may hold the journal's transaction
  // (it would block map growth, and with it the writer those commands wait for).
  auto chunk = store_.read_chunk(position_, chunk_, [&](const event_view& e) {
    return filter_.matches(e.stream_id, e.type);
  });
  if (!chunk) {
    pause();
    fail_(chunk.error());
    return;
  }
  const uint64_t read = chunk->read();
  if (read > 0 && !apply(chunk->events(), chunk->last_position()))
    return; // the apply failed and was reported; a restart (if any) took over
  if (epoch != epoch_ || !active_)
    return;
  if (read == chunk_ || position_ < live_from_)
    self_->send(self_, catchup_atom::value);
  else
    request_live();
}

void subscription::request_live() {
  auto epoch = epoch_;
  self_->request(bus_, caf::infinite, go_live_atom::value, position_)
    .then([=](bool now_live, global_position target) {
      if (epoch != epoch_ || !active_)
        return;
      if (now_live) {
        live_ = true;
        mode_(true);
        return;
      }
      live_from_ = target; // the bus dropped our buffer: read further first
      self_->send(self_, catchup_atom::value);
    },
    [=](const caf::error&) {
      // The bus forgot us (we fell behind meanwhile): subscribe again from here.
      if (epoch == epoch_ && active_)
        start(position_);
    });
}

void subscription::collect(const std::vector<recorded_event>& batch,
                           std::vector<event_view>& out) const {
  for (const auto& e : batch) {
    if (e.position <= position_ || !filter_.matches(e.stream_id, e.type))
      continue;
    out.push_back(e.view());
  }
}

void subscription::on_committed(const std::vector<recorded_event>& batch) {
  if (!active_ || !live_ || batch.empty())
    return;
  std::vector<event_view> matching;
  matching.reserve(batch.size());
  collect(batch, matching);
  auto last = batch.back().position;
  if (last <= position_)
    return;
  if (apply(matching, last))
    self_->send(bus_, ack_atom::value, last);
}

void subscription::on_committed(const committed_events& batch) {
  if (!active_ || !live_ || batch->empty())
    return;
  queued_.push_back(batch);
  if (flush_scheduled_)
    return;
  flush_scheduled_ = true;
  self_->send(self_, flush_atom::value);
}

void subscription::on_delivery(const committed_batches& batches, global_position through) {
  if (!active_ || !live_)
    return;
  for (const auto& b : batches)
    if (!b->empty())
      queued_.push_back(b);
  queued_through_ = std::max(queued_through_, through);
  flush(); // a flush_atom still on its way finds nothing left
}

void subscription::flush() {
  flush_scheduled_ = false;
  auto batches = std::move(queued_);
  queued_.clear();
  auto through = std::max(queued_through_, position_);
  queued_through_ = 0;
  if (!active_ || !live_)
    return;
  std::vector<event_view> matching;
  for (const auto& b : batches) {
    collect(*b, matching);
    through = std::max(through, b->back().position);
  }
  if (through <= position_)
    return;
  if (apply(matching, through))
    self_->send(bus_, ack_atom::value, through);
}

void subscription::on_progress(global_position position) {
  if (!active_ || !live_ || position <= position_)
    return;
  if (flush_scheduled_) {
    // Batches are queued: this position must not overtake them.
    queued_through_ = std::max(queued_through_, position);
    return;
  }
  // Nothing of interest up to `position`; advance without a write.
  static const std::vector<event_view> none;
  apply(none, position);
}

void subscription::on_behind() {
  if (!active_)
    return;
  start(position_);
}

} // namespace annal::detail
