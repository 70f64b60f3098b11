# Fails when the source SOURCE (a user's translation unit with annal/runtime.hpp alone)
# includes any CAF header, or does not compile on its own.
#   cmake -DCXX=<compiler> -DINCLUDES=<dir;dir> -DSOURCE=<file> -P check_header_includes_no_caf.cmake
set(flags -std=c++17)
foreach(dir ${INCLUDES})
  list(APPEND flags -I${dir})
endforeach()
execute_process(COMMAND ${CXX} ${flags} -M ${SOURCE}
                OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot list the includes of ${SOURCE}:\n${err}")
endif()
string(REGEX MATCHALL "[^ \n\\\\]*/caf/[^ \n\\\\]*" caf_headers "${deps}")
if(caf_headers)
  list(LENGTH caf_headers n)
  list(GET caf_headers 0 first)
  message(FATAL_ERROR "${SOURCE} includes ${n} CAF headers, first ${first}: "
                      "annal/runtime.hpp must not need CAF")
endif()
execute_process(COMMAND ${CXX} ${flags} -fsyntax-only ${SOURCE}
                ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} does not compile with annal/runtime.hpp alone:\n${err}")
endif()
message(STATUS "${SOURCE}: no CAF header, compiles on its own")
