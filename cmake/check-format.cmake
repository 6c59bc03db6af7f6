# cmake -DCLANG_FORMAT=clang-format -DSOURCE_DIR=<top of the repository> -P check-format.cmake
#
# Checks every C++ source and header in the workspace against .clang-format without
# changing anything. To fix what it reports: clang-format -i <file>.
# Every folder, whatever its name, but not the build trees (build/, where Wine's prefix
# alone holds thousands of files), .git, or what npm installed (node_modules/: Zig's own
# headers, for the macOS builds).
file(GLOB top_entries RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*)
set(sources "")
foreach(entry IN LISTS top_entries)
  if(entry MATCHES "^(build|\\.git)$")
    continue()
  endif()
  if(IS_DIRECTORY ${SOURCE_DIR}/${entry})
    file(GLOB_RECURSE found RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/${entry}/*.cpp
         ${SOURCE_DIR}/${entry}/*.h ${SOURCE_DIR}/${entry}/*.hpp)
    list(FILTER found EXCLUDE REGEX "(^|/)node_modules/")
  else()
    set(found "")
    if(entry MATCHES "\\.(cpp|h|hpp)$")
      set(found ${entry})
    endif()
  endif()
  list(APPEND sources ${found})
endforeach()
list(LENGTH sources count)
if(count EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SOURCE_DIR}")
endif()
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${sources}
                WORKING_DIRECTORY ${SOURCE_DIR}
                RESULT_VARIABLE result ERROR_VARIABLE report)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${report}\nSome files differ from .clang-format; fix with: clang-format -i <file>")
endif()
message("${count} files follow .clang-format")
