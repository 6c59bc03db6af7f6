# Checks of the sources and of what the build made, rather than of an example's output:
# the source checks (cmake/check-*.cmake scripts), the house style, a program's imports.

# A check of the sources themselves, written as a CMake script (cmake/<script>) that gets
# the top of the repository as SOURCE_DIR. The sources are the same in every build, so
# only the native build runs it:
#   cmake/check-event-queue-structure.cmake  the five event-queue examples keep the same
#                                            sections and functions in the same order
#   cmake/check-docs.cmake                   the links and commands in the README files and
#                                            docs/ point to things that exist
function(workspace_add_source_check name script)
  if(CMAKE_CROSSCOMPILING)
    return()
  endif()
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -P ${PROJECT_SOURCE_DIR}/cmake/${script})
endfunction()

# Checks every C++ source of the workspace against .clang-format (as a test, so the
# README's test command checks the house style too).
function(workspace_add_format_check)
  if(CMAKE_CROSSCOMPILING)
    return() # The sources are the same in every build; the native build checks them.
  endif()
  find_program(CLANG_FORMAT NAMES clang-format clang-format-14 clang-format-15 clang-format-16)
  if(NOT CLANG_FORMAT)
    workspace_skip(format-check "clang-format not found (apt-get install clang-format)")
    return()
  endif()
  add_test(NAME format-check
           COMMAND ${CMAKE_COMMAND} -DCLANG_FORMAT=${CLANG_FORMAT}
                   -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/check-format.cmake)
endfunction()

# Checks which symbols a program imports from shared libraries (nm -D --undefined-only):
# SYMBOL must be PRESENT in, or ABSENT from, the imports of TARGET.
function(workspace_imports_test)
  cmake_parse_arguments(PARSE_ARGV 0 test "PRESENT;ABSENT" "NAME;TARGET;SYMBOL" "")
  if(NOT CMAKE_NM)
    workspace_skip(${test_NAME} "no nm found to list the program's imports")
    return()
  endif()
  if(WORKSPACE_SANITIZER)
    # A sanitizer's runtime defines its own write (to watch it), so what the program
    # imports no longer says what its code calls. The plain builds check this.
    workspace_skip(${test_NAME} "a sanitizer runtime replaces libc's write in this build")
    return()
  endif()
  if(test_PRESENT)
    set(expect PRESENT)
  else()
    set(expect ABSENT)
  endif()
  add_test(NAME ${test_NAME}
           COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DPROGRAM=$<TARGET_FILE:${test_TARGET}>
                   -DSYMBOL=${test_SYMBOL} -DEXPECT=${expect}
                   -P ${PROJECT_SOURCE_DIR}/cmake/check-imports.cmake)
endfunction()
