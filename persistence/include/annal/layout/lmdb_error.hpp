// LMDB return codes as annal errors, for tools that call LMDB on an environment the store
// opened (event_store::native_handle, read_model_store::native_handle).
#pragma once

#include "annal/error.hpp"

namespace annal::layout {

/// Maps an LMDB or errno return code `rc` (non-zero) to an error naming operation `what`.
error lmdb_error(int rc, const char* what);

} // namespace annal::layout
