# cmake -DOBJDUMP=llvm-objdump -DPROGRAM=path -DCPU=ARM64|X86_64 -P check-mach-o.cmake
#
# Checks that PROGRAM is a 64-bit Mach-O executable for the CPU named (the Mach header's
# cputype, as llvm-objdump prints it: ARM64 for Apple silicon, X86_64 for Intel Macs), and
# that it is linked against macOS's libSystem (a program built for Linux by mistake would
# be ELF, and llvm-objdump would find no Mach header at all).
execute_process(COMMAND ${OBJDUMP} --macho --private-header ${PROGRAM}
                OUTPUT_VARIABLE header RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} finds no Mach header in ${PROGRAM}: ${errors}")
endif()
execute_process(COMMAND ${OBJDUMP} --macho --dylibs-used ${PROGRAM}
                OUTPUT_VARIABLE libraries RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} lists no libraries of ${PROGRAM}: ${errors}")
endif()
message("${header}${libraries}")
if(NOT header MATCHES "MH_MAGIC_64 +${CPU} +[A-Z0-9_]+ +0x[0-9a-f]+ +EXECUTE ")
  message(FATAL_ERROR "${PROGRAM} is not a 64-bit Mach-O executable for ${CPU}")
endif()
if(NOT libraries MATCHES "\n[ \t]*/usr/lib/libSystem\\.B\\.dylib ")
  message(FATAL_ERROR "${PROGRAM} is not linked against /usr/lib/libSystem.B.dylib")
endif()
message("${PROGRAM}: a Mach-O executable for ${CPU}, linked against libSystem")
