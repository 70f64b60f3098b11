// Internal: the message types exchanged between aggregates, the journal writer, the
// loader pool and the event bus. They are local-only for now (whitelisted as unsafe
// message types); a cluster transport will give them inspect() overloads.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "annal/append.hpp"
#include "annal/event_filter.hpp"
#include "annal/command_options.hpp"
#include "annal/recorded_event.hpp"
#include "annal/result.hpp"
#include "annal/shard_import.hpp"

namespace annal::detail {

/// One aggregate's append, with a token the aggregate uses to match the outcome and an
/// optional snapshot that the writer saves (later, at lower priority) only if the append
/// commits, so a snapshot never describes events that did not make it to disk.
struct append_request {
  stream_append append;
  uint64_t token = 0;
  std::optional<snapshot_record> snapshot;
};

/// The outcome of one append_request.
struct append_outcome {
  uint64_t token = 0;
  result<append_result> outcome = make_error(errc::io_error, "not committed");
};
using append_outcomes = std::vector<append_outcome>;

/// Events of one group commit, in global order, shared by every subscriber.
using committed_events = std::shared_ptr<const std::vector<recorded_event>>;
/// The group commits a paced subscriber gets in one delivery, oldest first (one message,
/// so that it applies them together: sent one by one, a subscriber on its own thread could
/// take each before the next one arrived).
using committed_batches = std::vector<committed_events>;

/// A chunk of a shard copied from another node, for the journal writer to import (so that
/// its events reach the bus in order with the commits); `done` runs on the writer's thread.
struct import_job {
  shard_import chunk;
  std::function<void(result<import_outcome>)> done;
};

/// Work for the loader pool.
struct loader_job {
  std::function<void()> run;
};

/// The outcome of a failed rehydration.
struct load_failure {
  error reason;
};

} // namespace annal::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::append_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::append_outcomes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::committed_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::committed_batches)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::loader_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::import_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::detail::load_failure)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(annal::event_filter)
