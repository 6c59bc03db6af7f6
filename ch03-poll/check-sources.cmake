# cmake -DSOURCE_DIR=<top of the repository> -P ch03-poll/check-sources.cmake
#
# What ch03-poll promises about its own sources, checked:
#   - main.cpp has no #if: one file for every OS, the build picks the backend;
#   - each file stays within the size a reader can take in beside the others (wc -l), a
#     budget met by moving what is OS-independent out, never by cutting comments (main.cpp's
#     250 grew by ten for print_error and describe_event, which every event-queue main.cpp has,
#     and for the reset that only Poll hears on some backends; poll.hpp's 150 grew to 175 for
#     the contract's new sentences (issue 33): Poll::open and Waker::make, which make the
#     object or say why not, the one describe that turns a PollError into a program's line,
#     and how the OS's reason for a failed connect reaches the program; the result type
#     itself, which names no OS, is in made.hpp).
# (The AFD declarations are not copied here: poll_afd.cpp includes ch03-wepoll's afd.h
# through the build.)
cmake_minimum_required(VERSION 3.25)
set(folder ${SOURCE_DIR}/ch03-poll)
set(failed FALSE)

file(STRINGS ${folder}/main.cpp conditionals REGEX "^[ \t]*#[ \t]*if")
if(conditionals)
  message(SEND_ERROR "ch03-poll/main.cpp has conditional compilation: ${conditionals}")
  set(failed TRUE)
endif()

set(budgets poll.hpp=175 poll_epoll.cpp=180 poll_kqueue.cpp=250 poll_io_uring.cpp=320
    poll_afd.cpp=400 sockets_posix.cpp=200 sockets_windows.cpp=200 main.cpp=260)
foreach(budget IN LISTS budgets)
  string(REPLACE "=" ";" budget "${budget}")
  list(GET budget 0 file)
  list(GET budget 1 most)
  file(READ ${folder}/${file} text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines count)
  if(count GREATER most)
    message(SEND_ERROR "ch03-poll/${file}: ${count} lines, over its budget of ${most}")
    set(failed TRUE)
  else()
    message("ch03-poll/${file}: ${count} lines (budget ${most})")
  endif()
endforeach()

if(failed)
  message(FATAL_ERROR "ch03-poll's sources break their promises (see above).")
endif()
