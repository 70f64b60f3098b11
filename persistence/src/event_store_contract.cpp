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

status event_store::import_stream_record(const stream_info& source) {
  return make_error(errc::bad_request, "this store cannot import the record of " + source.stream_id);
}

} // namespace annal
