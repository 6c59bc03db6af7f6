# The few CMake helpers every example shares: which platform we build for, the warning
# flags, the host tools the tests run on the build machine, and how an example's test is
# declared. Nothing here is needed to read an example: its own CMakeLists.txt says which
# platform it needs and what its test expects.

# Warnings on everywhere; errors where WORKSPACE_WERROR is on, and always when the CI
# environment variable is set (as in .ci/run): also in a build folder that ./run-example
# configured before, whose cache says OFF.
function(workspace_set_warnings)
  option(WORKSPACE_WERROR "Treat compiler warnings as errors (always, when CI is set)" OFF)
  if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" STREQUAL "false")
    set(WORKSPACE_WERROR ON)
    set(WORKSPACE_WERROR ON PARENT_SCOPE)  # for the host tools' build (below)
  endif()
  # WORKSPACE_SANITIZER (set by the asan and tsan presets): build everything, the examples
  # and the host tools alike, with these sanitizers. Any report fails the test it happens
  # in: UBSan stops at the first report (-fno-sanitize-recover), ASan always does, and
  # TSan makes the process exit with code 66.
  set(WORKSPACE_SANITIZER "" CACHE STRING "Sanitizers to build with (address,undefined or thread)")
  if(WORKSPACE_SANITIZER)
    add_compile_options(-fsanitize=${WORKSPACE_SANITIZER} -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${WORKSPACE_SANITIZER})
  endif()
  if(MSVC)
    add_compile_options(/W4 /permissive- /utf-8)
    if(WORKSPACE_WERROR)
      add_compile_options(/WX)
    endif()
  else()
    add_compile_options(-Wall -Wextra -Wpedantic)
    if(WORKSPACE_WERROR)
      add_compile_options(-Werror)
    endif()
  endif()
endfunction()

# Sets WORKSPACE_OS (linux, macos, windows, freebsd, ...) and WORKSPACE_CPU (x86_64,
# aarch64, or what CMake reports) for the platform the examples are built for.
macro(workspace_detect_target)
  if(WIN32)
    set(WORKSPACE_OS windows)
  elseif(APPLE)
    set(WORKSPACE_OS macos)
  else()
    string(TOLOWER "${CMAKE_SYSTEM_NAME}" WORKSPACE_OS)
  endif()
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" WORKSPACE_CPU)
  if(WORKSPACE_CPU MATCHES "^(x86_64|amd64|x64)$")
    set(WORKSPACE_CPU x86_64)
  elseif(WORKSPACE_CPU MATCHES "^(aarch64|arm64)$")
    set(WORKSPACE_CPU aarch64)
  endif()
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " emulator)
    set(WORKSPACE_EMULATOR_NOTE ", tests run under ${emulator}")
  else()
    set(WORKSPACE_EMULATOR_NOTE "")
  endif()
endmacro()

# Wine needs a prefix (its C: drive and registry) before it runs anything. Making one takes
# seconds, so the wine-prefix fixture makes it once, before the first test that needs it,
# instead of letting parallel tests race to create it. Its setup then starts one wineserver
# (the process every Wine program of the prefix talks to) that stays until the cleanup
# stops it, instead of one started and ended around every program (Debian's wineserver
# ends as soon as its last program does): the Windows tests take a third of the time.
# The tests with the handle audit run alone (CHECK_HANDLES, below): Wine 8's wineserver
# crashed when the audit listed the system's handles while other Wine programs started.
function(workspace_add_emulator_setup)
  if(CMAKE_CROSSCOMPILING_EMULATOR MATCHES "wine")
    set(environment ${CMAKE_CROSSCOMPILING_EMULATOR})  # env WINEPREFIX=... ... wine
    list(POP_BACK environment)
    # After the prefix is made and its first server gone: the lasting server, and Wine's
    # own background programs (services.exe, explorer.exe, ...), which stay as long as it
    # does. Started here, with no output of their own: started by a test, they would hold
    # that test's output open, and ctest would wait for them.
    # A lasting server left by an interrupted run would make `wineserver --wait` wait for
    # ever: it is stopped first.
    add_test(NAME wine-prefix
             COMMAND ${environment} sh -c
                     "{ wineserver --kill || true; } 2>/dev/null && \
                      wine wineboot --init && wineserver --wait && \
                      { wineserver --persistent && wine wineboot; } </dev/null >/dev/null 2>&1")
    # "|| true": a server that is already gone needs no stopping.
    add_test(NAME wine-server-stop COMMAND ${environment} sh -c "wineserver --kill || true")
    set_tests_properties(wine-prefix PROPERTIES FIXTURES_SETUP wine-prefix TIMEOUT 180)
    set_tests_properties(wine-server-stop PROPERTIES FIXTURES_CLEANUP wine-prefix)
  endif()
endfunction()

# Something this build cannot have (a test, a check, a tool) says so at configure time, in
# one line. The reason may come in several strings, joined as they are (ARGV<n> keeps any
# ";"). An example folder that skips itself uses workspace_skip_example (below) instead.
function(workspace_skip name)
  set(reason "")
  math(EXPR last "${ARGC} - 1")
  foreach(index RANGE 1 ${last})
    string(APPEND reason "${ARGV${index}}")
  endforeach()
  message(STATUS "Skipping ${name}: ${reason}")
endfunction()

# The list of examples. The add_subdirectory lines of the top-level CMakeLists.txt are the
# only list: each example folder says whether this build has it, with
# workspace_add_run_target (built here) or workspace_skip_example (not here, and why), and
# the configure step writes what they said to <build>/examples.tsv, for ./run-example.
#
#   workspace_skip_example(<example> <reason>... [RUN_WITH_PRESET <preset>])
# says why the example is not built for this platform, in one line at configure time.
# RUN_WITH_PRESET names the preset that builds it instead on a Linux x86-64 machine, where
# ./run-example then uses it (ch03-iocp: windows-mingw, run under Wine).
function(workspace_skip_example example)
  cmake_parse_arguments(PARSE_ARGV 1 skip "" "RUN_WITH_PRESET" "")
  list(JOIN skip_UNPARSED_ARGUMENTS "" reason)
  workspace_skip(${example} "${reason}")
  set(preset "")
  if(skip_RUN_WITH_PRESET AND CMAKE_HOST_SYSTEM_NAME STREQUAL "Linux"
     AND CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
    set(preset ${skip_RUN_WITH_PRESET})
  endif()
  set_property(GLOBAL APPEND_STRING PROPERTY WORKSPACE_EXAMPLE_LINES
               "example\t${example}\tskipped\t${reason}\t${preset}\n")
endfunction()

# Writes <build>/examples.tsv, one tab-separated line per example of the top-level list:
#   example  NAME  built    PROGRAM  NEEDS     (NEEDS: delayserver, or -)
#   example  NAME  skipped  REASON   PRESET    (PRESET: where it is built instead, or empty)
# and how to run them: the emulator (Wine, QEMU, or none) and the delay server's launcher.
function(workspace_write_example_list)
  get_property(examples GLOBAL PROPERTY WORKSPACE_EXAMPLE_LINES)
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " emulator)
  set(launcher "")
  set(server_targets "")
  if(WORKSPACE_HAVE_DELAYSERVER)
    set(launcher "${WORKSPACE_WITH_DELAYSERVER}\t${WORKSPACE_DELAYSERVER}")
    if(CMAKE_CROSSCOMPILING)
      set(server_targets host-tools)
    else()
      set(server_targets "delayserver with-delayserver")
    endif()
  endif()
  string(CONCAT content
         "# The examples of this build, written by the configure step (cmake/Workspace.cmake).\n"
         "emulator\t${emulator}\n"
         "delayserver\t${launcher}\n"
         "delayserver-targets\t${server_targets}\n"
         "${examples}")
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/examples.tsv CONTENT "${content}")
endfunction()

# Standalone Asio (header only) for the delay server. Sets ASIO_INCLUDE_DIR, or leaves it
# NOTFOUND. The host's headers are searched even when the examples are cross-compiled.
function(workspace_find_asio)
  find_path(ASIO_INCLUDE_DIR asio.hpp NO_CMAKE_FIND_ROOT_PATH
            DOC "Directory holding standalone Asio's asio.hpp")
endfunction()

# The host tools: tools/expect-output (runs a program and checks what it printed and how
# it ended), tools/with-delayserver (starts a delay server on a free port for one program)
# and delayserver/. They run on the build machine: in a native build they are ordinary
# targets; in a cross build (Windows under Wine, ARM64 under QEMU) they are built for the
# host by a nested native build, so the tests still run them natively.
#
# Sets WORKSPACE_EXPECT_OUTPUT, WORKSPACE_WITH_DELAYSERVER and WORKSPACE_DELAYSERVER (paths
# or generator expressions), and WORKSPACE_HAVE_DELAYSERVER.
macro(workspace_add_host_tools)
  workspace_find_asio()
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
  else()
    include(ExternalProject)
    set(host_dir ${CMAKE_BINARY_DIR}/host-tools)
    ExternalProject_Add(host-tools
      SOURCE_DIR ${PROJECT_SOURCE_DIR}/cmake/host-tools
      BINARY_DIR ${host_dir}
      CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DWORKSPACE_WERROR=${WORKSPACE_WERROR}
                 -DASIO_INCLUDE_DIR=${ASIO_INCLUDE_DIR}
      INSTALL_COMMAND ""
      BUILD_ALWAYS ON
      USES_TERMINAL_BUILD ON)
    set(WORKSPACE_EXPECT_OUTPUT ${host_dir}/tools/expect-output)
    set(WORKSPACE_WITH_DELAYSERVER ${host_dir}/tools/with-delayserver)
    set(WORKSPACE_DELAYSERVER ${host_dir}/delayserver/delayserver)
  endif()
endmacro()

# valgrind --track-fds=yes lists every descriptor still open at exit: those the program
# inherited ("<inherited from parent>") and those it opened itself, each followed by the
# stack ("at 0x...") of the call that opened it. The checks: valgrind's report is there,
# and no entry has such a stack. Sets <out> to the valgrind command line, or to "" (with
# a configure message) where valgrind cannot be used. Its own test, with a descriptor left
# open on purpose: tools/leak-checks/.
set(WORKSPACE_VALGRIND_FD_REPORT --stderr "FILE DESCRIPTORS: [0-9]+ open")
set(WORKSPACE_VALGRIND_FD_CHECKS ${WORKSPACE_VALGRIND_FD_REPORT}
    --stderr-absent "Open [^\n]*\n==[0-9]+==    at ")
function(workspace_valgrind_fd_check out)
  cmake_parse_arguments(PARSE_ARGV 1 check "" "NAME" "")
  set(${out} "" PARENT_SCOPE)
  if(CMAKE_CROSSCOMPILING OR WORKSPACE_SANITIZER)
    return()  # valgrind runs native programs only, and not with a sanitizer's runtime.
  endif()
  find_program(VALGRIND valgrind)
  if(NOT VALGRIND)
    workspace_skip(${check_NAME} "valgrind not found (apt-get install valgrind)")
    return()
  endif()
  set(${out} ${VALGRIND} -q --track-fds=yes --error-exitcode=99 PARENT_SCOPE)
endfunction()

# Windows has no valgrind: tools/leak-checks/handle-audit.cpp does its part there. Linked
# into a copy of an example, <target>-handle-audit, it lists on stderr the handles opened
# after main started and still open after main returned. Sets <out> to that copy's name.
function(workspace_handle_audit_copy out target)
  set(copy ${target}-handle-audit)
  if(NOT TARGET ${copy})
    get_target_property(sources ${target} SOURCES)
    get_target_property(libraries ${target} LINK_LIBRARIES)
    add_executable(${copy} ${sources})
    target_link_libraries(${copy} PRIVATE handle-audit)
    if(libraries)
      target_link_libraries(${copy} PRIVATE ${libraries})
    endif()
  endif()
  set(${out} ${copy} PARENT_SCOPE)
endfunction()
set(WORKSPACE_HANDLE_AUDIT_REPORT --stderr "handle-audit: [0-9]+ handles open before main")
set(WORKSPACE_HANDLE_AUDIT_CHECKS ${WORKSPACE_HANDLE_AUDIT_REPORT}
    --stderr-absent "handle-audit: left open")

# Declares one test of an example: runs it (under the cross-compiling emulator, if any)
# through tools/expect-output, which compares its standard output line by line with
# EXPECTED and checks how the process ended.
#
#   workspace_example_test(NAME <test> TARGET <target> EXPECTED <file>
#       [README <README.md> BLOCK <name>]   also check the README's output block <name>
#       [EXIT <code> | SIGNAL <name>]       how it must end (default: exit code 0)
#       [STDERR <regex>]                    stderr must contain a match (repeatable)
#       [WITH_DELAYSERVER]                  run it with a delay server on a free port;
#                                           "{address}" in ARGS becomes host:port
#       [SERVER_ARGS <arg>...]              options for that delay server, such as
#                                           --fault=reset (one argument each)
#       [CHECK_FDS]                         run it under valgrind --track-fds=yes: no
#                                           descriptor it opened may be open at exit
#       [CHECK_HANDLES]                     the same on Windows: run its handle-audit copy
#       [LEAKS_ON_PURPOSE]                  with either: the check's own test, where the
#                                           leak must be reported (say how with STDERR)
#       [SERIAL]                            run alone: the order it checks comes from
#                                           sleeps, which a loaded machine can stretch
#       [TIMEOUT <seconds>] [ARGS <arg>...]
#       [ENVIRONMENT <NAME=value>...])          set for the test
function(workspace_example_test)
  cmake_parse_arguments(PARSE_ARGV 0 test "WITH_DELAYSERVER;CHECK_FDS;CHECK_HANDLES;LEAKS_ON_PURPOSE;SERIAL"
                        "NAME;TARGET;EXPECTED;README;BLOCK;EXIT;SIGNAL;TIMEOUT"
                        "STDERR;ARGS;ENVIRONMENT;SERVER_ARGS")
  if(NOT WORKSPACE_EXPECT_OUTPUT)
    return()  # No test tools on this build machine (see workspace_add_host_tools).
  endif()
  if(NOT test_TIMEOUT)
    set(test_TIMEOUT 60)
  endif()
  # What expect-output checks...
  set(checks --expected ${CMAKE_CURRENT_SOURCE_DIR}/${test_EXPECTED} --timeout ${test_TIMEOUT})
  if(test_README)
    list(APPEND checks --readme ${CMAKE_CURRENT_SOURCE_DIR}/${test_README} --block ${test_BLOCK})
  endif()
  if(test_SIGNAL)
    list(APPEND checks --signal ${test_SIGNAL})
  elseif(DEFINED test_EXIT)
    list(APPEND checks --exit ${test_EXIT})
  endif()
  foreach(pattern IN LISTS test_STDERR)
    list(APPEND checks --stderr ${pattern})
  endforeach()
  # ...and what runs the example: a delay server launcher, valgrind, the emulator.
  set(runners "")
  if(test_WITH_DELAYSERVER)
    if(NOT WORKSPACE_HAVE_DELAYSERVER)
      workspace_skip(${test_NAME} "needs the delay server, which needs standalone Asio")
      return()
    endif()
    list(APPEND runners ${WORKSPACE_WITH_DELAYSERVER} --server ${WORKSPACE_DELAYSERVER})
    foreach(argument IN LISTS test_SERVER_ARGS)
      list(APPEND runners --server-arg ${argument})
    endforeach()
    list(APPEND runners --)
  endif()
  if(test_CHECK_FDS)
    workspace_valgrind_fd_check(valgrind NAME ${test_NAME})
    if(NOT valgrind)
      return()
    endif()
    if(test_LEAKS_ON_PURPOSE)
      list(APPEND checks ${WORKSPACE_VALGRIND_FD_REPORT})
    else()
      list(APPEND checks ${WORKSPACE_VALGRIND_FD_CHECKS})
    endif()
    list(APPEND runners ${valgrind})
  endif()
  if(test_CHECK_HANDLES)
    if(NOT WIN32)
      message(FATAL_ERROR "${test_NAME}: CHECK_HANDLES is for Windows programs (CHECK_FDS elsewhere)")
    endif()
    workspace_handle_audit_copy(test_TARGET ${test_TARGET})
    # Alone: the audit lists every process's handles (NtQuerySystemInformation), and Wine 8's
    # wineserver crashed ("wineserver crashed, please enable coredumps") when that ran while
    # other Wine programs started or ended, failing the tests that shared it. Reproduced
    # here with two audit loops side by side; one audit loop alone never crashed it.
    set(test_SERIAL TRUE)
    if(test_LEAKS_ON_PURPOSE)
      list(APPEND checks ${WORKSPACE_HANDLE_AUDIT_REPORT})
    else()
      list(APPEND checks ${WORKSPACE_HANDLE_AUDIT_CHECKS})
    endif()
  endif()
  add_test(NAME ${test_NAME}
           COMMAND ${WORKSPACE_EXPECT_OUTPUT} ${checks} -- ${runners}
                   ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:${test_TARGET}> ${test_ARGS})
  set_tests_properties(${test_NAME} PROPERTIES TIMEOUT ${test_TIMEOUT} LABELS examples)
  if(test_SERIAL)
    set_tests_properties(${test_NAME} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(test_ENVIRONMENT)
    set_tests_properties(${test_NAME} PROPERTIES ENVIRONMENT "${test_ENVIRONMENT}")
  endif()
  if(CMAKE_CROSSCOMPILING_EMULATOR MATCHES "wine")
    # The Wine prefix is made once per run by the wine-prefix fixture (see above); without
    # it, the first Wine test of a parallel run would race the others to create it.
    set_tests_properties(${test_NAME} PROPERTIES FIXTURES_REQUIRED wine-prefix)
  endif()
endfunction()

# The workspace's command-line convention, checked for one program (see
# cmake/check-cli.cmake): --help and -h print the usage to standard output and exit 0; a
# bad option prints a line naming it, then the usage, to standard error, and exits 2.
#
#   workspace_cli_tests(TARGET <target>
#       [NAME <test>]                 default: <target>-command-line
#       [ARGS <arg>...]               arguments that come before the options checked
#       [BAD_OPTION <arg>...]         default: --no-such-option
#       [BAD_VALUE <arg>...]          also: a known option with a bad value, such as
#                                     --requests zero: exit 2, the value named, the usage
#       [README <README.md> BLOCK <name>]  the README's block <!-- output: <name> --> must
#                                     be exactly what --help prints
#       [LABELS <label>...])
# The program runs under the cross-compiling emulator, if any (Wine, QEMU).
function(workspace_cli_tests)
  cmake_parse_arguments(PARSE_ARGV 0 cli "" "TARGET;NAME;README;BLOCK"
                        "ARGS;BAD_OPTION;BAD_VALUE;LABELS")
  if(NOT cli_NAME)
    set(cli_NAME ${cli_TARGET}-command-line)
  endif()
  set(command ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:${cli_TARGET}> ${cli_ARGS})
  set(readme_arguments "")
  if(cli_README)
    set(readme_arguments -DREADME=${CMAKE_CURRENT_SOURCE_DIR}/${cli_README} -DBLOCK=${cli_BLOCK})
  endif()
  add_test(NAME ${cli_NAME}
           COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${command}" "-DBAD_OPTION=${cli_BAD_OPTION}"
                   "-DBAD_VALUE=${cli_BAD_VALUE}"
                   ${readme_arguments} -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check-cli.cmake)
  set_tests_properties(${cli_NAME} PROPERTIES TIMEOUT 120)
  if(cli_LABELS)
    set_tests_properties(${cli_NAME} PROPERTIES LABELS "${cli_LABELS}")
  endif()
  if(CMAKE_CROSSCOMPILING_EMULATOR MATCHES "wine")
    set_tests_properties(${cli_NAME} PROPERTIES FIXTURES_REQUIRED wine-prefix)
  endif()
endfunction()

# A run-<example> target per example: `cmake --build --preset default --target
# run-ch02-os-threads` builds it and runs it in the terminal. It also puts the example in
# the list of examples this build has (see workspace_skip_example); NEEDS_DELAYSERVER says
# that ./run-example starts a delay server for it.
function(workspace_add_run_target target)
  cmake_parse_arguments(PARSE_ARGV 1 run "NEEDS_DELAYSERVER" "" "")
  add_custom_target(run-${target}
    COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:${target}>
    DEPENDS ${target} USES_TERMINAL
    COMMENT "Running ${target}")
  set(needs -)
  if(run_NEEDS_DELAYSERVER)
    set(needs delayserver)
  endif()
  set_property(GLOBAL APPEND_STRING PROPERTY WORKSPACE_EXAMPLE_LINES
               "example\t${target}\tbuilt\t$<TARGET_FILE:${target}>\t${needs}\n")
endfunction()

# A check of the sources themselves, written as a CMake script (cmake/<script>) that gets
# the top of the repository as SOURCE_DIR. The sources are the same in every build, so
# only the native build runs it:
#   cmake/check-event-queue-structure.cmake  the event-queue examples keep the same sections
#                                            and functions in the same order, and the same
#                                            arguments_and_report.hpp
#   cmake/check-docs.cmake                   the links and commands in the README files and
#                                            docs/ point to things that exist
function(workspace_add_source_check name script)
  if(CMAKE_CROSSCOMPILING)
    return()
  endif()
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -P ${PROJECT_SOURCE_DIR}/cmake/${script})
endfunction()

# Checks every C++ source of the workspace against .clang-format (as a test, so the
# README's test command checks the house style too).
function(workspace_add_format_check)
  if(CMAKE_CROSSCOMPILING)
    return() # The sources are the same in every build; the native build checks them.
  endif()
  find_program(CLANG_FORMAT NAMES clang-format clang-format-14 clang-format-15 clang-format-16)
  if(NOT CLANG_FORMAT)
    workspace_skip(format-check "clang-format not found (apt-get install clang-format)")
    return()
  endif()
  add_test(NAME format-check
           COMMAND ${CMAKE_COMMAND} -DCLANG_FORMAT=${CLANG_FORMAT}
                   -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/check-format.cmake)
endfunction()

# Checks which symbols a program imports from shared libraries (nm -D --undefined-only):
# SYMBOL must be PRESENT in, or ABSENT from, the imports of TARGET.
function(workspace_imports_test)
  cmake_parse_arguments(PARSE_ARGV 0 test "PRESENT;ABSENT" "NAME;TARGET;SYMBOL" "")
  if(NOT CMAKE_NM)
    workspace_skip(${test_NAME} "no nm found to list the program's imports")
    return()
  endif()
  if(WORKSPACE_SANITIZER)
    # A sanitizer's runtime defines its own write (to watch it), so what the program
    # imports no longer says what its code calls. The plain builds check this.
    workspace_skip(${test_NAME} "a sanitizer runtime replaces libc's write in this build")
    return()
  endif()
  if(test_PRESENT)
    set(expect PRESENT)
  else()
    set(expect ABSENT)
  endif()
  add_test(NAME ${test_NAME}
           COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DPROGRAM=$<TARGET_FILE:${test_TARGET}>
                   -DSYMBOL=${test_SYMBOL} -DEXPECT=${expect}
                   -P ${PROJECT_SOURCE_DIR}/cmake/check-imports.cmake)
endfunction()
