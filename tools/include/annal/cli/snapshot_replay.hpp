// Checks a stored snapshot of aggregate A against a full replay of its stream up to the
// snapshot's version (design invariant 4: snapshot + tail == full replay). Only possible
// for aggregates the domain names (domain::add_aggregate registers this check); verify
// counts snapshots of other types apart (snapshots_unknown_type).
#pragma once

#include <limits>
#include <string>

#include "annal/aggregate_traits.hpp"
#include "annal/detail/aggregate_loader.hpp"
#include "annal/event_store.hpp"
#include "annal/same_value.hpp"

namespace annal::cli {

/// The outcome of one replay check.
struct snapshot_check {
  enum class verdict : uint8_t {
    /// The replayed state equals the snapshot's (same_value).
    matches,
    /// It does not, or the snapshot's state does not decode, or the replay failed.
    differs,
    /// No replay is possible (truncated stream, an older state schema): not a problem.
    not_replayable,
  };
  verdict outcome = verdict::not_replayable;
  std::string detail;
};

/// Replays `snap.stream_id` from version 1 to `snap.version` (ignoring snapshots) and
/// compares the state with the snapshot's (same_value: operator== when the state has one,
/// else byte for byte in cereal's binary form).
template <class A>
snapshot_check replay_snapshot(event_store& store, const event_registry& registry,
                               const snapshot_record& snap) {
  using traits = aggregate_traits<A>;
  using verdict = snapshot_check::verdict;
  if (snap.schema_version != traits::snapshot_schema())
    return {verdict::not_replayable, "state schema v" + std::to_string(snap.schema_version)
                                       + " is not this build's v"
                                       + std::to_string(traits::snapshot_schema())};
  auto stored = from_bytes<detail::snapshot_payload<A>>(snap.state);
  if (!stored)
    return {verdict::differs, "the state does not decode: " + stored.error().message};
  auto head = store.stream_head(snap.stream_id);
  if (!head)
    return {verdict::not_replayable, "cannot read the stream head: " + head.error().message};
  if (head->truncated_through > 0)
    return {verdict::not_replayable, "events up to v" + std::to_string(head->truncated_through)
                                       + " were truncated"};
  detail::load_bounds bounds{snap.version, std::numeric_limits<timestamp_ns>::max()};
  auto replayed = detail::load_aggregate<A>(store, registry, snap.stream_id, bounds, 0, false);
  if (!replayed)
    return {verdict::differs, "the replay failed: " + replayed.error().message};
  if (replayed->version != snap.version)
    return {verdict::differs, "the replay reached v" + std::to_string(replayed->version)
                                + ", not the snapshot's v" + std::to_string(snap.version)};
  if (same_value(replayed->state, stored->state))
    return {verdict::matches, {}};
  auto want = to_bytes(replayed->state);
  auto have = to_bytes(stored->state);
  if (!want || !have)
    return {verdict::differs, "the state does not serialize"};
  return {verdict::differs, "the state differs from a replay of v1..v"
                              + std::to_string(snap.version) + " (" + std::to_string(have->size())
                              + " vs " + std::to_string(want->size()) + " bytes)"};
}

} // namespace annal::cli
