// The size of an LMDB store seen from outside, without opening it (the node may be
// writing): the data file's size and the map size recorded in its newer meta page.
#pragma once

#include <cstdint>
#include <filesystem>

namespace annal::soak {

struct store_size {
  double file_mib = 0; ///< data.mdb's size
  double map_mib = 0;  ///< the map size in the newest committed meta page (0: unreadable)
};

/// Probes `dir`/data.mdb (zeros when it does not exist yet).
store_size probe_store(const std::filesystem::path& dir);

} // namespace annal::soak
