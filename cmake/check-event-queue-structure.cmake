# cmake -DSOURCE_DIR=<top of the repository> -P check-event-queue-structure.cmake
#
# The event-queue examples are written to be read side by side: the same sections in the
# same order, the same names for the same steps (kept by review), so that a diff between any two
# shows the OS difference. This check keeps them that way. The five event-queue examples are
# named below; ch03-epoll is the reference. (What they share that is not the queue is in
# support/, once, so nothing needs comparing there; ch03-poll is the abstraction over them,
# with the API's own names, and is not one of them.) The check
# fails
#   - if it compares fewer than the five (a folder renamed or gone);
#   - if the main.cpp files differ in their section banners, a title between two lines of
#     dashes:                                                  // ----...
#                                                              // The wait loop
#                                                              // ----...
#   - if a function or class has the same code in two main.cpp files but not the same
#     comments (the block just above it and the comments inside it), word for word: where the
#     code is the same, a diff between the two should show nothing there. "The same code" is
#     the same lines once comments and trailing blanks are taken out;
#   - if no function or class has the same code in two of them: that comparison would then
#     prove nothing.
cmake_minimum_required(VERSION 3.25)
set(reference ch03-epoll)
set(examples ch03-epoll ch03-kqueue ch03-iocp ch03-io-uring ch03-wepoll)
set(failed FALSE)
foreach(example IN LISTS examples)
  if(NOT EXISTS ${SOURCE_DIR}/${example}/main.cpp)
    message(FATAL_ERROR "${example}/main.cpp is missing: the check compares the five "
                        "event-queue examples (${examples})")
  endif()
  # A banner's title is the line between two dash lines.
  file(READ ${SOURCE_DIR}/${example}/main.cpp text)
  set(dashes "// -------------+\n")
  string(REGEX MATCHALL "\n${dashes}// [^\n]+\n${dashes}" banners "\n${text}")
  string(REGEX REPLACE "\n${dashes}// ([^\n]+)\n${dashes}" "\\1" sections_${example} "${banners}")
  if(NOT "${sections_${example}}" STREQUAL "${sections_${reference}}")  # ch03-epoll is read first
    string(REPLACE ";" "\n    " mine "${sections_${example}}")
    string(REPLACE ";" "\n    " theirs "${sections_${reference}}")
    message(SEND_ERROR "${example}/main.cpp and ${reference}/main.cpp differ in their sections:\n"
                       "  ${example}:\n    ${mine}\n  ${reference}:\n    ${theirs}")
    set(failed TRUE)
  endif()
endforeach()
# Same code, same comments. Each definition that starts at the left margin (a function or a
# class) is read with the comment block just above it. CMake lists split at ';' and treat
# '[' and ']' specially, so the text is encoded before it is cut into lines.
function(read_definitions example)
  file(READ ${SOURCE_DIR}/${example}/main.cpp text)
  string(REPLACE "@" "@A@" text "${text}")
  string(REPLACE ";" "@S@" text "${text}")
  string(REPLACE "[" "@L@" text "${text}")
  string(REPLACE "]" "@R@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(names "")
  set(block "")  # the comment lines just above the current line
  set(inside "")  # the definition being read, if any
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "[ ]*//.*|[ ]+$" "" code "${line}")
    string(REGEX MATCH "//.*" comment "${line}")
    string(REGEX REPLACE "^//[ ]*" "" comment "${comment}")
    if(inside)
      if(NOT code STREQUAL "")
        string(APPEND code_${inside} "${code}\n")
      endif()
      if(NOT comment STREQUAL "")
        string(APPEND comment_${inside} "${comment}\n")
      endif()
      if(code MATCHES "^}(@S@)?$")
        set(inside "")
        set(block "")
      endif()
      continue()
    elseif(code STREQUAL "" AND NOT comment STREQUAL "")
      string(APPEND block "${comment}\n")
      continue()
    elseif(code MATCHES "^[A-Za-z@]" AND NOT code MATCHES "@S@$")  # not a declaration
      # A class's name, or the name before the first "(": that of a function.
      string(REGEX MATCH "^(class|struct) [A-Za-z_]+|[A-Za-z_]+\\(" inside "${code}")
      string(REGEX REPLACE "^(class|struct) |\\($" "" inside "${inside}")
    endif()
    if(inside)
      list(APPEND names ${inside})
      set(code_${inside} "${code}\n")
      set(comment_${inside} "${block}")
      if(NOT comment STREQUAL "")
        string(APPEND comment_${inside} "${comment}\n")
      endif()
      if(code MATCHES "}(@S@)?$")
        set(inside "")  # a definition on one line
      endif()
    endif()
    set(block "")
  endforeach()
  set(definitions_${example} "${names}" PARENT_SCOPE)
  foreach(name IN LISTS names)
    set(code_${example}_${name} "${code_${name}}" PARENT_SCOPE)
    set(comment_${example}_${name} "${comment_${name}}" PARENT_SCOPE)
  endforeach()
endfunction()

# Sets <result> to the comment, decoded and indented, to be shown.
function(decode text result)
  string(REPLACE "@S@" ";" text "${text}")
  string(REPLACE "@L@" "[" text "${text}")
  string(REPLACE "@R@" "]" text "${text}")
  string(REPLACE "@A@" "@" text "${text}")
  string(REGEX REPLACE "\n$" "" text "${text}")
  string(REPLACE "\n" "\n      // " text "${text}")
  set(${result} "      // ${text}" PARENT_SCOPE)
endfunction()

foreach(example IN LISTS examples)
  read_definitions(${example})
endforeach()
set(shared_code_pairs 0)
set(remaining ${examples})
foreach(a IN LISTS examples)
  list(REMOVE_ITEM remaining ${a})
  foreach(b IN LISTS remaining)
    foreach(name IN LISTS definitions_${a})
      if(NOT name IN_LIST definitions_${b} OR NOT code_${a}_${name} STREQUAL code_${b}_${name})
        continue()
      endif()
      math(EXPR shared_code_pairs "${shared_code_pairs} + 1")
      if(NOT comment_${a}_${name} STREQUAL comment_${b}_${name})
        decode("${comment_${a}_${name}}" mine)
        decode("${comment_${b}_${name}}" theirs)
        message(SEND_ERROR "${name} has the same code in ${a}/main.cpp and ${b}/main.cpp but "
                           "not the same comments; word them the same:\n"
                           "  ${a}:\n${mine}\n  ${b}:\n${theirs}")
        set(failed TRUE)
      endif()
    endforeach()
  endforeach()
endforeach()
if(shared_code_pairs EQUAL 0)
  message(SEND_ERROR "No function or class has the same code in two main.cpp files: the "
                     "same-code-same-comments check would prove nothing.")
  set(failed TRUE)
endif()

if(failed)
  message(FATAL_ERROR "The event-queue examples have drifted apart (see above).")
endif()
string(REPLACE ";" "\n  " listing "${sections_${reference}}")
list(JOIN examples ", " names)
message("${names}: the same sections in main.cpp, in the same order:\n  ${listing}\n"
        "${shared_code_pairs} pairs of main.cpp files share a function or class with the same code, "
        "and its comments are the same too.")
