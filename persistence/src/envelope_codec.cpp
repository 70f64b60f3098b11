#include "envelope_codec.hpp"

#include <xxhash.h>

#include "byte_order.hpp"

namespace annal::detail {

namespace {

uint64_t checksum(global_position position, const char* bytes, std::size_t size) noexcept {
  return XXH3_64bits_withSeed(bytes + 8, size - 8, position);
}

char* put(char* out, std::string_view s) noexcept {
  if (!s.empty())
    std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

} // namespace

std::size_t envelope_size(std::string_view stream_id, const new_event& e) noexcept {
  const auto& m = e.metadata;
  return envelope_header_size + stream_id.size() + e.type.size() + m.command_id.size()
         + m.correlation_id.size() + m.causation_id.size() + e.payload.size();
}

void encode_envelope(char* out, global_position position, std::string_view stream_id,
                     stream_version version, timestamp_ns ts, const new_event& e) noexcept {
  const auto& m = e.metadata;
  out[8] = static_cast<char>(envelope_format);
  out[9] = 0;
  store_le<uint16_t>(out + 10, static_cast<uint16_t>(stream_id.size()));
  store_le<uint16_t>(out + 12, static_cast<uint16_t>(e.type.size()));
  store_le<uint16_t>(out + 14, static_cast<uint16_t>(m.command_id.size()));
  store_le<uint16_t>(out + 16, static_cast<uint16_t>(m.correlation_id.size()));
  store_le<uint16_t>(out + 18, static_cast<uint16_t>(m.causation_id.size()));
  store_le<uint32_t>(out + 20, e.schema_version);
  store_le<uint32_t>(out + 24, static_cast<uint32_t>(e.payload.size()));
  store_le<uint64_t>(out + 28, version);
  store_le<int64_t>(out + 36, ts);
  char* p = out + envelope_header_size;
  p = put(p, stream_id);
  p = put(p, e.type);
  p = put(p, m.command_id);
  p = put(p, m.correlation_id);
  p = put(p, m.causation_id);
  p = put(p, e.payload);
  store_le<uint64_t>(out, checksum(position, out, static_cast<std::size_t>(p - out)));
}

bool decode_envelope(global_position position, std::string_view bytes, event_view& out) noexcept {
  out = event_view{};
  out.position = position;
  const char* b = bytes.data();
  if (bytes.size() < envelope_header_size || static_cast<uint8_t>(b[8]) != envelope_format) {
    out.corrupt = true;
    return false;
  }
  std::size_t lens[6] = {load_le<uint16_t>(b + 10), load_le<uint16_t>(b + 12),
                         load_le<uint16_t>(b + 14), load_le<uint16_t>(b + 16),
                         load_le<uint16_t>(b + 18), load_le<uint32_t>(b + 24)};
  std::size_t total = envelope_header_size;
  for (auto n : lens)
    total += n;
  if (total != bytes.size()) {
    out.corrupt = true;
    return false;
  }
  out.schema_version = load_le<uint32_t>(b + 20);
  out.version = load_le<uint64_t>(b + 28);
  out.timestamp = load_le<int64_t>(b + 36);
  std::string_view* fields[6] = {&out.stream_id,    &out.type,         &out.command_id,
                                 &out.correlation_id, &out.causation_id, &out.payload};
  const char* p = b + envelope_header_size;
  for (int i = 0; i < 6; ++i) {
    *fields[i] = std::string_view{p, lens[i]};
    p += lens[i];
  }
  out.corrupt = load_le<uint64_t>(b) != checksum(position, b, bytes.size());
  return true;
}

} // namespace annal::detail
