# Cross-compile the examples for x86-64 Macs (Intel) with Zig (see zig-macos.cmake).
#
# Used by the macos-x86_64 preset. Built and checked here, run only on a Mac.
set(WORKSPACE_MACOS_CPU x86_64)
include(${CMAKE_CURRENT_LIST_DIR}/zig-macos.cmake)
