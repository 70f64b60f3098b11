// annal_link_malloc (cmake/annal_malloc.cmake) gives Annal's programs tcmalloc; this binary
// is linked the same way, so it fails if the linker dropped the library (e.g. under
// --as-needed) or the option stopped taking effect, and the figures of the benchmarks and
// of shop-node would silently be glibc's again.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "annal/malloc_in_use.hpp"

TEST_CASE("a program linked by annal_link_malloc runs on the configured malloc", "[runtime][malloc]") {
  CHECK(std::string{annal::malloc_in_use()} == ANNAL_EXPECTED_MALLOC);
  // Freed on another path than it was made on would crash a mixed-up allocator pair.
  void* p = std::malloc(100);
  REQUIRE(p != nullptr);
  p = std::realloc(p, 100000);
  REQUIRE(p != nullptr);
  std::free(p);
}
