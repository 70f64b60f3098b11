// Which malloc the process runs on, for benchmark and startup lines: figures measured on
// glibc's malloc and on tcmalloc differ by a third of the CPU per command (docs/architecture.md,
// "Allocator"), so a figure without it cannot be compared.
#pragma once

#include <string_view>

namespace annal {

/// "tcmalloc", "jemalloc" or "glibc": found by the symbols the process resolves (linked
/// or LD_PRELOADed), not by how Annal was configured.
std::string_view malloc_in_use() noexcept;

} // namespace annal
