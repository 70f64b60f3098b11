# Compile settings shared by every target of the project (never by consumers).
#   annal_target_defaults(target [CAF_FREE])
# CAF_FREE: the target includes no CAF header, so the sanitizer build keeps every check.
# With ANNAL_UNITY_BUILD (./dev test and ./dev sanitize, i.e. CI) a target's sources compile
# in batches: CAF, Annal's templates and Catch2 are parsed and instantiated once per batch
# instead of once per file (a clean build at -O2: 13.8 CPU-minutes instead of 19.0). A
# target whose files cannot share a translation unit sets UNITY_BUILD OFF after this call.
function(annal_target_defaults target)
  cmake_parse_arguments(arg "CAF_FREE" "" "" ${ARGN})
  if(ANNAL_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual)
  if(ANNAL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ANNAL_SANITIZE AND ANNAL_TEST_CODE)
    # The tests' own code (tests/ sets ANNAL_TEST_CODE): AddressSanitizer only. UBSan's
    # instrumentation of their CAF and Catch2 templates is most of the sanitizer build's
    # compile time (one batch of read-side tests: 15.5 s plain, 20 s with ASan, 31 s with
    # both) and checks no product code: the libraries, the node and the CLI, which the
    # tests run, keep both.
    target_compile_options(${target} PRIVATE -fsanitize=address -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  elseif(ANNAL_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                           -fno-omit-frame-pointer -fno-sanitize-recover=all)
    if(NOT arg_CAF_FREE)
      # UBSan's null check fires inside CAF's init_fun_factory (a header, so in our
      # objects) on every spawn of a function actor without arguments: a benign
      # reference to *nullptr in CAF. Targets without CAF keep the check.
      target_compile_options(${target} PRIVATE -fno-sanitize=null)
    endif()
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
