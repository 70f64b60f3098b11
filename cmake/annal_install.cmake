# Installs the libraries, their public headers, the find modules they need and an
# exported target set, so that consumers can write find_package(annal).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS annal_persistence annal_actors annal_runtime annal_testing
        EXPORT annal-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The operator commands as a library (annal::cli) and the `annal` binary, when they are
# built (ANNAL_BUILD_TOOLS).
if(TARGET annal_cli)
  install(TARGETS annal_cli
          EXPORT annal-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
if(TARGET annal)
  install(TARGETS annal RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
foreach(dir persistence actors runtime testing)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()

set(annal_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/annal)
install(EXPORT annal-targets NAMESPACE annal:: DESTINATION ${annal_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/annal-config.cmake.in
  ${PROJECT_BINARY_DIR}/annal-config.cmake INSTALL_DESTINATION ${annal_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/annal-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/annal-config.cmake
              ${PROJECT_BINARY_DIR}/annal-config-version.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindLMDB.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindxxHash.cmake
        DESTINATION ${annal_cmake_dir})
