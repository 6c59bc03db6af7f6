# Probes of what the machine running the tests can do, made at configure time: a small
# program is built and run (under the cross-compiling emulator, if any), and what it does
# decides, not how the build was started. An ARM64 build run on x86-64 through QEMU's user
# mode, as the linux-aarch64 preset's emulator or as if native under binfmt (a container or
# a root of another architecture), lacks a few things real ARM64 hardware has; the probes
# find out, so each test is skipped, with the reason, exactly where it cannot run.
#
#   workspace_probe(<out> NAME <name> SOURCE <file> [ARGS <arg>...] [OUTPUT <variable>]
#                   [COMPILE_OPTIONS <option>...] [LINK_OPTIONS <option>...])
# builds SOURCE and runs it with ARGS. Sets <out> to "" if it exited with 0, else to a
# one-line reason: its first line of output, or how it ended; OUTPUT gets all it printed.
# Where its programs cannot be run (a cross build with no emulator), sets <out> to ""
# (assumed possible).
#
#   workspace_leak_checks_where_possible()
# (asan and fuzz builds) checks that LeakSanitizer runs here; where it does not, the tests
# run with LSAN_OPTIONS=detect_leaks=0, and the configure step says so.
#
#   workspace_find_liburing(<example>)
# liburing (Debian's liburing-dev), through pkg-config, for ch03-io-uring and ch03-poll's
# io_uring backend: sets LIBURING_FOUND and the target PkgConfig::LIBURING, or says why
# <example> is skipped. Native Linux builds only: a liburing found through the host's
# pkg-config would be the host's, not the target's, and QEMU's user mode has no io_uring.
#
#   workspace_without_io_uring_test(NAME <test> ERROR <EPERM|ENOSYS> PROGRAM <target>
#                                   CHECK <expect-output option>...)
# runs PROGRAM under tools/without-io-uring, whose seccomp filter answers io_uring_setup
# with ERROR (EPERM: forbidden, as by the sysctl or Docker's default profile; ENOSYS:
# unknown, as on an old kernel), and checks it with tools/expect-output and CHECK. Skipped
# where no seccomp filter can be installed (QEMU's user mode refuses prctl(PR_SET_SECCOMP)
# with EINVAL): the probe is the tool itself, run on `true`.

function(workspace_probe out)
  cmake_parse_arguments(PARSE_ARGV 1 probe "" "NAME;SOURCE;OUTPUT" "ARGS;COMPILE_OPTIONS;LINK_OPTIONS")
  set(${out} "" PARENT_SCOPE)
  if(CMAKE_CROSSCOMPILING AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
    return()
  endif()
  # NO_CACHE: made again at every configure, as the machine may have changed since (a build
  # folder moved into a container, a newer QEMU).
  try_run(probe_ran probe_built ${CMAKE_BINARY_DIR}/CMakeFiles/probes/${probe_NAME}
          SOURCES ${probe_SOURCE} NO_CACHE
          COMPILE_DEFINITIONS ${probe_COMPILE_OPTIONS}
          LINK_OPTIONS ${probe_LINK_OPTIONS}
          CXX_STANDARD 20
          COMPILE_OUTPUT_VARIABLE compile_output
          RUN_OUTPUT_VARIABLE run_output
          ARGS ${probe_ARGS})
  string(STRIP "${run_output}" run_output)
  if(probe_OUTPUT)
    set(${probe_OUTPUT} "${run_output}" PARENT_SCOPE)
  endif()
  if(NOT probe_built)
    string(REGEX MATCH "[^\n]*error[^\n]*" first_error "${compile_output}")
    set(${out} "the probe ${probe_NAME} did not build: ${first_error}" PARENT_SCOPE)
  elseif(NOT probe_ran STREQUAL "0")
    string(REGEX REPLACE "\n.*" "" first_line "${run_output}")
    if(first_line STREQUAL "")
      set(first_line "it ended with ${probe_ran}")
    endif()
    set(${out} "${first_line}" PARENT_SCOPE)
  endif()
endfunction()

function(workspace_leak_checks_where_possible)
  if(NOT WORKSPACE_SANITIZER MATCHES "address" AND NOT WORKSPACE_FUZZ)
    return()  # LeakSanitizer comes with AddressSanitizer (and the fuzz build's libFuzzer).
  endif()
  workspace_probe(why_not NAME leak-sanitizer
                  SOURCE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/probes/leak-sanitizer.cpp
                  COMPILE_OPTIONS -fsanitize=address LINK_OPTIONS -fsanitize=address
                  OUTPUT output)
  if(why_not STREQUAL "")
    return()
  endif()
  # Its own words for why, where it gives them ("...does not work under ptrace...").
  string(REGEX MATCH "LeakSanitizer does not work[^\n]*" own_words "${output}")
  if(own_words)
    set(why_not "${own_words}")
  endif()
  # ctest reads this file before it runs the tests (TEST_INCLUDE_FILES), and the tests
  # inherit its environment: detect_leaks=0 is appended to LSAN_OPTIONS, which
  # AddressSanitizer reads after ASAN_OPTIONS, so it holds also where a test sets
  # ASAN_OPTIONS itself (ch01's handle_segv=0: the checker running it is built with
  # AddressSanitizer too). AddressSanitizer's other checks, and UndefinedBehaviorSanitizer's,
  # still run.
  message(STATUS "LeakSanitizer cannot run on this machine (${why_not}): the tests run "
                 "with LSAN_OPTIONS detect_leaks=0, set by cmake/MachineProbes.cmake")
  set(script ${CMAKE_BINARY_DIR}/CMakeFiles/no-leak-checks.cmake)
  file(WRITE ${script}
       "# Written by cmake/MachineProbes.cmake: LeakSanitizer cannot run on this machine\n"
       "# (${why_not}).\n"
       "set(ENV{LSAN_OPTIONS} \"\$ENV{LSAN_OPTIONS}:detect_leaks=0\")\n")
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()

macro(workspace_find_liburing example)
  if(CMAKE_CROSSCOMPILING)
    workspace_skip_example(${example} "liburing is looked for in native Linux builds only: "
      "Debian has no ${WORKSPACE_CPU} liburing to link without multiarch, and QEMU user mode "
      "answers io_uring_setup with ENOSYS")
  else()
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(LIBURING QUIET IMPORTED_TARGET liburing)
    endif()
    if(NOT LIBURING_FOUND)
      workspace_skip_example(${example} "liburing not found through pkg-config (Debian/Ubuntu: "
        "apt-get install liburing-dev pkg-config, or run ./run-tests, which does)")
    endif()
  endif()
endmacro()

function(workspace_without_io_uring_test)
  cmake_parse_arguments(PARSE_ARGV 0 test "" "NAME;ERROR;PROGRAM" "CHECK")
  if(NOT WORKSPACE_EXPECT_OUTPUT OR NOT TARGET without-io-uring)
    return()
  endif()
  get_property(probed GLOBAL PROPERTY WORKSPACE_NO_SECCOMP_FILTER SET)
  if(NOT probed)  # once per configure
    workspace_probe(why_not NAME seccomp-filter ARGS --error ENOSYS -- true
                    SOURCE ${PROJECT_SOURCE_DIR}/tools/without-io-uring.cpp)
    set_property(GLOBAL PROPERTY WORKSPACE_NO_SECCOMP_FILTER "${why_not}")
  endif()
  get_property(why_not GLOBAL PROPERTY WORKSPACE_NO_SECCOMP_FILTER)
  if(why_not)
    workspace_skip(${test_NAME} "no seccomp filter can be installed on this machine: ${why_not}")
    return()
  endif()
  add_test(NAME ${test_NAME}
           COMMAND ${WORKSPACE_EXPECT_OUTPUT} ${test_CHECK} --timeout 60
                   -- $<TARGET_FILE:without-io-uring> --error ${test_ERROR}
                   -- $<TARGET_FILE:${test_PROGRAM}>)
  set_tests_properties(${test_NAME} PROPERTIES TIMEOUT 60 LABELS examples)
endfunction()
