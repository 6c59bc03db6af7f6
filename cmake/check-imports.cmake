# cmake -DNM=nm -DPROGRAM=path -DSYMBOL=write -DEXPECT=PRESENT|ABSENT
#       [-DFORMAT=elf|mach-o] [-DLIBRARY=libSystem] -P check-imports.cmake
#
# Lists the symbols PROGRAM imports from shared libraries and checks that SYMBOL is among
# them (PRESENT) or not (ABSENT).
#   elf (Linux, the default): `nm -D --undefined-only`; versioned names such as
#     write@GLIBC_2.2.5 count as SYMBOL.
#   mach-o (macOS): an executable has no dynamic symbol table for -D, so `llvm-nm -m
#     --undefined-only` lists its undefined symbols, each with the library it is bound to
#     ("(undefined) external _write (from libSystem)"); C names carry a leading underscore.
#     With LIBRARY, SYMBOL must come from that library (kevent from libSystem, not from a
#     libkqueue).
if(FORMAT STREQUAL "mach-o")
  set(list_imports ${NM} -m --undefined-only ${PROGRAM})
  set(pattern "\\(undefined\\) external _${SYMBOL} \\(from ([^)\n]*)\\)")
else()
  set(list_imports ${NM} -D --undefined-only ${PROGRAM})
  set(pattern "(^|\n)[ \t]*U ${SYMBOL}(@[^\n]*)?(\n|$)")
endif()
execute_process(COMMAND ${list_imports}
                OUTPUT_VARIABLE imports RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${PROGRAM}: ${errors}")
endif()
message("${PROGRAM} imports:\n${imports}")
string(REGEX MATCH "${pattern}" found "${imports}")
if(EXPECT STREQUAL "PRESENT" AND NOT found)
  message(FATAL_ERROR "${SYMBOL} is not imported by ${PROGRAM}")
elseif(EXPECT STREQUAL "ABSENT" AND found)
  message(FATAL_ERROR "${SYMBOL} is imported by ${PROGRAM}")
endif()
if(found AND LIBRARY AND NOT CMAKE_MATCH_1 STREQUAL LIBRARY)
  message(FATAL_ERROR "${SYMBOL} is imported from ${CMAKE_MATCH_1}, not from ${LIBRARY}")
endif()
message("${SYMBOL}: ${EXPECT}, as expected")
