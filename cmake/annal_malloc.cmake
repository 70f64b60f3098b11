# The allocator of Annal's own programs (shop-node, shop-inproc-bench, the benchmarks).
#   annal_link_malloc(target)
# Every command crosses several threads (caller, router, instance, journal writer, bus),
# so most of its small allocations are freed by a thread other than the one that made
# them; glibc's malloc spends much of a command's CPU on that (arena locks,
# malloc_consolidate). tcmalloc's per-thread caches do not: W1 --no-sync went from 22 to
# 15 µs of CPU per command (docs/architecture.md, "Allocator"). The libraries never link
# it (choosing the host process's malloc is the embedder's call); ANNAL_MALLOC=system
# keeps glibc's. Sanitizer builds always keep the sanitizer's own.
set(ANNAL_MALLOC "tcmalloc" CACHE STRING "malloc of Annal's programs: tcmalloc or system")
set_property(CACHE ANNAL_MALLOC PROPERTY STRINGS tcmalloc system)

set(annal_malloc_target "")
set(annal_malloc_name "glibc") # what annal::malloc_in_use() reports in a linked program
if(ANNAL_MALLOC STREQUAL "tcmalloc" AND NOT ANNAL_SANITIZE)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(TCMALLOC IMPORTED_TARGET libtcmalloc_minimal)
  if(TCMALLOC_FOUND)
    set(annal_malloc_target PkgConfig::TCMALLOC)
    set(annal_malloc_name "tcmalloc")
  else()
    message(WARNING "ANNAL_MALLOC=tcmalloc but libtcmalloc_minimal was not found "
                    "(Debian: libgoogle-perftools-dev): the programs keep glibc's malloc")
  endif()
elseif(NOT ANNAL_MALLOC STREQUAL "system" AND NOT ANNAL_SANITIZE)
  message(FATAL_ERROR "ANNAL_MALLOC must be tcmalloc or system, not '${ANNAL_MALLOC}'")
endif()

function(annal_link_malloc target)
  if(annal_malloc_target)
    target_link_libraries(${target} PRIVATE ${annal_malloc_target})
  endif()
endfunction()
