# cmake -DCOMMAND=<program and its first arguments> [-DBAD_OPTION=<arguments>]
#       [-DBAD_VALUE=<arguments>] [-DREADME=<file> -DBLOCK=<name>] -P check-cli.cmake
#
# Checks that a program follows the workspace's command-line convention (declared for each
# program by workspace_cli_tests in ExampleTests.cmake):
#   - `--help` and `-h` exit 0 and print the same text to standard output, with a line
#     that starts with "Usage:" (or "usage:");
#   - a bad option (BAD_OPTION, default --no-such-option) exits 2 with nothing on standard
#     output and, on standard error, a line naming the option, then the usage;
#   - a bad value (BAD_VALUE, if given, such as --requests zero): the same, naming the value;
#   - with README and BLOCK: the README's block after `<!-- output: BLOCK -->` is exactly
#     what --help prints (so the usage a README shows is the program's own).
# COMMAND is a list: an emulator (Wine, QEMU) may come before the program.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED BAD_OPTION OR BAD_OPTION STREQUAL "")
  set(BAD_OPTION --no-such-option)
endif()
set(problems "")

# Runs COMMAND with the given arguments; sets <prefix>_exit, <prefix>_out and <prefix>_err,
# with Windows line endings made plain (a Windows program in text mode writes "\r\n").
function(run_program prefix)
  execute_process(COMMAND ${COMMAND} ${ARGN} RESULT_VARIABLE exit_code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  string(REPLACE "\r\n" "\n" out "${out}")
  string(REPLACE "\r\n" "\n" err "${err}")
  list(JOIN ARGN " " shown)
  message("$ ... ${shown}\n${out}--- standard error ---\n${err}--- exit code: ${exit_code}\n")
  set(${prefix}_exit "${exit_code}" PARENT_SCOPE)
  set(${prefix}_out "${out}" PARENT_SCOPE)
  set(${prefix}_err "${err}" PARENT_SCOPE)
endfunction()

# --help and -h: exit 0, the usage on standard output, the same text for both.
run_program(help --help)
if(NOT help_exit STREQUAL "0")
  list(APPEND problems "--help: exit code ${help_exit}, expected 0")
endif()
if(NOT help_out MATCHES "(^|\n)[Uu]sage: ")
  list(APPEND problems "--help: no line starting with \"Usage:\" on standard output")
endif()
run_program(short -h)
if(NOT short_exit STREQUAL "0")
  list(APPEND problems "-h: exit code ${short_exit}, expected 0")
endif()
if(NOT short_out STREQUAL help_out)
  list(APPEND problems "-h: standard output differs from that of --help")
endif()

# A bad option: exit 2, nothing on standard output; on standard error a line naming the
# option (the part before any "="), then the usage.
run_program(bad ${BAD_OPTION})
list(JOIN BAD_OPTION " " bad_shown)
list(GET BAD_OPTION 0 option)
string(REGEX REPLACE "=.*$" "" option "${option}")
if(NOT bad_exit STREQUAL "2")
  list(APPEND problems "${bad_shown}: exit code ${bad_exit}, expected 2")
endif()
if(NOT bad_out STREQUAL "")
  list(APPEND problems "${bad_shown}: standard output is not empty")
endif()
string(FIND "${bad_err}" "${option}" option_at)
string(REGEX MATCH "\n[Uu]sage: " usage_line "${bad_err}")
string(FIND "${bad_err}" "${usage_line}" usage_at)
if(option_at EQUAL -1)
  list(APPEND problems "${bad_shown}: standard error does not name ${option}")
elseif(usage_line STREQUAL "" OR usage_at LESS option_at)
  list(APPEND problems "${bad_shown}: no usage on standard error after the line naming ${option}")
endif()

# A bad value for a known option (BAD_VALUE, if given): exit 2, nothing on standard output;
# on standard error a line naming the value (its last argument), then the usage.
if(DEFINED BAD_VALUE AND NOT BAD_VALUE STREQUAL "")
  run_program(value ${BAD_VALUE})
  list(JOIN BAD_VALUE " " value_shown)
  list(GET BAD_VALUE -1 value)
  if(NOT value_exit STREQUAL "2")
    list(APPEND problems "${value_shown}: exit code ${value_exit}, expected 2")
  endif()
  if(NOT value_out STREQUAL "")
    list(APPEND problems "${value_shown}: standard output is not empty")
  endif()
  string(FIND "${value_err}" "${value}" value_at)
  if(value_at EQUAL -1 OR NOT value_err MATCHES "\n[Uu]sage: ")
    list(APPEND problems "${value_shown}: standard error does not name ${value} then give the usage")
  endif()
endif()

# The README's copy of the help.
if(DEFINED README AND NOT README STREQUAL "")
  file(READ ${README} readme)
  string(REPLACE "\r\n" "\n" readme "${readme}")
  string(FIND "${readme}" "<!-- output: ${BLOCK} -->\n```" marker_at)
  if(marker_at EQUAL -1)
    list(APPEND problems "${README}: no line \"<!-- output: ${BLOCK} -->\" followed by a ``` block")
  else()
    # The block starts after the marker line and the fence line, and ends at the next fence.
    string(SUBSTRING "${readme}" ${marker_at} -1 block)
    foreach(line_to_skip RANGE 1)
      string(FIND "${block}" "\n" line_end)
      math(EXPR line_end "${line_end} + 1")
      string(SUBSTRING "${block}" ${line_end} -1 block)
    endforeach()
    string(FIND "${block}" "```" block_end)
    string(SUBSTRING "${block}" 0 ${block_end} block)
    if(NOT block STREQUAL help_out)
      list(APPEND problems "${README}: the block \"${BLOCK}\" is not what --help prints")
    endif()
  endif()
endif()

if(problems)
  string(REPLACE ";" "\n  " listing "${problems}")
  message(FATAL_ERROR "The command-line convention is not kept:\n  ${listing}")
endif()
message("--help, -h and ${bad_shown} answer as the convention says")
