#include "annal/detail/subscription.hpp"

#include <caf/all.hpp>

#include "annal/detail/atoms.hpp"
#include "annal/detail/messages.hpp"

namespace annal::detail {

subscription::subscription(caf::event_based_actor* self, event_store& store, caf::actor bus,
                           event_filter filter, std::size_t chunk, apply_fn apply, fail_fn fail,
                           mode_fn mode)
  : self_(self), store_(store), bus_(std::move(bus)), filter_(std::move(filter)),
    chunk_(std::max<std::size_t>(chunk, 1)), apply_(std::move(apply)), fail_(std::move(fail)),
    mode_(std::move(mode)) {}

void subscription::start(global_position position) {
  position_ = position;
  live_ = false;
  active_ = true;
  auto epoch = ++epoch_;
  mode_(false);
  // Subscribing first makes the bus buffer every batch after live_from, so reading the
  // journal up to (at least) live_from leaves no gap.
  self_->request(bus_, caf::infinite, subscribe_atom::value, caf::actor_cast<caf::actor>(self_), filter_)
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
  uint64_t read = 0;
  auto n = store_.read_all_batch(position_, chunk_, [&](const std::vector<event_view>& all) -> status {
    read = all.size();
    if (all.empty())
      return {};
    std::vector<event_view> matching;
    matching.reserve(all.size());
    for (const auto& e : all)
      if (filter_.matches(e.stream_id, e.type))
        matching.push_back(e);
    if (!apply(matching, all.back().position))
      return make_error(errc::io_error, "apply failed"); // already reported
    return {};
  });
  if (!n) {
    if (active_) {
      pause();
      fail_(n.error());
    }
    return;
  }
  if (!active_)
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

void subscription::on_committed(const std::vector<recorded_event>& batch) {
  if (!active_ || !live_ || batch.empty())
    return;
  std::vector<event_view> matching;
  matching.reserve(batch.size());
  for (const auto& e : batch) {
    if (e.position <= position_ || !filter_.matches(e.stream_id, e.type))
      continue;
    event_view v;
    v.stream_id = e.stream_id;
    v.version = e.version;
    v.position = e.position;
    v.type = e.type;
    v.schema_version = e.schema_version;
    v.timestamp = e.timestamp;
    v.command_id = e.metadata.command_id;
    v.correlation_id = e.metadata.correlation_id;
    v.causation_id = e.metadata.causation_id;
    v.payload = e.payload;
    v.corrupt = e.corrupt;
    matching.push_back(v);
  }
  auto last = batch.back().position;
  if (last <= position_)
    return;
  if (apply(matching, last))
    self_->send(bus_, ack_atom::value, last);
}

void subscription::on_progress(global_position position) {
  if (!active_ || !live_ || position <= position_)
    return;
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
