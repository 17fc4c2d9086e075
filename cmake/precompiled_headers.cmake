# Precompiled headers: a build detail of propnet's own targets, never exported or installed.
#
# LibTorch's headers cost 1-12 s of parsing in every file that includes them (torch/nn/modules/conv.h ~12 s,
# torch/types.h ~8 s on a 2-core EPYC), far more than most of propnet's files cost themselves, so each family of
# propnet's targets parse them once: the library builds the PCH, and the CLI and the tests reuse it. Only
# LibTorch's, the standard library's and nlohmann_json's headers go in: the library's dependencies, which every
# target has; propnet's own change too often. A PCH hides a missing include, so
# tests/CMakeLists.txt compiles every public header on its own without one (propnet_header_check), and
# `-DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON` builds everything without them (docs/development.md).
#
# GCC uses a PCH only in a compile whose flags match its own (-fPIC vs -fPIE, -fopenmp, macros that the headers
# test); otherwise it parses everything again without a word. CMake passes -Winvalid-pch; propnet makes it an
# error, so a flag that splits a target from its PCH fails the build instead of silently slowing it. Sources with
# flags of their own (OpenMP kernels, c10d backends) are marked SKIP_PRECOMPILE_HEADERS where they are listed.

# The LibTorch headers propnet's files include (directly or through propnet's public headers), plus the
# standard headers nearly all of them use.
set(PROPNET_PCH_HEADERS
  <algorithm> <cstdint> <filesystem> <fstream> <functional> <map> <memory> <optional> <sstream> <string>
  <string_view> <utility> <vector>
  <c10/core/Device.h> <c10/util/Exception.h> <ATen/core/Tensor.h>
  <torch/types.h> <torch/utils.h> <torch/arg.h>
  <torch/nn/module.h> <torch/nn/cloneable.h> <torch/nn/pimpl.h>
  <torch/nn/modules/conv.h> <torch/nn/modules/batchnorm.h> <torch/nn/modules/linear.h>
  <torch/nn/modules/container/any.h> <torch/nn/modules/container/sequential.h>
  <torch/nn/functional/loss.h> <torch/serialize/archive.h>
  <nlohmann/json.hpp>)

# ccache caches compiles that use a PCH only with these sloppiness settings (its manual, "Precompiled headers"):
# it cannot see the macros and time macros inside the PCH, and the PCH is always newer than the compile start.
if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "(^|/)ccache$" AND NOT CMAKE_DISABLE_PRECOMPILE_HEADERS)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

# propnet_precompile_headers(TARGET)                   TARGET builds a PCH of PROPNET_PCH_HEADERS
# propnet_precompile_headers(TARGET REUSE_FROM DONOR)  TARGET uses DONOR's
function(propnet_precompile_headers target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "REUSE_FROM" "")
  if(arg_REUSE_FROM)
    target_precompile_headers(${target} REUSE_FROM ${arg_REUSE_FROM})
    get_target_property(donor_pic ${arg_REUSE_FROM} POSITION_INDEPENDENT_CODE)
    get_target_property(type ${target} TYPE)
    if(donor_pic AND type STREQUAL "EXECUTABLE")
      # GCC refuses a PCH built with -fPIC in a -fPIE compile (Debian's default for executables): an executable
      # that shares the library's PCH compiles as PIC too, which costs nothing measurable outside LibTorch.
      target_compile_options(${target} PRIVATE -fPIC)
    endif()
  else()
    target_precompile_headers(${target} PRIVATE ${PROPNET_PCH_HEADERS})
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_DISABLE_PRECOMPILE_HEADERS)
    target_compile_options(${target} PRIVATE -Werror=invalid-pch)
  endif()
endfunction()
