# cmake -DSOURCE_DIR=<top of the repository> -P ch08-reactor-executor/check-sources.cmake
#
# What ch08-reactor-executor promises about its own sources, checked:
#   - the lesson (the reactor, the executor, the awaitables and main.cpp: every .cpp and .hpp
#     of the folder but the test) is at most 450 lines with its comments (wc -l), against
#     the book's b-reactor-executor runtime of about 350 lines of Rust;
#   - nothing of ch03-poll is copied here: its Poll and its support header come through the
#     build (a copy of arguments_and_report.hpp would also make this folder an event-queue
#     example for the event-queues-structure test).
cmake_minimum_required(VERSION 3.25)
set(folder ${SOURCE_DIR}/ch08-reactor-executor)
set(budget 450)
file(GLOB lesson RELATIVE ${folder} ${folder}/*.cpp ${folder}/*.hpp)
list(REMOVE_ITEM lesson runtime_test.cpp)
set(total 0)
foreach(file IN LISTS lesson)
  file(READ ${folder}/${file} text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines count)
  math(EXPR total "${total} + ${count}")
  message("ch08-reactor-executor/${file}: ${count} lines")
endforeach()
set(failed FALSE)
if(total GREATER budget)
  message(SEND_ERROR "ch08-reactor-executor: the lesson is ${total} lines, over its budget of ${budget}")
  set(failed TRUE)
else()
  message("ch08-reactor-executor: the lesson is ${total} lines (budget ${budget})")
endif()
file(GLOB ch03_poll_files RELATIVE ${SOURCE_DIR}/ch03-poll ${SOURCE_DIR}/ch03-poll/*.hpp
     ${SOURCE_DIR}/ch03-poll/*.cpp ${SOURCE_DIR}/ch03-poll/*.h)
list(REMOVE_ITEM ch03_poll_files main.cpp)  # each example has its own
foreach(file IN LISTS ch03_poll_files)
  if(EXISTS ${folder}/${file})
    message(SEND_ERROR "ch08-reactor-executor/${file}: a copy of ch03-poll's; include it through "
                       "the build instead")
    set(failed TRUE)
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "ch08-reactor-executor's sources break their promises (see above).")
endif()
