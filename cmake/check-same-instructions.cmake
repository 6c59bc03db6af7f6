# cmake -DCLANGXX=clang++ -DREFERENCE_TARGET=aarch64-linux-gnu -DREFERENCE_SOURCE=a.cpp
#       -DREFERENCE_SYMBOL=switch_stack -DOBJECT=b.o -DSYMBOL=_switch_stack
#       -DOBJDUMP=llvm-objdump -DWORK_DIR=dir -P check-same-instructions.cmake
#
# Checks that the function SYMBOL in the object file OBJECT (another platform's build of the
# same assembly, e.g. Mach-O for macOS) has the same instructions as REFERENCE_SYMBOL in
# REFERENCE_SOURCE, which this script compiles with clang for REFERENCE_TARGET. The
# instructions compared are those from the symbol's address up to and including the first
# return (`ret`): the switch is straight-line code, and what follows it is padding or the
# next function. Only llvm-objdump reads both ELF and arm64 Mach-O; GNU objdump does not.

# Prints the instructions of `symbol` in `object`, one per line, into `out`.
function(instructions_of object symbol out)
  execute_process(COMMAND ${OBJDUMP} --syms ${object} OUTPUT_VARIABLE symbols
                  RESULT_VARIABLE result ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${OBJDUMP} --syms ${object} failed: ${errors}")
  endif()
  # "0000000000000000 g     F __TEXT,__text _switch_stack": the address, first. (The name
  # alone cannot be asked for: arm64 Mach-O has a local label, ltmp0, at the same address,
  # and llvm-objdump names the code after that.)
  string(REGEX MATCH "(^|\n)([0-9a-f]+) [^\n]* ${symbol}(\n|$)" found "${symbols}")
  if(NOT found)
    message(FATAL_ERROR "no symbol ${symbol} in ${object}:\n${symbols}")
  endif()
  set(address ${CMAKE_MATCH_2})
  execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn --no-leading-addr
                          --start-address=0x${address} ${object}
                  OUTPUT_VARIABLE listing RESULT_VARIABLE result ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${OBJDUMP} -d ${object} failed: ${errors}")
  endif()
  string(REPLACE "\n" ";" lines "${listing}")
  set(instructions "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^[ \t]+[a-z]")  # an instruction: indented; labels and headers are not
      continue()
    endif()
    string(STRIP "${line}" line)
    string(REGEX REPLACE "[ \t]+" " " line "${line}")
    list(APPEND instructions "${line}")
    if(line MATCHES "^retq?( |$)")
      set(${out} "${instructions}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "no return instruction after ${symbol} in ${object}:\n${listing}")
endfunction()

get_filename_component(reference_name ${REFERENCE_SOURCE} NAME_WE)
set(reference_object ${WORK_DIR}/${reference_name}.o)
execute_process(COMMAND ${CLANGXX} --target=${REFERENCE_TARGET} -std=c++20 -O2 -c
                        ${REFERENCE_SOURCE} -o ${reference_object}
                RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${CLANGXX} --target=${REFERENCE_TARGET} failed on ${REFERENCE_SOURCE}:\n"
                      "${errors}")
endif()

instructions_of(${reference_object} ${REFERENCE_SYMBOL} expected)
instructions_of(${OBJECT} ${SYMBOL} actual)
list(LENGTH expected expected_count)
list(LENGTH actual actual_count)
list(JOIN expected "\n" expected_text)
list(JOIN actual "\n" actual_text)
if(NOT expected_text STREQUAL actual_text)
  message(FATAL_ERROR "${SYMBOL} in ${OBJECT} (${actual_count} instructions):\n${actual_text}\n"
                      "is not ${REFERENCE_SYMBOL} of ${REFERENCE_SOURCE} (${expected_count}):\n"
                      "${expected_text}")
endif()
message("${SYMBOL}: the same ${actual_count} instructions as ${REFERENCE_SYMBOL} in "
        "${reference_name}.cpp for ${REFERENCE_TARGET}:\n${actual_text}")
