// The on-disk format of the journal (meta `format_version`, u32 LE) this build writes.
#pragma once

#include <cstdint>

namespace annal::layout {

/// The format this build writes; it reads this one and the one before (an upgrade path).
uint32_t journal_format_version() noexcept;

} // namespace annal::layout
