# cmake -DPROGRAM=<bench program> -DBAD_VALUE=<arguments, comma-separated> -P check-command-line.cmake
#
# Checks that a bench program follows the workspace's command-line convention:
#   --help and -h print the usage to standard output, nothing to standard error, exit 0;
#   an unknown option, and a known one with a bad value (BAD_VALUE), print what was wrong
#   and the usage to standard error, nothing to standard output, exit 2.
# bench/CMakeLists.txt adds one test per program (bench-command-line-<program>).
cmake_minimum_required(VERSION 3.25)

set(problems "")
foreach(help IN ITEMS --help -h)
  execute_process(COMMAND ${PROGRAM} ${help} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    string(APPEND problems "${help}: exit ${result}, expected 0\n")
  endif()
  if(NOT output MATCHES "usage: ")
    string(APPEND problems "${help}: no usage on standard output\n")
  endif()
  if(NOT errors STREQUAL "")
    string(APPEND problems "${help}: wrote to standard error: ${errors}\n")
  endif()
endforeach()

string(REPLACE "," ";" bad_value "${BAD_VALUE}")
foreach(case IN ITEMS unknown bad-value)
  if(case STREQUAL "unknown")
    set(arguments --no-such-option)
  else()
    set(arguments ${bad_value})
  endif()
  execute_process(COMMAND ${PROGRAM} ${arguments} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  list(JOIN arguments " " shown)
  if(NOT result EQUAL 2)
    string(APPEND problems "${shown}: exit ${result}, expected 2\n")
  endif()
  # The first line says what was wrong, naming it; the usage follows.
  list(GET arguments -1 named)
  string(FIND "${errors}" "${named}" where)
  if(where EQUAL -1 OR NOT errors MATCHES "\nusage: ")
    string(APPEND problems "${shown}: standard error does not name '${named}' then give the usage:\n${errors}\n")
  endif()
  if(NOT output STREQUAL "")
    string(APPEND problems "${shown}: wrote to standard output: ${output}\n")
  endif()
endforeach()

if(problems)
  message(FATAL_ERROR "${PROGRAM}:\n${problems}")
endif()
message("${PROGRAM}: --help, -h, an unknown option and a bad value as the convention says")
