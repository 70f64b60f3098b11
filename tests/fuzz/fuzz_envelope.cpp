// Fuzzes the decoders of stored records: the event envelope, the snapshot record and the
// stream head record. They read bytes from the memory map, so damaged bytes must yield
// "malformed" or "corrupt", never a read outside the record. And a record they accept as
// intact must be exactly what the encoder writes for the fields they report: otherwise
// some bytes would be read differently from how they were written.
//
// Input: bytes [0, 8) are the key (an event's position, a snapshot's version; little-
// endian, zero-padded when short), the rest is the stored value.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "snapshot_codec.hpp"
#include "stream_record.hpp"

namespace {

using namespace annal;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_envelope: %s\n", what);
  std::abort();
}

// Reads every byte of `s`, so that a view reaching past the input trips ASan.
volatile unsigned char sink;
void touch(std::string_view s) {
  unsigned char x = 0;
  for (char c : s)
    x = static_cast<unsigned char>(x ^ static_cast<unsigned char>(c));
  sink = x;
}

// The flags byte (offset 9 in both records) is not interpreted by the decoders, so a
// record with other flags but a matching checksum may decode; everything else must match
// the canonical encoding byte for byte.
bool same_but_flags(std::string_view canonical, std::string_view input) {
  return canonical.size() == input.size() && canonical.size() >= 10
         && canonical[8] == input[8] && canonical.substr(10) == input.substr(10)
         && (input[9] != 0 || canonical.substr(0, 8) == input.substr(0, 8));
}

void fuzz_envelope(global_position position, std::string_view bytes) {
  event_view v;
  v.payload = "stale"; // decode must reset the view, not leave fields of a former call
  const bool parsed = detail::decode_envelope(position, bytes, v);
  if (v.position != position)
    fail("the view does not carry the position it was read at");
  if (!parsed) {
    if (!v.corrupt)
      fail("a malformed envelope is not flagged corrupt");
    return;
  }
  for (auto s : {v.stream_id, v.type, v.command_id, v.correlation_id, v.causation_id, v.payload})
    touch(s);
  if (v.corrupt)
    return;
  new_event e;
  e.type.assign(v.type);
  e.schema_version = v.schema_version;
  e.payload.assign(v.payload);
  e.metadata.command_id.assign(v.command_id);
  e.metadata.correlation_id.assign(v.correlation_id);
  e.metadata.causation_id.assign(v.causation_id);
  if (static_cast<uint8_t>(bytes[8]) != detail::envelope_format)
    return; // a format-1 record (journal format 2) is read, never written again as such
  std::string again(detail::envelope_size(v.stream_id, e), '\0');
  detail::encode_envelope(again.data(), position, v.stream_id, v.version, v.timestamp, e,
                          detail::shard_place{v.shard, v.shard_position});
  if (!same_but_flags(again, bytes))
    fail("an envelope decoded as intact differs from the encoding of its fields");
}

void fuzz_snapshot(stream_version version, std::string_view bytes) {
  snapshot_record s;
  (void)detail::snapshot_timestamp(bytes);
  if (!detail::decode_snapshot("fuzz-stream", version, bytes, s))
    return;
  if (s.stream_id != "fuzz-stream" || s.version != version)
    fail("a snapshot does not carry its key");
  if (!same_but_flags(detail::encode_snapshot(s), bytes))
    fail("a snapshot decoded as intact differs from the encoding of its fields");
}

void fuzz_stream_record(std::string_view bytes) {
  stream_info s;
  if (!detail::decode_stream_record(bytes, s))
    return;
  char again[detail::stream_record_size];
  detail::encode_stream_record(again, s);
  // Bytes 2..7 are reserved and only bit 0 of the flags has a meaning.
  if (std::memcmp(again + 8, bytes.data() + 8, detail::stream_record_size - 8) != 0
      || again[0] != bytes[0] || (again[1] & 1) != (bytes[1] & 1))
    fail("a stream record decoded differs from the encoding of its fields");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  char key[8] = {};
  if (size != 0)
    std::memcpy(key, data, size < 8 ? size : 8);
  const auto k = detail::load_le<uint64_t>(key);
  // The value bytes in a heap block of exactly their size, so that ASan sees a read past
  // their end (a short std::string would sit in its inline buffer, where it cannot).
  const std::size_t n = size < 8 ? 0 : size - 8;
  std::unique_ptr<char[]> value{new char[n]};
  if (n != 0)
    std::memcpy(value.get(), data + 8, n);
  const std::string_view bytes{value.get(), n};
  fuzz_envelope(k, bytes);
  fuzz_snapshot(k, bytes);
  fuzz_stream_record(bytes);
  return 0;
}
