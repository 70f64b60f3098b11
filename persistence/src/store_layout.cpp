// The public face of the journal's on-disk layout (annal/layout/*.hpp) for tools that read
// its tables directly: thin calls into the codecs the store itself uses, so that the two
// can never disagree.
#include "annal/layout/byte_order.hpp"
#include "annal/layout/event_envelope.hpp"
#include "annal/layout/index_run.hpp"
#include "annal/layout/journal_format.hpp"
#include "annal/layout/lmdb_error.hpp"
#include "annal/layout/shard.hpp"
#include "annal/layout/snapshot_value.hpp"
#include "annal/layout/stream_key.hpp"
#include "annal/layout/stream_record.hpp"

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "event_store_impl.hpp"
#include "lmdb_env.hpp"
#include "shard.hpp"
#include "snapshot_codec.hpp"
#include "stream_index_codec.hpp"
#include "stream_record.hpp"

namespace annal::layout {

static_assert(envelope_format == detail::envelope_format);

void store_be64(char* out, uint64_t x) noexcept {
  detail::store_be64(out, x);
}

uint64_t load_be64(const char* in) noexcept {
  return detail::load_be64(in);
}

void store_be16(char* out, uint16_t x) noexcept {
  detail::store_be16(out, x);
}

std::string stream_key(std::string_view stream_id, stream_version version) {
  return detail::stream_key(stream_id, version);
}

bool parse_stream_key(std::string_view key, std::string_view stream_id,
                      stream_version& version) noexcept {
  return detail::parse_stream_key(key, stream_id, version);
}

void encode_index_value(char* out, global_position first_position, uint64_t count) noexcept {
  detail::encode_index_value(out, first_position, count);
}

bool parse_index_entry(std::string_view key, std::string_view value, std::string_view stream_id,
                       index_run& out) noexcept {
  return detail::parse_index_entry(key, value, stream_id, out);
}

bool peek_envelope(std::string_view bytes, std::string_view& stream_id,
                   stream_version& version) noexcept {
  return detail::peek_envelope(bytes, stream_id, version);
}

bool decode_envelope(global_position position, std::string_view bytes, event_view& out) noexcept {
  return detail::decode_envelope(position, bytes, out);
}

bool decode_stream_record(std::string_view bytes, stream_info& s) noexcept {
  return detail::decode_stream_record(bytes, s);
}

bool decode_snapshot(std::string_view stream_id, stream_version version, std::string_view bytes,
                     snapshot_record& out) {
  return detail::decode_snapshot(stream_id, version, bytes, out);
}

uint16_t shard_of(std::string_view stream_id, uint16_t shard_count) noexcept {
  return detail::shard_of(stream_id, shard_count);
}

uint32_t journal_format_version() noexcept {
  return annal::journal_format_version;
}

error lmdb_error(int rc, const char* what) {
  return detail::lmdb_error(rc, what);
}

} // namespace annal::layout
