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

} // namespace annal
