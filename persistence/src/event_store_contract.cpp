// The defaults of the store contract for operations only some stores have.
#include "annal/event_store.hpp"

namespace annal {

status event_store::backup(const std::filesystem::path& dest) {
  return make_error(errc::bad_request, "this store cannot back up to " + dest.string()
                                         + ": only the LMDB store keeps a file");
}

status event_store::fence_shard(uint16_t shard, bool) {
  return make_error(errc::bad_request, "this store cannot fence shard " + std::to_string(shard));
}

bool event_store::shard_fenced(uint16_t) const {
  return false;
}

result<import_outcome> event_store::import_shard(const shard_import& chunk) {
  return make_error(errc::bad_request, "this store cannot import shard " + std::to_string(chunk.shard));
}

status event_store::hand_over_shard(uint16_t shard, std::string_view, uint64_t) {
  return make_error(errc::bad_request, "this store cannot hand over shard " + std::to_string(shard));
}

status event_store::take_over_shard(uint16_t shard, uint64_t) {
  return make_error(errc::bad_request, "this store cannot take over shard " + std::to_string(shard));
}

result<std::vector<shard_owner_record>> event_store::shard_owners() {
  return std::vector<shard_owner_record>{};
}

result<uint64_t> event_store::read_stream_and_head(std::string_view stream_id, stream_range range,
                                                   stream_info& head, const event_visitor& visit) {
  auto h = stream_head(stream_id);
  if (!h)
    return std::move(h).error();
  head = std::move(*h);
  return read_stream(stream_id, range, visit);
}

result<std::vector<stream_info>> event_store::list_trimmed_streams(uint16_t shard_count, uint16_t shard,
                                                                  std::string_view after, uint64_t limit) {
  if (shard_count == 0 || shard >= shard_count)
    return make_error(errc::bad_request, "shard " + std::to_string(shard) + " is out of range");
  std::vector<stream_info> out;
  std::string last{after};
  constexpr uint64_t page_size = 1000;
  while (out.size() < limit) {
    auto page = list_streams("", last, page_size);
    if (!page)
      return std::move(page).error();
    for (auto& s : *page) {
      last = s.stream_id;
      if (out.size() < limit && (s.deleted || s.truncated_through > 0)
          && shard_of_stream(s.stream_id, shard_count) == shard)
        out.push_back(std::move(s));
    }
    if (page->size() < page_size)
      break;
  }
  return out;
}

status event_store::import_stream_record(const stream_info& source) {
  return make_error(errc::bad_request, "this store cannot import the record of " + source.stream_id);
}

} // namespace annal
