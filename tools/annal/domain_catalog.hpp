// What this build of `annal` knows of the domain whose stores it inspects: the event types
// (to render and verify payloads), the aggregates (to check snapshots by replay) and the
// durable projections (to rebuild them offline). Anything else is reported as unknown.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "annal/event_registry.hpp"
#include "snapshot_replay.hpp"

namespace annal {
class runtime;
}

namespace annal::cli {

/// Checks one snapshot by replay (see replay_snapshot).
using snapshot_replayer =
  std::function<snapshot_check(event_store&, const event_registry&, const snapshot_record&)>;

/// Registers on a runtime what rebuilding a projection needs (aggregates, read models),
/// and nothing that would write events (no process managers).
using projection_installer = std::function<status(runtime&)>;

/// Thread safety: filled once at startup, then read-only.
class domain_catalog {
public:
  /// Knows aggregate A: its event types and the replay check of its snapshots.
  template <class A>
  void add_aggregate() {
    aggregate_traits<A>::register_events(registry_);
    replayers_[aggregate_traits<A>::snapshot_type()] = &replay_snapshot<A>;
  }

  /// Durable projections `names`, registered on a runtime by `install`.
  void add_projections(std::vector<std::string> names, projection_installer install);

  const event_registry& registry() const noexcept { return registry_; }

  /// The replay check of snapshots of `snapshot_type` (e.g. "order.state"), or nullptr.
  const snapshot_replayer* replayer(std::string_view snapshot_type) const;

  /// Names of the durable projections `rebuild` can replay, in order.
  const std::vector<std::string>& projections() const noexcept { return projections_; }
  bool knows_projection(std::string_view name) const;
  const projection_installer& installer() const noexcept { return install_; }

private:
  event_registry registry_;
  std::map<std::string, snapshot_replayer, std::less<>> replayers_;
  std::vector<std::string> projections_;
  projection_installer install_;
};

/// The catalog of this build: the sample shop's aggregates and read models
/// (shop_catalog.cpp), or nothing when the sample is not built (empty_catalog.cpp).
domain_catalog build_catalog();

} // namespace annal::cli
