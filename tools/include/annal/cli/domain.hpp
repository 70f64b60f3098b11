// What the operator commands know of the domain whose stores they inspect: the event types
// (to render and verify payloads), the aggregates (to check snapshots by replay) and the
// durable read models (to rebuild them offline). Anything else is shown and checked
// generically: an unknown event as its bytes, an unknown snapshot structurally.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "annal/cli/snapshot_replay.hpp"
#include "annal/event_registry.hpp"

namespace annal {
class runtime;
}

namespace annal::cli {

/// Checks one snapshot by replay (see replay_snapshot).
using snapshot_replayer =
  std::function<snapshot_check(event_store&, const event_registry&, const snapshot_record&)>;

/// Registers on a runtime what rebuilding the read models needs (their aggregates and
/// projections), and nothing that would write events (no process managers).
using read_model_installer = std::function<status(runtime&)>;

/// The domain `annal::cli::run` works with; a few lines fill it in:
///   annal::cli::domain d;
///   d.add_aggregate<account>();
///   d.add_read_models({"balances"}, [](annal::runtime& rt) { return add_balances(rt); });
/// Thread safety: filled once before run, then read-only.
class domain {
public:
  /// Knows aggregate A: its event types and the replay check of its snapshots.
  template <class A>
  void add_aggregate() {
    aggregate_traits<A>::register_events(registry_);
    replayers_[aggregate_traits<A>::snapshot_type()] = &replay_snapshot<A>;
  }

  /// Durable read models `names` (their projection names), which `install` registers on
  /// a runtime opened on the data folder; `rebuild NAME` replays them offline.
  void add_read_models(std::vector<std::string> names, read_model_installer install);

  /// The event types known so far; add types that belong to no aggregate here
  /// (`events().add<E>()`), so that they render decoded.
  event_registry& events() noexcept { return registry_; }
  const event_registry& registry() const noexcept { return registry_; }

  /// The replay check of snapshots of `snapshot_type` (e.g. "order.state"), or nullptr.
  const snapshot_replayer* replayer(std::string_view snapshot_type) const;

  /// Names of the durable read models `rebuild` can replay, in order.
  const std::vector<std::string>& projections() const noexcept { return projections_; }
  /// True when `name` is one of projections().
  bool knows_projection(std::string_view name) const;
  /// What registers the read models on a runtime (empty when none were added).
  const read_model_installer& installer() const noexcept { return install_; }

private:
  event_registry registry_;
  std::map<std::string, snapshot_replayer, std::less<>> replayers_;
  std::vector<std::string> projections_;
  read_model_installer install_;
};

} // namespace annal::cli
