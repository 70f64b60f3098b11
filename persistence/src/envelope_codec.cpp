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

namespace {

struct fields {
  std::string_view stream_id, type, command_id, correlation_id, causation_id, payload;
  uint32_t schema_version;
  stream_version version;
  timestamp_ns timestamp;
  uint8_t flags = 0;
};

void encode(char* out, global_position position, const fields& f, shard_place shard) noexcept {
  out[8] = static_cast<char>(envelope_format);
  out[9] = static_cast<char>(f.flags);
  store_le<uint16_t>(out + 10, static_cast<uint16_t>(f.stream_id.size()));
  store_le<uint16_t>(out + 12, static_cast<uint16_t>(f.type.size()));
  store_le<uint16_t>(out + 14, static_cast<uint16_t>(f.command_id.size()));
  store_le<uint16_t>(out + 16, static_cast<uint16_t>(f.correlation_id.size()));
  store_le<uint16_t>(out + 18, static_cast<uint16_t>(f.causation_id.size()));
  store_le<uint32_t>(out + 20, f.schema_version);
  store_le<uint32_t>(out + 24, static_cast<uint32_t>(f.payload.size()));
  store_le<uint64_t>(out + 28, f.version);
  store_le<int64_t>(out + 36, f.timestamp);
  store_le<uint16_t>(out + 44, shard.shard);
  store_le<uint64_t>(out + 46, shard.position);
  char* p = out + envelope_header_size;
  p = put(p, f.stream_id);
  p = put(p, f.type);
  p = put(p, f.command_id);
  p = put(p, f.correlation_id);
  p = put(p, f.causation_id);
  p = put(p, f.payload);
  store_le<uint64_t>(out, checksum(position, out, static_cast<std::size_t>(p - out)));
}

} // namespace

void encode_envelope(char* out, global_position position, std::string_view stream_id,
                     stream_version version, timestamp_ns ts, const new_event& e,
                     shard_place shard) noexcept {
  const auto& m = e.metadata;
  encode(out, position,
         fields{stream_id, e.type, m.command_id, m.correlation_id, m.causation_id, e.payload,
                e.schema_version, version, ts, 0},
         shard);
}

std::size_t envelope_size(const event_view& v) noexcept {
  return envelope_header_size + v.stream_id.size() + v.type.size() + v.command_id.size()
         + v.correlation_id.size() + v.causation_id.size() + v.payload.size();
}

void encode_envelope(char* out, const event_view& v, shard_place shard) noexcept {
  encode(out, v.position,
         fields{v.stream_id, v.type, v.command_id, v.correlation_id, v.causation_id, v.payload,
                v.schema_version, v.version, v.timestamp,
                v.imported ? envelope_flag_imported : uint8_t{0}},
         shard);
}

bool peek_envelope(std::string_view bytes, std::string_view& stream_id,
                   stream_version& version) noexcept {
  const char* b = bytes.data();
  if (bytes.size() < envelope_v1_header_size)
    return false;
  auto format = static_cast<uint8_t>(b[8]);
  std::size_t header = format == envelope_format      ? envelope_header_size
                       : format == envelope_format_v1 ? envelope_v1_header_size
                                                      : 0;
  std::size_t len = load_le<uint16_t>(b + 10);
  if (header == 0 || bytes.size() < header + len)
    return false;
  stream_id = std::string_view{b + header, len};
  version = load_le<uint64_t>(b + 28);
  return true;
}

bool peek_shard(std::string_view bytes, shard_place& out) noexcept {
  const char* b = bytes.data();
  if (bytes.size() < envelope_header_size || static_cast<uint8_t>(b[8]) != envelope_format)
    return false;
  out.shard = load_le<uint16_t>(b + 44);
  out.position = load_le<uint64_t>(b + 46);
  return true;
}

bool decode_envelope(global_position position, std::string_view bytes, event_view& out) noexcept {
  out = event_view{};
  out.position = position;
  const char* b = bytes.data();
  auto format = bytes.size() < envelope_v1_header_size ? 0 : static_cast<uint8_t>(b[8]);
  std::size_t header = format == envelope_format      ? envelope_header_size
                       : format == envelope_format_v1 ? envelope_v1_header_size
                                                      : 0;
  if (header == 0 || bytes.size() < header) {
    out.corrupt = true;
    return false;
  }
  std::size_t lens[6] = {load_le<uint16_t>(b + 10), load_le<uint16_t>(b + 12),
                         load_le<uint16_t>(b + 14), load_le<uint16_t>(b + 16),
                         load_le<uint16_t>(b + 18), load_le<uint32_t>(b + 24)};
  std::size_t total = header;
  for (auto n : lens)
    total += n;
  if (total != bytes.size()) {
    out.corrupt = true;
    return false;
  }
  out.schema_version = load_le<uint32_t>(b + 20);
  out.version = load_le<uint64_t>(b + 28);
  out.timestamp = load_le<int64_t>(b + 36);
  out.imported = (static_cast<uint8_t>(b[9]) & envelope_flag_imported) != 0;
  if (header == envelope_header_size) {
    out.shard = load_le<uint16_t>(b + 44);
    out.shard_position = load_le<uint64_t>(b + 46);
  }
  std::string_view* parts[6] = {&out.stream_id,    &out.type,         &out.command_id,
                                 &out.correlation_id, &out.causation_id, &out.payload};
  const char* p = b + header;
  for (int i = 0; i < 6; ++i) {
    *parts[i] = std::string_view{p, lens[i]};
    p += lens[i];
  }
  out.corrupt = load_le<uint64_t>(b) != checksum(position, b, bytes.size());
  return true;
}

} // namespace annal::detail
