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

if(NOT BAD_OPTION)
  set(BAD_OPTION --no-such-option)
endif()
set(problems "")

# Runs COMMAND with the arguments after <expected_exit>, shows what it printed, and checks
# the exit code. Sets out and err, with Windows line endings made plain (a Windows program
# in text mode writes "\r\n"), and shown: the arguments.
macro(run_program expected_exit)
  execute_process(COMMAND ${COMMAND} ${ARGN} RESULT_VARIABLE exit_code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  string(REPLACE "\r\n" "\n" out "${out}")
  string(REPLACE "\r\n" "\n" err "${err}")
  string(REPLACE ";" " " shown "${ARGN}")
  message("$ ... ${shown}\n${out}--- standard error ---\n${err}--- exit code: ${exit_code}\n")
  if(NOT exit_code STREQUAL "${expected_exit}")
    list(APPEND problems "${shown}: exit code ${exit_code}, expected ${expected_exit}")
  endif()
endmacro()

# --help and -h: exit 0, the usage on standard output, the same text for both.
run_program(0 --help)
set(help_out "${out}")
if(NOT help_out MATCHES "(^|\n)[Uu]sage: ")
  list(APPEND problems "--help: no line starting with \"Usage:\" on standard output")
endif()
run_program(0 -h)
if(NOT out STREQUAL help_out)
  list(APPEND problems "-h: standard output differs from that of --help")
endif()

# A bad option, and a bad value for a known option (BAD_VALUE, if given): exit 2, nothing
# on standard output; on standard error a line naming the option (the part before any "=")
# or the value (the last argument), then the usage.
list(GET BAD_OPTION 0 option)
string(REGEX REPLACE "=.*$" "" option "${option}")
set(named ${option})
if(BAD_VALUE)
  list(GET BAD_VALUE -1 value)
  list(APPEND named ${value})
endif()
foreach(arguments IN ITEMS BAD_OPTION BAD_VALUE)
  if(NOT ${arguments})
    continue()
  endif()
  run_program(2 ${${arguments}})
  list(POP_FRONT named name)
  if(NOT out STREQUAL "")
    list(APPEND problems "${shown}: standard output is not empty")
  endif()
  string(FIND "${err}" "${name}" name_at)
  string(REGEX MATCH "\n[Uu]sage: " usage_line "${err}")
  string(FIND "${err}" "${usage_line}" usage_at)
  if(name_at EQUAL -1)
    list(APPEND problems "${shown}: standard error does not name ${name}")
  elseif(usage_line STREQUAL "" OR usage_at LESS name_at)
    list(APPEND problems "${shown}: no usage on standard error after the line naming ${name}")
  endif()
endforeach()

# The README's copy of the help: the block after the marker line and the fence line, up
# to the next fence.
if(README)
  file(READ ${README} readme)
  string(REPLACE "\r\n" "\n" readme "${readme}")
  string(FIND "${readme}" "<!-- output: ${BLOCK} -->\n```" marker_at)
  if(marker_at EQUAL -1)
    list(APPEND problems "${README}: no line \"<!-- output: ${BLOCK} -->\" followed by a ``` block")
  else()
    string(SUBSTRING "${readme}" ${marker_at} -1 block)
    string(REGEX REPLACE "^[^\n]*\n[^\n]*\n(.*)$" "\\1" block "${block}")
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
list(JOIN BAD_OPTION " " bad_shown)
message("--help, -h and ${bad_shown} answer as the convention says")
