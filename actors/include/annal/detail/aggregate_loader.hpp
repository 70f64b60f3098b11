// Internal: rebuilding an aggregate's state from the store — the newest usable snapshot
// plus the events after it — for live instances (rehydration) and for read-only loads
// (current state, state at a version, state as of a time).
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>

#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "annal/aggregate_traits.hpp"
#include "annal/call_user_code.hpp"
#include "annal/event_store.hpp"
#include "annal/log.hpp"

namespace annal::detail {

/// Upper bounds of a load: the state after the last event within both (inclusive).
struct load_bounds {
  stream_version max_version = std::numeric_limits<stream_version>::max();
  timestamp_ns max_timestamp = std::numeric_limits<timestamp_ns>::max();
};

/// (command id, stream version, global position) of a recent successful command.
using recent_entry = std::tuple<std::string, uint64_t, uint64_t>;

/// A rebuilt aggregate.
template <class A>
struct loaded_state {
  typename A::state state;
  stream_version version = 0;
  global_position last_position = 0;
  uint64_t last_shard_position = 0; // of the event at last_position
  /// Recent command ids, oldest first.
  std::vector<recent_entry> recent;
  /// Version of the snapshot used (0 = full replay).
  stream_version snapshot_version = 0;
};

/// What a snapshot of A holds: the state and the recent command ids.
template <class A>
struct snapshot_payload {
  typename A::state state;
  std::vector<recent_entry> recent;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(state, recent);
  }
};

/// A recent_entry by reference: it serializes as recent_entry does (the tuple's members in
/// order), so that writing a snapshot copies no command id.
struct recent_entry_ref {
  const std::string* id = nullptr;
  uint64_t version = 0;
  uint64_t position = 0;
  template <class Archive>
  void save(Archive& ar) const {
    ar(*id, version, position);
  }
};

/// The bytes of snapshot_payload<A>{state, recent}, written from the live state instead of
/// a copy of it: a hot aggregate's state can be large (a sku's open reservations), and a
/// copy per snapshot only added allocations to the serialization. Decode with
/// snapshot_payload<A>.
template <class A>
struct snapshot_payload_view {
  const typename A::state& state;
  std::vector<recent_entry_ref> recent;
  template <class Archive>
  void save(Archive& ar) const {
    ar(state, recent);
  }
};

/// Applies `fn` to the snapshot of `stream_id` usable within `bounds`, if any; an
/// undecodable one is ignored with a warning (a full replay is always correct).
template <class A>
std::optional<loaded_state<A>> load_snapshot_of(event_store& store, const std::string& stream_id,
                                                const load_bounds& bounds) {
  using traits = aggregate_traits<A>;
  snapshot_bounds sb;
  sb.max_version = bounds.max_version;
  sb.max_timestamp = bounds.max_timestamp;
  auto snap = store.load_snapshot(stream_id, sb);
  if (!snap) {
    log(log_level::warning, "ignoring snapshot of " + stream_id + ": " + snap.error().to_string());
    return std::nullopt;
  }
  if (!*snap)
    return std::nullopt;
  const auto& s = **snap;
  if (s.type != traits::snapshot_type() || s.schema_version != traits::snapshot_schema())
    return std::nullopt; // an older state schema: replay from the events instead
  auto payload = from_bytes<snapshot_payload<A>>(s.state);
  if (!payload) {
    log(log_level::warning, "ignoring undecodable snapshot of " + stream_id + " at version "
                              + std::to_string(s.version) + ": " + payload.error().to_string());
    return std::nullopt;
  }
  loaded_state<A> out{std::move(payload->state), s.version, 0, 0, std::move(payload->recent),
                      s.version};
  return out;
}

/// Applies the events of `stream_id` after `out.version`, within `bounds`, to `out` (a
/// state at that version: the initial one, a snapshot's, or one a caller kept). Errors:
/// stream_deleted, io_error, corrupt (events after out.version were truncated, or the
/// stream ends below it) / unknown_event_type (an event that cannot be decoded, or
/// evolve threw).
/// Why the stream whose head record is `head` cannot be loaded on top of `out` (a state
/// at out.version) within `bounds`, if it cannot (a deleted stream's read already failed).
template <class A>
std::optional<error> unloadable(const std::string& stream_id, const stream_info& head,
                                const loaded_state<A>& out, const load_bounds& bounds) {
  if (out.version < head.truncated_through && out.version < bounds.max_version)
    return make_error(errc::corrupt, "events of " + stream_id + " up to v"
                                       + std::to_string(head.truncated_through)
                                       + " were truncated and no snapshot covers them");
  if (head.head < out.version)
    return make_error(errc::corrupt, "stream '" + stream_id + "' ends at v" + std::to_string(head.head)
                                       + ", below the state's v" + std::to_string(out.version));
  return std::nullopt;
}

/// Applies the events of `stream_id` after `out.version`, within `bounds`, to `out` (a
/// state at that version: the initial one, a snapshot's, or one a caller kept). Errors:
/// stream_deleted, io_error, corrupt (events after out.version were truncated, or the
/// stream ends below it) / unknown_event_type (an event that cannot be decoded, or
/// evolve threw).
template <class A>
result<loaded_state<A>> load_tail(event_store& store, const event_registry& registry,
                                  const std::string& stream_id, const load_bounds& bounds,
                                  std::size_t recent_limit, loaded_state<A> out) {
  using traits = aggregate_traits<A>;
  // Read in chunks so that no read transaction stays open long (map growth waits for
  // readers to finish). The head comes with the first chunk, checked before any event
  // is applied.
  constexpr uint64_t chunk = 8192;
  std::optional<error> failure;
  bool past_bounds = false;
  bool checked = false;
  stream_info head;
  for (;;) {
    stream_range range{out.version + 1, bounds.max_version, chunk};
    auto n = store.read_stream_and_head(stream_id, range, head, [&](const event_view& e) {
      if (!checked) {
        checked = true;
        if ((failure = unloadable(stream_id, head, out, bounds)))
          return false;
      }
      if (e.timestamp > bounds.max_timestamp) {
        past_bounds = true;
        return false;
      }
      auto ev = traits::decode(registry, e.type, e.schema_version, e.payload, e.corrupt);
      if (!ev) {
        failure = make_error(ev.error().code, stream_id + " v" + std::to_string(e.version) + ": "
                                                + ev.error().message);
        return false;
      }
      // A stored event evolve cannot take: the stream cannot be loaded (not a retry matter).
      if (auto ok = call_user_code("evolve", [&] { traits::apply(out.state, *ev); }); !ok) {
        failure = make_error(errc::corrupt, stream_id + " v" + std::to_string(e.version) + ": "
                                              + ok.error().message);
        return false;
      }
      out.version = e.version;
      out.last_position = e.position;
      out.last_shard_position = e.shard_position;
      if (!e.command_id.empty())
        out.recent.emplace_back(std::string{e.command_id}, e.version, e.position);
      return true;
    });
    if (!n)
      return std::move(n).error();
    if (!checked) {
      checked = true;
      failure = unloadable(stream_id, head, out, bounds);
    }
    if (failure)
      return *failure;
    if (*n < chunk || past_bounds)
      break;
  }
  if (out.recent.size() > recent_limit)
    out.recent.erase(out.recent.begin(),
                     out.recent.end() - static_cast<std::ptrdiff_t>(recent_limit));
  if (out.last_position == 0 && out.version > 0) {
    // The state came from the snapshot alone: find the place of its last event (the
    // head record has no shard position).
    auto last = store.read_stream(stream_id, stream_range{out.version, out.version, 1});
    if (last && !last->empty()) {
      out.last_position = last->front().position;
      out.last_shard_position = last->front().shard_position;
    } else if (head.head == out.version) {
      out.last_position = head.last_position;
    }
  }
  return out;
}

/// Rebuilds the state of `stream_id` within `bounds`: the newest usable snapshot (unless
/// `use_snapshot` is false) and the events after it. Errors: as load_tail.
template <class A>
result<loaded_state<A>> load_aggregate(event_store& store, const event_registry& registry,
                                       const std::string& stream_id, const load_bounds& bounds,
                                       std::size_t recent_limit, bool use_snapshot = true) {
  std::optional<loaded_state<A>> from_snapshot;
  if (use_snapshot)
    from_snapshot = load_snapshot_of<A>(store, stream_id, bounds);
  loaded_state<A> start = from_snapshot
                            ? std::move(*from_snapshot)
                            : loaded_state<A>{aggregate_traits<A>::initial_state(), 0, 0, 0, {}, 0};
  return load_tail<A>(store, registry, stream_id, bounds, recent_limit, std::move(start));
}

} // namespace annal::detail
