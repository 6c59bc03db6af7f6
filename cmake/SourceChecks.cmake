# Checks of the sources and of what the build made, rather than of an example's output:
# the source checks (cmake/check-*.cmake scripts), the house style, a program's imports.

# A check of the sources themselves, written as a CMake script (cmake/<script>) that gets
# the top of the repository as SOURCE_DIR. The sources are the same in every build, so
# only the native build runs it:
#   cmake/check-event-queue-structure.cmake  the five event-queue examples keep the same
#                                            sections in the same order, and the same
#                                            comments on the same code
#   cmake/check-docs.cmake                   the links and commands in the README files and
#                                            docs/ point to things that exist
# Arguments after the script's name are passed to it (-D<NAME>=<value>).
function(workspace_add_source_check name script)
  if(NOT CMAKE_CROSSCOMPILING)
    add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} ${ARGN}
                                  -P ${PROJECT_SOURCE_DIR}/cmake/${script})
  endif()
endfunction()

# Checks every C++ source of the workspace against .clang-format (as a test, so the
# README's test command checks the house style too): a source check, cmake/check-format.cmake.
function(workspace_add_format_check)
  find_program(CLANG_FORMAT NAMES clang-format clang-format-14 clang-format-15 clang-format-16)
  if(CLANG_FORMAT)
    workspace_add_source_check(format-check check-format.cmake -DCLANG_FORMAT=${CLANG_FORMAT})
  elseif(NOT CMAKE_CROSSCOMPILING)
    workspace_skip(format-check "clang-format not found (apt-get install clang-format)")
  endif()
endfunction()

# Checks which symbols a program imports from shared libraries (cmake/check-imports.cmake):
# SYMBOL must be PRESENT in, or ABSENT from, the imports of TARGET; with FROM (macOS only,
# where each import names its library), it must come from that library.
function(workspace_imports_test)
  cmake_parse_arguments(PARSE_ARGV 0 test "PRESENT;ABSENT" "NAME;TARGET;SYMBOL;FROM" "")
  if(APPLE)
    # GNU nm reads no arm64 Mach-O: LLVM's does both Macs (Debian's llvm package).
    find_program(LLVM_NM NAMES llvm-nm llvm-nm-14 llvm-nm-15 llvm-nm-16)
    set(nm ${LLVM_NM})
    set(format mach-o)
  else()
    set(nm ${CMAKE_NM})
    set(format elf)
  endif()
  if(NOT nm)
    workspace_skip(${test_NAME} "no nm found to list the program's imports")
    return()
  endif()
  if(WORKSPACE_SANITIZER)
    # A sanitizer's runtime defines its own write (to watch it), so what the program
    # imports no longer says what its code calls. The plain builds check this.
    workspace_skip(${test_NAME} "a sanitizer runtime replaces libc's write in this build")
    return()
  endif()
  add_test(NAME ${test_NAME}
           COMMAND ${CMAKE_COMMAND} -DNM=${nm} -DPROGRAM=$<TARGET_FILE:${test_TARGET}>
                   -DSYMBOL=${test_SYMBOL} -DEXPECT=$<IF:$<BOOL:${test_PRESENT}>,PRESENT,ABSENT>
                   -DFORMAT=${format}
                   -DLIBRARY=${test_FROM} -P ${PROJECT_SOURCE_DIR}/cmake/check-imports.cmake)
endfunction()

# In a build for macOS (made here, run only on a Mac), every program is checked to be a
# Mach-O file for the Mac CPU the build is for (cmake/check-mach-o.cmake): one test per
# program, <program>-mach-o. Called once, after the last example folder.
function(workspace_add_mach_o_checks)
  if(NOT APPLE OR WORKSPACE_RUNS_PROGRAMS)
    return()  # Elsewhere the tests run the programs, which says more.
  endif()
  find_program(LLVM_OBJDUMP NAMES llvm-objdump llvm-objdump-14 llvm-objdump-15 llvm-objdump-16)
  if(NOT LLVM_OBJDUMP)
    workspace_skip(mach-o-checks "llvm-objdump not found to read Mach-O (apt-get install llvm)")
    return()
  endif()
  string(TOUPPER ${WORKSPACE_CPU} cpu)  # the Mach header's cputype: X86_64, or ARM64
  string(REPLACE AARCH64 ARM64 cpu ${cpu})
  set(folders ${PROJECT_SOURCE_DIR})
  while(folders)
    list(POP_FRONT folders folder)
    get_property(subfolders DIRECTORY ${folder} PROPERTY SUBDIRECTORIES)
    list(APPEND folders ${subfolders})
    get_property(targets DIRECTORY ${folder} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      if(type STREQUAL "EXECUTABLE")
        add_test(NAME ${target}-mach-o
                 COMMAND ${CMAKE_COMMAND} -DOBJDUMP=${LLVM_OBJDUMP}
                         -DPROGRAM=$<TARGET_FILE:${target}> -DCPU=${cpu}
                         -P ${PROJECT_SOURCE_DIR}/cmake/check-mach-o.cmake)
        set_tests_properties(${target}-mach-o PROPERTIES LABELS macos)
      endif()
    endforeach()
  endwhile()
endfunction()
