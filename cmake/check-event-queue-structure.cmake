# cmake -DSOURCE_DIR=<top of the repository> -P check-event-queue-structure.cmake
#
# ch03-epoll, ch03-kqueue and ch03-iocp are written to be read side by side: the same
# sections in the same order, and the same functions for the same steps, so that a diff
# between any two shows the OS difference. This check keeps them that way. For each
# main.cpp it lists
#   - the section banners, a title between two lines of dashes:  // ----...
#                                                               // The wait loop
#                                                               // ----...
#   - the section in which each of the shared functions below is defined,
# and fails if the three lists are not the same.
cmake_minimum_required(VERSION 3.25)
set(examples ch03-epoll ch03-kqueue ch03-iocp)
set(shared_functions parse_arguments build_request connect_to send_all create_queue
    register_interest read_stream print_response wait_loop is_complete_ok_answer print_summary
    print_timeline main)

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
      if(name IN_LIST shared_functions)
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

set(failed FALSE)
list(GET examples 0 reference)
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
message("All three have the same sections and functions, in the same order:\n  ${listing}")
