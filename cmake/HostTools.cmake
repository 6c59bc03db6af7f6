# The tools the tests run on the build machine, also when the examples are cross-compiled:
# tools/expect-output (the checker), tools/with-delayserver (the launcher) and delayserver/.

# Standalone Asio (header only) for the delay server. Sets ASIO_INCLUDE_DIR, or leaves it
# NOTFOUND. The host's headers are searched even when the examples are cross-compiled.
function(workspace_find_asio)
  find_path(ASIO_INCLUDE_DIR asio.hpp NO_CMAKE_FIND_ROOT_PATH
            DOC "Directory holding standalone Asio's asio.hpp")
endfunction()

# CLI11 (header only; Debian's libcli11-dev) for the command lines of the tools, the delay
# server and bench: the INTERFACE target workspace-command-line, with the workspace's
# convention on top of it (tools/command-line/command_line.hpp). Its headers are linked
# into a folder of their own, as Asio's are below: the host's whole include folder would
# put Linux's headers before a cross build's own. Found on the host, also when cross-compiling.
function(workspace_add_command_line)
  if(TARGET workspace-command-line)
    return()
  endif()
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp NO_CMAKE_FIND_ROOT_PATH
            DOC "Directory holding CLI11's CLI/CLI.hpp")
  if(NOT CLI11_INCLUDE_DIR)
    message(FATAL_ERROR "CLI11 not found; install it (Debian/Ubuntu: apt-get install "
                        "libcli11-dev; macOS: brew install cli11), or run ./run-tests, which does")
  endif()
  set(cli11_only ${CMAKE_BINARY_DIR}/cli11-include)
  file(MAKE_DIRECTORY ${cli11_only})
  file(CREATE_LINK ${CLI11_INCLUDE_DIR}/CLI ${cli11_only}/CLI SYMBOLIC)
  add_library(workspace-command-line INTERFACE)
  target_include_directories(workspace-command-line SYSTEM INTERFACE ${cli11_only})
  target_include_directories(workspace-command-line INTERFACE
                             ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../tools/command-line)
endfunction()

# For the folders of the tools, the delay server and bench: in an optimised build of the
# tests, compile at -O1 without debug information. CLI11 and Asio are most of their compile
# time, which -O2 -g more than doubles, and the tests neither measure them nor debug them
# (the default build compiles bench only so that an edit that breaks it breaks the build).
# bench's own build (WORKSPACE_BENCH, bench/run) keeps the build type's flags: it measures.
macro(workspace_compile_workshop_quickly)
  if(NOT WORKSPACE_BENCH AND NOT MSVC)
    add_compile_options($<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-O1>
                        $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-g0>)
  endif()
endmacro()

# The nested native build of the host tools (cmake/host-tools) for a cross build, in
# <build>/host-tools: all of them, or only the targets named.
function(workspace_build_host_tools)
  set(build_command "")
  if(ARGN)
    set(build_command BUILD_COMMAND ${CMAKE_COMMAND} --build . --target ${ARGN})
  endif()
  include(ExternalProject)
  ExternalProject_Add(host-tools
    SOURCE_DIR ${PROJECT_SOURCE_DIR}/cmake/host-tools
    BINARY_DIR ${CMAKE_BINARY_DIR}/host-tools
    CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DWORKSPACE_WERROR=${WORKSPACE_WERROR}
               -DASIO_INCLUDE_DIR=${ASIO_INCLUDE_DIR}
    ${build_command}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    USES_TERMINAL_BUILD ON)
endfunction()

# The host tools: tools/expect-output (runs a program and checks what it printed and how
# it ended), tools/with-delayserver (starts a delay server on a free port for one program)
# and delayserver/. They run on the build machine: in a native build they are ordinary
# targets; in a cross build (Windows under Wine, ARM64 under QEMU) they are built for the
# host by a nested native build, so the tests still run them natively.
#
# Sets WORKSPACE_EXPECT_OUTPUT, WORKSPACE_WITH_DELAYSERVER and WORKSPACE_DELAYSERVER (paths
# or generator expressions), WORKSPACE_HAVE_DELAYSERVER, and WORKSPACE_RUNS_PROGRAMS (OFF
# where the tests cannot run the programs built: then WORKSPACE_README_CHECKER is the
# checker, built for this machine).
option(WORKSPACE_TOOLS "In a macOS build: also the tools, the delay server and the README checks (macos-x86_64 turns it off: macos-arm64 builds them)" ON)
macro(workspace_add_host_tools)
  workspace_find_asio()
  workspace_add_command_line()
  set(WORKSPACE_RUNS_PROGRAMS ON)
  set(WORKSPACE_README_CHECKER "")
  if(ASIO_INCLUDE_DIR)
    set(WORKSPACE_HAVE_DELAYSERVER ON)
  else()
    set(WORKSPACE_HAVE_DELAYSERVER OFF)
    workspace_skip_example(delayserver "standalone Asio not found; install it (Debian/Ubuntu: "
                   "apt-get install libasio-dev; macOS: brew install asio), or run ./run-tests, "
                   "which does")
  endif()
  if(CMAKE_HOST_WIN32)
    # The test tools are POSIX programs: on a Windows machine the examples are built and
    # run by hand, and the tests run on Linux (the windows-mingw preset, under Wine).
    message(STATUS "Skipping the example tests: their tools need a Linux or macOS build "
                   "machine; run the examples by hand (see README.md)")
    set(WORKSPACE_EXPECT_OUTPUT "")
    if(WORKSPACE_HAVE_DELAYSERVER)
      add_subdirectory(delayserver)
    endif()
  elseif(NOT CMAKE_CROSSCOMPILING)
    set(WORKSPACE_EXPECT_OUTPUT $<TARGET_FILE:expect-output>)
    set(WORKSPACE_WITH_DELAYSERVER $<TARGET_FILE:with-delayserver>)
    set(WORKSPACE_DELAYSERVER $<TARGET_FILE:delayserver>)
    add_subdirectory(tools)
    if(WORKSPACE_HAVE_DELAYSERVER)
      add_subdirectory(delayserver)
    endif()
  elseif(NOT CMAKE_CROSSCOMPILING_EMULATOR)
    # A build for a machine whose programs this one cannot run (macOS, built with Zig):
    # the tools and the delay server are built for it like every program, and no test runs
    # a program. Only the checker is also built for this machine, by a nested native build,
    # to check each expected-output file against its README block (workspace_example_test).
    # With WORKSPACE_TOOLS OFF (the macos-x86_64 preset), none of that: only the examples,
    # which are what differs between the two Macs; macos-arm64 builds the rest.
    set(WORKSPACE_RUNS_PROGRAMS OFF)
    set(WORKSPACE_EXPECT_OUTPUT "")
    set(WORKSPACE_WITH_DELAYSERVER "")
    set(WORKSPACE_DELAYSERVER "")
    if(WORKSPACE_TOOLS)
      add_subdirectory(tools)
      if(WORKSPACE_HAVE_DELAYSERVER)
        # Asio's own files, in a folder of their own: the host's whole include folder would
        # put Linux's headers before the target's.
        set(asio_only ${CMAKE_BINARY_DIR}/asio-include)
        file(MAKE_DIRECTORY ${asio_only})
        file(CREATE_LINK ${ASIO_INCLUDE_DIR}/asio.hpp ${asio_only}/asio.hpp SYMBOLIC)
        file(CREATE_LINK ${ASIO_INCLUDE_DIR}/asio ${asio_only}/asio SYMBOLIC)
        set(ASIO_INCLUDE_DIR ${asio_only})
        add_subdirectory(delayserver)
      endif()
      workspace_build_host_tools(expect-output)
      set(WORKSPACE_README_CHECKER ${CMAKE_BINARY_DIR}/host-tools/tools/expect-output)
    elseif(WORKSPACE_HAVE_DELAYSERVER)
      set(WORKSPACE_HAVE_DELAYSERVER OFF)
      workspace_skip_example(delayserver "WORKSPACE_TOOLS is OFF: this build has the examples "
                             "only (the tools, the delay server and the README checks are "
                             "the macos-arm64 build's)")
    endif()
  else()
    workspace_build_host_tools()
    set(host_dir ${CMAKE_BINARY_DIR}/host-tools)
    set(WORKSPACE_EXPECT_OUTPUT ${host_dir}/tools/expect-output)
    set(WORKSPACE_WITH_DELAYSERVER ${host_dir}/tools/with-delayserver)
    set(WORKSPACE_DELAYSERVER ${host_dir}/delayserver/delayserver)
  endif()
endmacro()
