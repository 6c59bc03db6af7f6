# cmake -DSOURCE_DIR=<top of the repository> -P ch08-reactor-executor/check-sources.cmake
#
# What ch08-reactor-executor promises about its own sources, checked: nothing of ch03-poll
# is copied here; its Poll and its support header come through the build.
cmake_minimum_required(VERSION 3.25)
set(folder ${SOURCE_DIR}/ch08-reactor-executor)
set(failed FALSE)
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
