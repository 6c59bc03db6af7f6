# cmake -DCLANG_FORMAT=clang-format -DSOURCE_DIR=<top of the repository> -P check-format.cmake
#
# Checks every C++ source and header in the workspace against .clang-format without
# changing anything. To fix what it reports: clang-format -i <file>.
# Every folder, whatever its name, but not the build trees (build/, where Wine's prefix
# alone holds thousands of files), .git, or what npm installed (node_modules/: Zig's own
# headers, for the macOS builds).
file(GLOB sources RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*.cpp ${SOURCE_DIR}/*.h ${SOURCE_DIR}/*.hpp)
file(GLOB folders RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*)  # files too: they glob nothing
list(FILTER folders EXCLUDE REGEX "^(build|\\.git)$")
foreach(folder IN LISTS folders)
  file(GLOB_RECURSE found RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/${folder}/*.cpp
       ${SOURCE_DIR}/${folder}/*.h ${SOURCE_DIR}/${folder}/*.hpp)
  list(APPEND sources ${found})
endforeach()
list(FILTER sources EXCLUDE REGEX "(^|/)node_modules/")
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
