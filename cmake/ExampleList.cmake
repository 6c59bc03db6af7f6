# What this build has of each example, and the list ./run-example reads: <build>/examples.tsv.
#
# The add_subdirectory lines of the top-level CMakeLists.txt are the only list of examples:
# each example folder says whether this build has it, with workspace_add_run_target (built
# here) or workspace_skip_example (not here, and why), and workspace_write_example_list
# writes what they said. The file's format, stated here and nowhere else: lines of fields
# separated by one tab each (no field holds a tab or a newline); a line that starts with
# "#" is a comment. The first field says what the line is:
#
#   emulator             COMMAND             what runs this build's programs, its words
#                                            separated by spaces: Wine with its prefix, QEMU,
#                                            or nothing (a native build)
#   delayserver          LAUNCHER  SERVER    tools/with-delayserver and the delay server, as
#                                            absolute paths; nothing where there is no server
#   delayserver-targets  TARGETS             the targets that build those two, separated by
#                                            spaces (host-tools in a cross build), or nothing
#   example  NAME  built    PROGRAM  NEEDS   the program's absolute path, and what it needs:
#                                            delayserver (./run-example starts one), or -
#   example  NAME  skipped  REASON   PRESET  why not, in one line, and the preset that builds
#                                            it instead (ch03-iocp: windows-mingw), or nothing
#
# ./run-example reads it with the functions of tools/example-list.sh, and so does the test
# example-list (tools/check-example-list.sh), which checks every line of it after the build.

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

# Writes <build>/examples.tsv (the format is above), and declares the test that reads it as
# ./run-example does. Called once, after the last example folder.
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
         "# The examples of this build, written by the configure step; the format is stated\n"
         "# in cmake/ExampleList.cmake.\n"
         "emulator\t${emulator}\n"
         "delayserver\t${launcher}\n"
         "delayserver-targets\t${server_targets}\n"
         "${examples}")
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/examples.tsv CONTENT "${content}")
  # The test runs bash, as ./run-example does: not on a Windows build machine.
  if(BUILD_TESTING AND NOT CMAKE_HOST_WIN32)
    add_test(NAME example-list
             COMMAND bash ${PROJECT_SOURCE_DIR}/tools/check-example-list.sh
                     ${CMAKE_BINARY_DIR}/examples.tsv ${PROJECT_SOURCE_DIR})
    set_tests_properties(example-list PROPERTIES TIMEOUT 60 LABELS tools)
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
  set(needs $<IF:$<BOOL:${run_NEEDS_DELAYSERVER}>,delayserver,->)  # at file(GENERATE)
  set_property(GLOBAL APPEND_STRING PROPERTY WORKSPACE_EXAMPLE_LINES
               "example\t${target}\tbuilt\t$<TARGET_FILE:${target}>\t${needs}\n")
endfunction()
