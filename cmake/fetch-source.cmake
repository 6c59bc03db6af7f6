# cmake -DNAME=<name> -DSOURCE_DIR=<dir> -DBINARY_DIR=<dir> -DSUBBUILD_DIR=<dir>
#       (-DURL=<archive> -DURL_HASH=SHA256=<hash> | -DGIT_REPOSITORY=<url> -DGIT_TAG=<commit>)
#       [-DCMAKE_GENERATOR=<generator> -DCMAKE_MAKE_PROGRAM=<program>]
#       -P fetch-source.cmake
#
# Puts one pinned upstream source tree into SOURCE_DIR with CMake's FetchContent: from a
# local archive, hash checked, or from a git repository at one commit. cmake/Libkqueue.cmake
# runs this in a process of its own, for two reasons: a failed FetchContent download is a
# fatal error, which here ends only this process, and a git clone has no timeout of its own,
# while execute_process can stop this process (and the clone under it) after a time.
cmake_minimum_required(VERSION 3.25)
include(FetchContent)

if(URL)
  set(content URL ${URL} URL_HASH ${URL_HASH})
else()
  # A commit, not a tag: a tag can be moved, a commit cannot. (No shallow clone: git can
  # fetch a commit that is not a branch's tip only from a full clone.)
  set(content GIT_REPOSITORY ${GIT_REPOSITORY} GIT_TAG ${GIT_TAG} GIT_PROGRESS OFF)
endif()

# The direct form of FetchContent_Populate, the one meant for script mode: it downloads
# into SOURCE_DIR through a small build of its own in SUBBUILD_DIR, and configures nothing.
FetchContent_Populate(${NAME} QUIET
  SOURCE_DIR ${SOURCE_DIR}
  BINARY_DIR ${BINARY_DIR}
  SUBBUILD_DIR ${SUBBUILD_DIR}
  ${content})
message("${NAME}: source in ${SOURCE_DIR}")
