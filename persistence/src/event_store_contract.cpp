// The defaults of the store contract for operations only some stores have.
#include "annal/event_store.hpp"

namespace annal {

status event_store::backup(const std::filesystem::path& dest) {
  return make_error(errc::bad_request, "this store cannot back up to " + dest.string()
                                         + ": only the LMDB store keeps a file");
}

} // namespace annal
