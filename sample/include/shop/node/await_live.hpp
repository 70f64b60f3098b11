// Startup: the node serves once its projections and process managers have caught up with
// the journal and follow it live, so that its first answers are not stale and few
// commands land while subscribers switch from catch-up to live (see docs of the runtime).
#pragma once

#include <chrono>

namespace annal {
class runtime;
}

namespace shop::node {

/// Waits until every projection of `rt` is live (faulted and stopped ones excluded), up
/// to `timeout`; logs the stragglers every few seconds. Returns false on timeout.
bool await_live(annal::runtime& rt, std::chrono::milliseconds timeout);

} // namespace shop::node
