# cmake -DSOURCE_DIR=<top of the repository> -P ch03-poll/check-sources.cmake
#
# What ch03-poll promises about its own sources, checked: main.cpp has no #if, one file for
# every OS, the build picks the backend.
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

if(failed)
  message(FATAL_ERROR "ch03-poll's sources break their promises (see above).")
endif()
