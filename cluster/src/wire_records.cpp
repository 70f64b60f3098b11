// The old and the new owner's sides of a moving shard's stream records (wire.hpp): what a
// shard's events cannot carry — streams deleted (their events are gone) and truncated.
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/vector.hpp>

#include "annal/event_store.hpp"
#include "annal/serialization.hpp"
#include "wire.hpp"

namespace annal::cluster::detail {

namespace {

// Stream id, deleted, head, truncated through.
using wire_record = std::tuple<std::string, bool, uint64_t, uint64_t>;

// Records one answer carries at most: bounds the owner's work per request; the reader asks
// again from where it stopped.
constexpr uint64_t records_per_answer = 1000;

wire_records_reply records_error(const error& e) {
  return {static_cast<uint8_t>(e.code), e.message, std::string{}, std::string{}, false};
}

} // namespace

wire_records_reply read_records_local(event_store& store, uint16_t shard_count, uint16_t shard,
                                      const std::string& after) {
  auto page = store.list_trimmed_streams(shard_count, shard, after, records_per_answer);
  if (!page)
    return records_error(page.error());
  std::vector<wire_record> kept;
  for (const auto& s : *page)
    kept.emplace_back(s.stream_id, s.deleted, s.head, s.truncated_through);
  bool at_end = page->size() < records_per_answer;
  std::string last = page->empty() ? after : page->back().stream_id;
  auto bytes = to_bytes(kept);
  if (!bytes)
    return records_error(bytes.error());
  return {0, std::string{}, std::move(*bytes), std::move(last), at_end};
}

result<records_page> records_from_wire(const wire_records_reply& w) {
  if (auto code = std::get<0>(w); code != 0)
    return code_error(code, std::get<1>(w));
  auto records = from_bytes<std::vector<wire_record>>(std::get<2>(w));
  if (!records)
    return make_error(errc::corrupt, "the owner's stream records do not decode: " + records.error().message);
  records_page out;
  for (auto& [id, deleted, head, truncated] : *records) {
    stream_info s;
    s.stream_id = std::move(id);
    s.deleted = deleted;
    s.head = head;
    s.truncated_through = truncated;
    out.records.push_back(std::move(s));
  }
  out.next_after = std::get<3>(w);
  out.at_end = std::get<4>(w);
  return out;
}

} // namespace annal::cluster::detail
