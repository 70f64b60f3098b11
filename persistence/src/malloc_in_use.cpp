#include "annal/malloc_in_use.hpp"

#include <dlfcn.h>

namespace annal {

std::string_view malloc_in_use() noexcept {
  // Each allocator exports a function of its own beside malloc; whichever is loaded
  // first provides malloc itself (linked before libc, or preloaded).
  if (::dlsym(RTLD_DEFAULT, "tc_version") != nullptr)
    return "tcmalloc";
  if (::dlsym(RTLD_DEFAULT, "mallctl") != nullptr)
    return "jemalloc";
  return "glibc";
}

} // namespace annal
