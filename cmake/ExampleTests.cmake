# How an example's tests are declared: workspace_example_test (run it, compare its output,
# check how it ended), workspace_cli_tests (the command-line convention) and the leak
# checks they use (valgrind's descriptor report; the handle audit on Windows). The tests
# every event-queue example shares are declared together in cmake/EventQueueTests.cmake.

# valgrind --track-fds=yes lists every descriptor still open at exit: those the program
# inherited ("<inherited from parent>") and those it opened itself, each followed by the
# stack ("at 0x...") of the call that opened it. The checks: valgrind's report is there,
# and no entry has such a stack. workspace_valgrind_fd_check sets <out> to the valgrind
# command line, or to "" (with a configure message naming the test <name>) where valgrind
# cannot be used. Its own test, with a descriptor left open on purpose: tools/leak-checks/.
set(WORKSPACE_VALGRIND_FD_CHECKS --stderr "FILE DESCRIPTORS: [0-9]+ open"
    --stderr-absent "Open [^\n]*\n==[0-9]+==    at ")
function(workspace_valgrind_fd_check out name)
  set(${out} "" PARENT_SCOPE)
  if(CMAKE_CROSSCOMPILING OR WORKSPACE_SANITIZER)
    return()  # valgrind runs native programs only, and not with a sanitizer's runtime.
  endif()
  find_program(VALGRIND valgrind)
  if(NOT VALGRIND)
    workspace_skip(${name} "valgrind not found (apt-get install valgrind)")
    return()
  endif()
  set(${out} ${VALGRIND} -q --track-fds=yes --error-exitcode=99 PARENT_SCOPE)
endfunction()

# The expected output of a program that prints nothing on standard output (a refused
# argument, say), one file for every example: EXPECTED ${WORKSPACE_EXPECTED_NOTHING}.
get_filename_component(WORKSPACE_EXPECTED_NOTHING
                       ${CMAKE_CURRENT_LIST_DIR}/../tools/expected-nothing.txt ABSOLUTE)

# Declares one test of an example: runs it (under the cross-compiling emulator, if any)
# through tools/expect-output, which compares its standard output line by line with
# EXPECTED and checks how the process ended.
#
#   workspace_example_test(NAME <test> TARGET <target> EXPECTED <file>  (path from the folder)
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
#       [ARGS <arg>...]                     its arguments (it may run for 60 s)
#       [ENVIRONMENT <NAME=value>...])      set for the test
function(workspace_example_test)
  cmake_parse_arguments(PARSE_ARGV 0 test "WITH_DELAYSERVER;CHECK_FDS;CHECK_HANDLES;LEAKS_ON_PURPOSE;SERIAL"
                        "NAME;TARGET;EXPECTED;README;BLOCK;EXIT;SIGNAL"
                        "STDERR;ARGS;ENVIRONMENT;SERVER_ARGS")
  cmake_path(ABSOLUTE_PATH test_EXPECTED BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT WORKSPACE_RUNS_PROGRAMS AND WORKSPACE_README_CHECKER AND test_README)
    # The program runs only on its own OS (macOS): what can be checked here is that the
    # expected output and the README's block exist and agree.
    add_test(NAME ${test_NAME}-readme-block
             COMMAND ${WORKSPACE_README_CHECKER} --expected ${test_EXPECTED}
                     --readme ${CMAKE_CURRENT_SOURCE_DIR}/${test_README} --block ${test_BLOCK})
    set_tests_properties(${test_NAME}-readme-block PROPERTIES LABELS examples)
    return()
  endif()
  if(NOT WORKSPACE_EXPECT_OUTPUT)
    return()  # No test tools on this build machine (see HostTools.cmake).
  endif()
  # What expect-output checks...
  set(checks --expected ${test_EXPECTED} --timeout 60)
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
  set(leak_checks "")
  if(test_CHECK_FDS)
    workspace_valgrind_fd_check(valgrind ${test_NAME})
    if(NOT valgrind)
      return()
    endif()
    set(leak_checks ${WORKSPACE_VALGRIND_FD_CHECKS})
    list(APPEND runners ${valgrind})
  elseif(test_CHECK_HANDLES)
    if(NOT WIN32)
      message(FATAL_ERROR "${test_NAME}: CHECK_HANDLES is for Windows programs (CHECK_FDS elsewhere)")
    endif()
    # Windows has no valgrind: tools/leak-checks/handle-audit.cpp does its part there. Linked
    # into a copy of the example, <target>-handle-audit, it lists on stderr the handles
    # opened after main started and still open after main returned.
    set(copy ${test_TARGET}-handle-audit)
    if(NOT TARGET ${copy})
      get_target_property(sources ${test_TARGET} SOURCES)
      add_executable(${copy} ${sources})
      target_link_libraries(${copy} PRIVATE handle-audit)
      # What the example links and includes from elsewhere, such as support/.
      foreach(property IN ITEMS LINK_LIBRARIES INCLUDE_DIRECTORIES)
        get_target_property(value ${test_TARGET} ${property})
        if(value)
          set_property(TARGET ${copy} APPEND PROPERTY ${property} ${value})
        endif()
      endforeach()
    endif()
    set(test_TARGET ${copy})
    # Alone: the audit lists every process's handles (NtQuerySystemInformation), and Wine 8's
    # wineserver crashed ("wineserver crashed, please enable coredumps") when that ran while
    # other Wine programs started or ended, failing the tests that shared it. Reproduced
    # here with two audit loops side by side; one audit loop alone never crashed it.
    set(test_SERIAL TRUE)
    set(leak_checks --stderr "handle-audit: [0-9]+ handles open before main"
                    --stderr-absent "handle-audit: left open")
  endif()
  if(test_LEAKS_ON_PURPOSE)
    list(SUBLIST leak_checks 0 2 leak_checks)  # the report only: the leak is in it (STDERR)
  endif()
  list(APPEND checks ${leak_checks})
  add_test(NAME ${test_NAME}
           COMMAND ${WORKSPACE_EXPECT_OUTPUT} ${checks} -- ${runners}
                   ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:${test_TARGET}> ${test_ARGS})
  # WORKSPACE_EMULATOR_FIXTURE: the Wine prefix is made once per run by the wine-prefix
  # fixture (Platform.cmake): without it, the first Wine test of a parallel run would race
  # the others to create it.
  set_tests_properties(${test_NAME} PROPERTIES TIMEOUT 60 LABELS examples
                       RUN_SERIAL "${test_SERIAL}" ENVIRONMENT "${test_ENVIRONMENT}"
                       FIXTURES_REQUIRED "${WORKSPACE_EMULATOR_FIXTURE}")
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
  if(NOT WORKSPACE_RUNS_PROGRAMS)
    return()  # The program runs only on its own OS (see HostTools.cmake).
  endif()
  if(NOT cli_NAME)
    set(cli_NAME ${cli_TARGET}-command-line)
  endif()
  set(command ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:${cli_TARGET}> ${cli_ARGS})
  if(cli_README)
    set(cli_README ${CMAKE_CURRENT_SOURCE_DIR}/${cli_README})
  endif()
  add_test(NAME ${cli_NAME}
           COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${command}" "-DBAD_OPTION=${cli_BAD_OPTION}"
                   "-DBAD_VALUE=${cli_BAD_VALUE}" "-DREADME=${cli_README}" "-DBLOCK=${cli_BLOCK}"
                   -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check-cli.cmake)
  set_tests_properties(${cli_NAME} PROPERTIES TIMEOUT 120 LABELS "${cli_LABELS}"
                       FIXTURES_REQUIRED "${WORKSPACE_EMULATOR_FIXTURE}")
endfunction()
