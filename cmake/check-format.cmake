# cmake -DCLANG_FORMAT=clang-format -DSOURCE_DIR=<top of the repository> -P check-format.cmake
#
# Checks every C++ source and header in the workspace against .clang-format without
# changing anything. To fix what it reports: clang-format -i <file>.
file(GLOB_RECURSE sources RELATIVE ${SOURCE_DIR}
     ${SOURCE_DIR}/ch0*/*.cpp ${SOURCE_DIR}/ch0*/*.h ${SOURCE_DIR}/ch0*/*.hpp
     ${SOURCE_DIR}/delayserver/*.cpp ${SOURCE_DIR}/delayserver/*.hpp ${SOURCE_DIR}/delayserver/*.h
     ${SOURCE_DIR}/tools/*.cpp ${SOURCE_DIR}/tools/*.h ${SOURCE_DIR}/bench/*.cpp ${SOURCE_DIR}/fuzz/*.cpp)
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
