# Included right after find_package(Torch), by propnet's build and by propnetConfig.cmake.
#
# LibTorch from PyPI's torch wheel finds its CUDA libraries (NCCL, cuDNN, cuBLAS, the CUDA runtime)
# in the nvidia/* wheels beside it, through its RPATH. A system CUDA toolkit on the linker's and the
# loader's path (torch's CMake config adds /usr/local/cuda/lib) may hold older copies, e.g. an NCCL
# without symbols torch needs. Put the wheels' folders first, for linking and at run time.
if(TARGET torch AND DEFINED TORCH_INSTALL_PREFIX)
  file(GLOB _propnet_wheel_libs LIST_DIRECTORIES true "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
  foreach(_propnet_dir IN LISTS _propnet_wheel_libs)
    get_filename_component(_propnet_dir "${_propnet_dir}" REALPATH)
    set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_OPTIONS
                 "LINKER:-rpath-link,${_propnet_dir}" "LINKER:-rpath,${_propnet_dir}")
  endforeach()
  unset(_propnet_wheel_libs)
  unset(_propnet_dir)
endif()
