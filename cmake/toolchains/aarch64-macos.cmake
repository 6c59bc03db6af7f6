# Cross-compile the examples for arm64 Macs (Apple silicon) with Zig (see zig-macos.cmake).
#
# Used by the macos-arm64 preset. Built and checked here, run only on a Mac.
set(WORKSPACE_MACOS_CPU aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/zig-macos.cmake)
