include(CMakePackageConfigHelpers)
set(PROPNET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/propnet)
install(TARGETS propnet EXPORT propnetTargets)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/propnet TYPE INCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/include/propnet/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/propnet)
install(EXPORT propnetTargets NAMESPACE propnet:: DESTINATION ${PROPNET_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/propnetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/propnetConfig.cmake INSTALL_DESTINATION ${PROPNET_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/propnetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)            # 0.x: minor bumps may break
install(FILES ${PROJECT_BINARY_DIR}/propnetConfig.cmake ${PROJECT_BINARY_DIR}/propnetConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/propnetTorchFixups.cmake
  DESTINATION ${PROPNET_CMAKE_DIR})
