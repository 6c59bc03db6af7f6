# cmake -DSOURCE_DIR=<top of the repository> -P check-event-queue-structure.cmake
#
# The event-queue examples are written to be read side by side: the same sections in the
# same order, and the same functions for the same steps, so that a diff between any two
# shows the OS difference. This check keeps them that way. An event-queue example is a
# folder with the shared support file, arguments_and_report.hpp; ch03-epoll is the
# reference. ch03-poll belongs here on purpose: it tells the same story on its Poll API,
# and a diff against ch03-epoll shows what the abstraction changes. The check fails
#   - if the support files are not byte for byte the same as ch03-epoll's (each folder
#     keeps its own copy so that it builds alone; a fix is made once and copied);
#   - if the main.cpp files differ in their section banners, a title between two lines of
#     dashes:                                                  // ----...
#                                                              // The wait loop
#                                                              // ----...
#     or in the section in which each of the shared functions below is defined.
cmake_minimum_required(VERSION 3.25)
set(support_file arguments_and_report.hpp)
set(reference ch03-epoll)
file(GLOB support_files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*/${support_file})
set(examples ${reference})
foreach(path IN LISTS support_files)
  get_filename_component(example ${path} DIRECTORY)
  if(NOT example STREQUAL reference)
    list(APPEND examples ${example})
  endif()
endforeach()
set(shared_functions create_queue connect_to build_request send_all register_interest wait_loop
    read_stream print_response main)

set(failed FALSE)
file(READ ${SOURCE_DIR}/${reference}/${support_file} reference_support)
foreach(example IN LISTS examples)
  file(READ ${SOURCE_DIR}/${example}/${support_file} support)
  if(NOT support STREQUAL reference_support)
    message(SEND_ERROR "${example}/${support_file} differs from ${reference}/${support_file}; "
                       "make the change in one and copy it to the others:\n"
                       "  diff ${reference}/${support_file} ${example}/${support_file}")
    set(failed TRUE)
  endif()
endforeach()

foreach(example IN LISTS examples)
  file(STRINGS ${SOURCE_DIR}/${example}/main.cpp lines)
  set(sections "")
  set(functions "")
  set(section "(before the first section)")
  set(previous "")
  set(before_previous "")
  foreach(line IN LISTS lines)
    # A banner's title is the line between two dash lines: seen when the second arrives.
    if(line MATCHES "^// -------------+$" AND before_previous MATCHES "^// -------------+$"
       AND previous MATCHES "^// (.+)$")
      set(section "${CMAKE_MATCH_1}")
      list(APPEND sections "${section}")
    elseif(line MATCHES "^(\\[\\[noreturn\\]\\] )?[A-Za-z_:<>]+[&*]? ([a-z_]+)\\(")
      set(name "${CMAKE_MATCH_2}")
      # A definition, not a declaration ("bool read_stream(Stream& stream);").
      if(name IN_LIST shared_functions AND NOT line MATCHES "\\);")
        list(APPEND functions "${name} in '${section}'")
      endif()
    endif()
    set(before_previous "${previous}")
    set(previous "${line}")
  endforeach()
  set(sections_${example} "${sections}")
  set(functions_${example} "${functions}")
  list(LENGTH sections section_count)
  list(LENGTH functions function_count)
  message("${example}/main.cpp: ${section_count} sections, ${function_count} shared functions")
endforeach()

list(LENGTH shared_functions expected_count)
list(LENGTH functions_${reference} reference_count)
if(NOT reference_count EQUAL expected_count)
  message(SEND_ERROR "${reference}/main.cpp defines ${reference_count} of the ${expected_count} "
                     "shared functions: ${functions_${reference}}")
  set(failed TRUE)
endif()
foreach(example IN LISTS examples)
  foreach(what IN ITEMS sections functions)
    if(NOT "${${what}_${example}}" STREQUAL "${${what}_${reference}}")
      string(REPLACE ";" "\n    " mine "${${what}_${example}}")
      string(REPLACE ";" "\n    " theirs "${${what}_${reference}}")
      message(SEND_ERROR "${example}/main.cpp and ${reference}/main.cpp differ in their ${what}:\n"
                         "  ${example}:\n    ${mine}\n  ${reference}:\n    ${theirs}")
      set(failed TRUE)
    endif()
  endforeach()
endforeach()
if(failed)
  message(FATAL_ERROR "The event-queue examples have drifted apart (see above).")
endif()
string(REPLACE ";" "\n  " listing "${functions_${reference}}")
list(JOIN examples ", " names)
message("${names}: the same ${support_file}, and the same sections and functions in "
        "main.cpp, in the same order:\n  ${listing}")
