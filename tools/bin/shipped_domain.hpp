// The domain the shipped `annal` binary knows, chosen when it is linked: the sample shop
// (shop_domain.cpp) or none (empty_domain.cpp, a build without the sample).
#pragma once

#include "annal/cli/domain.hpp"

namespace annal::cli {

/// The domain of this build of `annal`.
domain shipped_domain();

} // namespace annal::cli
