# libkqueue for ch03-kqueue on Linux: a pinned upstream release, built by this build.
#
# Linux has no kqueue. libkqueue (https://github.com/mheily/libkqueue) provides kqueue()
# and kevent() on top of epoll, and Debian does not package it, so the build gets it itself
# with CMake's FetchContent, pinned to one upstream commit, and builds it as a static
# library into ch03-kqueue. Nothing of libkqueue is committed to this repository.
#
# Where the source comes from, first match wins:
#   1. FETCHCONTENT_SOURCE_DIR_LIBKQUEUE, if set: a libkqueue checkout of your own (where it
#      is not one, add_subdirectory says so).
#   2. What an earlier configure of this build folder put in FETCHCONTENT_BASE_DIR
#      (build/<preset>/_deps/libkqueue-src), if it is this pin.
#   3. $WORKSPACE_ARCHIVE_DIR/libkqueue-2.7.0.tar.gz, its SHA256 checked: machines with no
#      network (CI here) keep the pinned sources in such a folder of archives, as Buildroot
#      keeps its downloads in DL_DIR. ../shared/deps/ is that folder beside the CI's clone.
#   4. The network: a git clone of the pinned commit, unless FETCHCONTENT_FULLY_DISCONNECTED
#      is ON, stopped after WORKSPACE_DOWNLOAD_TIMEOUT seconds.
# When none works, the configure step still succeeds: workspace_add_libkqueue returns the
# reason in one line, and ch03-kqueue is skipped with it.

set(WORKSPACE_LIBKQUEUE_VERSION 2.7.0)
set(WORKSPACE_LIBKQUEUE_REPOSITORY https://github.com/mheily/libkqueue.git)
set(WORKSPACE_LIBKQUEUE_COMMIT 4e26305ec1b5c64630d5eaf3bcfc78bde6763694)  # tag v2.7.0
# The archive of that commit: git archive --prefix=libkqueue-2.7.0/ <commit> | gzip -n
set(WORKSPACE_LIBKQUEUE_SHA256 359702489ded4e466c721c5b02b0e569b914f13806b88c5846341efa5d05081b)

include(FetchContent)  # FETCHCONTENT_BASE_DIR, FETCHCONTENT_FULLY_DISCONNECTED
set(WORKSPACE_ARCHIVE_DIR "" CACHE PATH
    "Folder of pinned source archives (NAME-VERSION.tar.gz) used instead of the network; empty: the environment variable WORKSPACE_ARCHIVE_DIR")
set(WORKSPACE_DOWNLOAD_TIMEOUT 120 CACHE STRING
    "Seconds a download of a pinned source may take before the configure step gives up on it")

# Sets <out> to the folder of archives as an absolute path, or to "" if there is none.
# An empty cache variable takes the environment variable's value, also in a build folder
# configured before it was set. A relative path is taken from the folder the command was
# run in, as a reader typing it means it (FetchContent's own build runs elsewhere): the
# folder that `pwd`, started from here, inherits.
function(workspace_archive_dir out)
  set(folder "${WORKSPACE_ARCHIVE_DIR}")
  if(folder STREQUAL "" AND NOT "$ENV{WORKSPACE_ARCHIVE_DIR}" STREQUAL "")
    set(folder "$ENV{WORKSPACE_ARCHIVE_DIR}")
  endif()
  if(NOT folder STREQUAL "" AND NOT IS_ABSOLUTE "${folder}")
    execute_process(COMMAND pwd OUTPUT_VARIABLE working_directory OUTPUT_STRIP_TRAILING_WHITESPACE)
    get_filename_component(folder "${folder}" ABSOLUTE BASE_DIR "${working_directory}")
  endif()
  set_property(CACHE WORKSPACE_ARCHIVE_DIR PROPERTY VALUE "${folder}")
  set(${out} "${folder}" PARENT_SCOPE)
endfunction()

# Makes libkqueue's source available and adds it to the build. On success, defines the
# target workspace-libkqueue (link it: the static library, the threads it needs, and the
# folder of its <sys/event.h>) and sets <why_not> to ""; otherwise sets <why_not> to a
# one-line reason and adds nothing. The caller must have enabled the C language.
function(workspace_add_libkqueue why_not)
  set(version ${WORKSPACE_LIBKQUEUE_VERSION})
  string(SUBSTRING ${WORKSPACE_LIBKQUEUE_COMMIT} 0 8 short_commit)
  set(source_dir ${FETCHCONTENT_BASE_DIR}/libkqueue-src)
  set(binary_dir ${FETCHCONTENT_BASE_DIR}/libkqueue-build)
  set(subbuild_dir ${FETCHCONTENT_BASE_DIR}/libkqueue-subbuild)
  set(log ${FETCHCONTENT_BASE_DIR}/libkqueue-fetch.log)
  set(pin_file ${FETCHCONTENT_BASE_DIR}/libkqueue-pin.txt)  # what is in source_dir
  set(pin "${WORKSPACE_LIBKQUEUE_COMMIT} ${WORKSPACE_LIBKQUEUE_SHA256}")
  workspace_archive_dir(archive_dir)
  set(archive "${archive_dir}/libkqueue-${version}.tar.gz")

  set(populated_pin "")
  if(EXISTS ${pin_file})
    file(READ ${pin_file} populated_pin)
  endif()
  if(FETCHCONTENT_SOURCE_DIR_LIBKQUEUE)
    set(source_dir ${FETCHCONTENT_SOURCE_DIR_LIBKQUEUE})
    set(origin "FETCHCONTENT_SOURCE_DIR_LIBKQUEUE=${source_dir}")
  elseif(populated_pin STREQUAL pin AND EXISTS ${source_dir}/CMakeLists.txt)
    file(RELATIVE_PATH shown_source ${CMAKE_BINARY_DIR} ${source_dir})
    set(origin "the copy an earlier configure put in ${shown_source}")
  else()
    if(NOT archive_dir STREQUAL "" AND EXISTS "${archive}")
      file(SHA256 "${archive}" archive_sha256)
      if(NOT archive_sha256 STREQUAL WORKSPACE_LIBKQUEUE_SHA256)
        string(CONCAT reason "${archive} has SHA256 ${archive_sha256}, not the pinned "
               "${WORKSPACE_LIBKQUEUE_SHA256}: replace it with libkqueue ${version} at commit "
               "${short_commit}")
        set(${why_not} "${reason}" PARENT_SCOPE)
        return()
      endif()
      set(content -DURL=${archive} -DURL_HASH=SHA256=${WORKSPACE_LIBKQUEUE_SHA256})
      set(origin "${archive}")
    elseif(FETCHCONTENT_FULLY_DISCONNECTED)
      set(where "WORKSPACE_ARCHIVE_DIR is not set")
      if(archive_dir)
        set(where "${archive_dir} holds no libkqueue-${version}.tar.gz")
      endif()
      string(CONCAT reason "libkqueue ${version} was not fetched before, "
             "FETCHCONTENT_FULLY_DISCONNECTED is ON and ${where}: set WORKSPACE_ARCHIVE_DIR to a "
             "folder holding libkqueue-${version}.tar.gz (see README.md), or, with network "
             "access, turn FETCHCONTENT_FULLY_DISCONNECTED off")
      set(${why_not} "${reason}" PARENT_SCOPE)
      return()
    else()
      set(content -DGIT_REPOSITORY=${WORKSPACE_LIBKQUEUE_REPOSITORY}
                  -DGIT_TAG=${WORKSPACE_LIBKQUEUE_COMMIT})
      set(origin "${WORKSPACE_LIBKQUEUE_REPOSITORY}")
    endif()

    # In a process of its own (cmake/fetch-source.cmake says why), with a time limit. What
    # it printed goes to the log, which the reason names if it fails.
    message(STATUS "libkqueue ${version}: fetching commit ${short_commit} from ${origin}")
    file(REMOVE_RECURSE ${source_dir} ${subbuild_dir} ${pin_file})
    execute_process(
      COMMAND ${CMAKE_COMMAND} -DNAME=libkqueue -DSOURCE_DIR=${source_dir}
              -DBINARY_DIR=${binary_dir} -DSUBBUILD_DIR=${subbuild_dir} ${content}
              -DCMAKE_GENERATOR=${CMAKE_GENERATOR} -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
              -P ${PROJECT_SOURCE_DIR}/cmake/fetch-source.cmake
      TIMEOUT ${WORKSPACE_DOWNLOAD_TIMEOUT}
      RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    file(WRITE ${log} "${output}")
    if(NOT result EQUAL 0 OR NOT EXISTS ${source_dir}/CMakeLists.txt)
      string(REGEX MATCH "(fatal|error|Error): [^\n]*" first_error "${output}")
      if(result MATCHES "timeout")
        set(result "no answer within WORKSPACE_DOWNLOAD_TIMEOUT=${WORKSPACE_DOWNLOAD_TIMEOUT} s")
      elseif(first_error)
        string(REGEX REPLACE "unable to access '[^']*': " "" result "${first_error}")
      else()
        set(result "it failed")
      endif()
      file(RELATIVE_PATH shown_log ${CMAKE_SOURCE_DIR} ${log})
      string(CONCAT reason "libkqueue ${version} could not be fetched from ${origin} (${result}; "
             "see ${shown_log}): set WORKSPACE_ARCHIVE_DIR to a folder holding "
             "libkqueue-${version}.tar.gz (see README.md), or configure with network access")
      set(${why_not} "${reason}" PARENT_SCOPE)
      return()
    endif()
    file(WRITE ${pin_file} "${pin}")
  endif()
  message(STATUS "libkqueue ${version} (commit ${short_commit}), built by this build from "
                 "${origin}")

  # What libkqueue's own CMakeLists.txt needs, set for its folder only (this function's
  # variables are its variables):
  # - the static library only, linked into the program: nothing to install, no run-time path;
  set(ENABLE_SHARED OFF)
  set(ENABLE_STATIC ON)
  # - its version: it says 2.6.3, the number in its CMakeLists.txt, although tag v2.7.0 is
  #   this commit, and asks `git describe` for a release number. VERSION_OVERRIDE, its knob
  #   for packagers, gives the release's own number instead. (It still asks
  #   `git rev-parse HEAD` for its commit: unpacked from the archive inside this checkout,
  #   git answers with this checkout's commit, so the "Version 2.7.0 (...)" line it prints
  #   names ours. Harmless: only its version string, never its code, depends on it.)
  set(VERSION_OVERRIDE ${version})
  # - its configure step's own messages (that version line, some 30 "Looking for ..." lines)
  #   only at --log-level=STATUS or above, so the configure output is ours; its warnings
  #   and errors always show.
  set(CMAKE_MESSAGE_LOG_LEVEL WARNING)
  # - on a first configure, it sets the cache's CMAKE_INSTALL_PREFIX to /usr for the whole
  #   build ("a sane default"); this tells it the prefix is not a default it may change.
  set(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT OFF)
  # (Its CPack setup also writes CPackConfig.cmake to the top of this build folder: unused.)
  # Our compile and link options (warnings, -Werror in CI, the sanitizers) are directory
  # properties, which a new folder copies from its parent when it is added. libkqueue
  # builds with its own flags and its own -Werror, and GCC fails on it with ours
  # (sign-compare, pedantic), so its folder is added while this folder has none.
  get_directory_property(compile_options COMPILE_OPTIONS)
  get_directory_property(link_options LINK_OPTIONS)
  set_directory_properties(PROPERTIES COMPILE_OPTIONS "" LINK_OPTIONS "")
  # EXCLUDE_FROM_ALL: built only as what ch03-kqueue links, and out of `install`: its
  # install rules are written for a build of its own (absolute destinations, and its
  # <sys/event.h> named from the top-level source folder, which here is ours).
  add_subdirectory(${source_dir} ${binary_dir} EXCLUDE_FROM_ALL)
  set_directory_properties(PROPERTIES COMPILE_OPTIONS "${compile_options}"
                                      LINK_OPTIONS "${link_options}")

  # libkqueue's targets carry no include folder (its installed headers would be found in
  # /usr/include/kqueue), and the static library needs the threads library for its
  # monitoring thread: one target that has both. SYSTEM: our warnings are for our code.
  find_package(Threads REQUIRED)
  add_library(workspace-libkqueue INTERFACE)
  target_link_libraries(workspace-libkqueue INTERFACE kqueue_static Threads::Threads)
  target_include_directories(workspace-libkqueue SYSTEM INTERFACE ${source_dir}/include)
  set(${why_not} "" PARENT_SCOPE)
endfunction()
