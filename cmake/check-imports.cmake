# cmake -DNM=nm -DPROGRAM=path -DSYMBOL=write -DEXPECT=PRESENT|ABSENT -P check-imports.cmake
#
# Lists the symbols PROGRAM imports from shared libraries (nm -D --undefined-only) and
# checks that SYMBOL is among them (PRESENT) or not (ABSENT). Versioned names such as
# write@GLIBC_2.2.5 count as SYMBOL.
execute_process(COMMAND ${NM} -D --undefined-only ${PROGRAM}
                OUTPUT_VARIABLE imports RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${PROGRAM}: ${errors}")
endif()
message("${PROGRAM} imports:\n${imports}")
string(REGEX MATCH "(^|\n)[ \t]*U ${SYMBOL}(@[^\n]*)?(\n|$)" found "${imports}")
if(EXPECT STREQUAL "PRESENT" AND NOT found)
  message(FATAL_ERROR "${SYMBOL} is not imported by ${PROGRAM}")
elseif(EXPECT STREQUAL "ABSENT" AND found)
  message(FATAL_ERROR "${SYMBOL} is imported by ${PROGRAM}")
endif()
message("${SYMBOL}: ${EXPECT}, as expected")
