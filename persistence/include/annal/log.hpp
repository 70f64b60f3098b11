// Minimal logging hook. Annal logs rare, noteworthy things only (a snapshot ignored, an
// instance stopped by a throwing evolve, a projection faulted). By default lines go to
// stderr; a host service routes them into its own logger with set_log_sink.
#pragma once

#include <functional>
#include <string_view>

namespace annal {

enum class log_level : uint8_t { debug, info, warning, error };

/// Returns "debug", "info", "warning" or "error".
const char* to_string(log_level level) noexcept;

/// Receives every log line at or above the threshold. Must be thread-safe.
using log_sink = std::function<void(log_level, std::string_view)>;

/// Replaces the sink (nullptr restores the stderr default). Not thread-safe against
/// concurrent logging: call it before starting the runtime.
void set_log_sink(log_sink sink);

/// Lines below `level` are dropped (default: info).
void set_log_threshold(log_level level) noexcept;

/// Emits one line.
void log(log_level level, std::string_view message);

} // namespace annal
