// Writing JSON text by hand: the CLI emits JSON lines and embeds payloads that the event
// registry already rendered as JSON, so a small writer is all it needs.
#pragma once

#include <string>
#include <string_view>

namespace annal::cli {

/// Appends `s` to `out` as a JSON string literal, quotes included. Stream ids, types and
/// metadata are bytes, not necessarily UTF-8: an invalid byte becomes U+FFFD, so the
/// line always parses.
void append_json_string(std::string& out, std::string_view s);

/// `s` as a JSON string literal.
std::string json_string(std::string_view s);

/// Base64 (RFC 4648, with padding) of `bytes`, for payloads that cannot be rendered.
std::string base64(std::string_view bytes);

} // namespace annal::cli
