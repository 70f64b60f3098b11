#include "annal/shard_read.hpp"

#include "annal/event_store.hpp"

namespace annal {

result<shard_read> read_shard(event_store& store, uint16_t shard, uint64_t after, global_position from,
                              uint64_t max_events, uint64_t max_scan) {
  if (max_events == 0 || max_scan == 0)
    return make_error(errc::bad_request, "read_shard: max_events and max_scan must be positive");
  uint64_t kept = 0;
  global_position last_kept = 0;
  auto chunk = store.read_chunk(from, max_scan, [&](const event_view& e) {
    if (kept == max_events || e.shard != shard || e.shard_position <= after)
      return false;
    ++kept;
    last_kept = e.position;
    return true;
  });
  if (!chunk)
    return std::move(chunk).error();
  shard_read out;
  if (kept == max_events) {
    // Events after the last one kept were read but not kept: the next read starts there.
    out.resume_after = last_kept;
    out.more = true;
  } else {
    out.resume_after = chunk->read() > 0 ? chunk->last_position() : from;
    out.more = chunk->read() == max_scan;
  }
  out.events = std::move(*chunk);
  return out;
}

} // namespace annal
