# The tests every event-queue program has, declared once: the five event-queue examples
# (ch03-epoll, ch03-kqueue, ch03-iocp, ch03-io-uring, ch03-wepoll), and the programs on
# ch03-poll's Poll (ch03-poll and ch08-reactor-executor, on each backend). Each folder's
# CMakeLists.txt calls this after its add_executable, with what only its OS says (and why,
# beside it), then declares the tests that are its own. Nothing here lists the programs: a
# folder copied from one of them gets these tests as soon as the top-level CMakeLists.txt
# adds it.
#
#   workspace_event_queue_tests(<program>
#       RESET <regex>      standard error when the server resets the connection
#       REFUSED <regex>    standard error when nothing listens: the OS's "connection refused"
#       [OUTPUT_AND_FAULTS_ONLY]   only the output test and the fault tests: the same
#                          main.cpp on another backend, whose other tests the first has
#       [SKIP_REGEX <regex>])      output that marks a test skipped, not failed (io_uring
#                          missing or forbidden)
#
# The expected output that is the program's own is in its folder: every file with a
# RECEIVED line, which shows the OS's event in the OS's terms (expected-output.txt, which
# README.md's block "output" must match too, expected-timeline.txt and
# expected-fault-{garbage,truncate,close}.txt). What every program prints alike is in one
# place: tools/event-queue-expected/ (the lines before any answer: expected-no-server.txt,
# expected-fault-no-answer.txt; a file of that name in the program's folder is used
# instead), and tools/expected-nothing.txt (arguments refused: nothing on standard output).
get_filename_component(WORKSPACE_EVENT_QUEUE_EXPECTED
                       ${CMAKE_CURRENT_LIST_DIR}/../tools/event-queue-expected ABSOLUTE)
set(WORKSPACE_LIBKQUEUE_TSAN_SUPPRESSIONS ${CMAKE_CURRENT_LIST_DIR}/libkqueue.tsan-suppressions)

# Sets <variable> to the folder's <file> if it has one, else to the shared one.
function(workspace_event_queue_expected variable file)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${file})
    set(${variable} ${CMAKE_CURRENT_SOURCE_DIR}/${file} PARENT_SCOPE)
  else()
    set(${variable} ${WORKSPACE_EVENT_QUEUE_EXPECTED}/${file} PARENT_SCOPE)
  endif()
endfunction()

# Under ThreadSanitizer, libkqueue's monitoring thread is reported for a race inside
# libkqueue that is not one (libkqueue.tsan-suppressions, beside this file, quotes the
# report and says why): suppressed by its function's name, for libkqueue only, in the tests
# named. Appended to TSAN_OPTIONS, so options a reader sets still apply.
function(workspace_suppress_libkqueue_races)
  if(WORKSPACE_SANITIZER MATCHES "thread" AND WORKSPACE_OS STREQUAL "linux" AND ARGN)
    set_property(TEST ${ARGN} APPEND PROPERTY ENVIRONMENT_MODIFICATION
      "TSAN_OPTIONS=string_append: suppressions='${WORKSPACE_LIBKQUEUE_TSAN_SUPPRESSIONS}'")
  endif()
endfunction()

function(workspace_event_queue_tests example)
  cmake_parse_arguments(PARSE_ARGV 1 queue "OUTPUT_AND_FAULTS_ONLY" "REFUSED;RESET;SKIP_REGEX" "")
  if(NOT queue_REFUSED OR NOT queue_RESET)
    message(FATAL_ERROR "workspace_event_queue_tests(${example}): give REFUSED and RESET")
  endif()
  workspace_event_queue_expected(no_server expected-no-server.txt)
  workspace_event_queue_expected(no_answer expected-fault-no-answer.txt)
  set(tests ${example})
  # Five requests 200 ms apart (the book uses 1000 ms): answers in reverse order, FINISHED.
  workspace_example_test(NAME ${example} TARGET ${example} WITH_DELAYSERVER
    ARGS --address {address} --requests 5 --step 200
    EXPECTED expected-output.txt README README.md BLOCK output)
  # A delay server that fails on purpose (--fault, see delayserver/README.md): three
  # requests, and after each delay, instead of the answer...
  # ...a reset: the OS's message (RESET), exit code 1.
  list(APPEND tests ${example}-fault-reset ${example}-fault-stall ${example}-fault-garbage
       ${example}-fault-truncate ${example}-fault-close)
  workspace_example_test(NAME ${example}-fault-reset TARGET ${example} WITH_DELAYSERVER
    SERVER_ARGS --fault=reset ARGS --address {address} --requests 3 --step 200
    EXIT 1 STDERR "${queue_RESET}"
    EXPECTED ${no_answer})
  # ...nothing, with the connection left open: --timeout ends the wait, exit code 1.
  workspace_example_test(NAME ${example}-fault-stall TARGET ${example} WITH_DELAYSERVER
    SERVER_ARGS --fault=stall ARGS --address {address} --requests 3 --step 200 --timeout 1500
    EXIT 1 STDERR "${example}: timed out with 0 of 3 responses"
    EXPECTED ${no_answer})
  # ...bytes that are not HTTP (garbage), the head and half the body (truncate), or no byte
  # at all (close): each is printed as it came, and the summary names every stream without
  # a complete 200 OK answer (a content-length equal to the body's size), exit code 1.
  foreach(fault IN ITEMS garbage truncate close)
    workspace_example_test(NAME ${example}-fault-${fault} TARGET ${example} WITH_DELAYSERVER
      SERVER_ARGS --fault=${fault} ARGS --address {address} --requests 3 --step 200
      EXIT 1 STDERR "stream 0 got no complete 200 OK answer"
      STDERR "stream 1 got no complete 200 OK answer"
      STDERR "stream 2 got no complete 200 OK answer"
      EXPECTED expected-fault-${fault}.txt)
  endforeach()
  if(queue_SKIP_REGEX)
    set_tests_properties(${tests} PROPERTIES SKIP_REGULAR_EXPRESSION "${queue_SKIP_REGEX}")
  endif()
  if(queue_OUTPUT_AND_FAULTS_ONLY)
    return()
  endif()
  # --timeline: one bar per stream after the summary.
  workspace_example_test(NAME ${example}-timeline TARGET ${example} WITH_DELAYSERVER
    ARGS --address {address} --requests 5 --step 200 --timeline
    EXPECTED expected-timeline.txt)
  # No server: a clear message naming the delay server, exit code 1, no hang. Nothing
  # listens on port 1 (a reserved port), so the connection is refused.
  workspace_example_test(NAME ${example}-no-server TARGET ${example}
    ARGS --address 127.0.0.1:1
    EXIT 1 STDERR "${queue_REFUSED}" STDERR "Is the delay server running"
    EXPECTED ${no_server})
  # Arguments refused before any connection is made: one line on what was wrong, the
  # usage, exit code 2, nothing on standard output. A bad count; a port no TCP connection
  # can have (the OS's resolver would take 99999 and try port 34463); a longest delay
  # (--requests times --step) above the delay server's limit (nothing listens on
  # 127.0.0.1:1: connecting would exit with 1).
  workspace_example_test(NAME ${example}-bad-arguments TARGET ${example}
    ARGS --requests 0
    EXIT 2 STDERR "--requests needs a whole number from 1 to 1000"
    EXPECTED ${WORKSPACE_EXPECTED_NOTHING})
  workspace_example_test(NAME ${example}-bad-port TARGET ${example}
    ARGS --address 127.0.0.1:99999
    EXIT 2 STDERR "the port in --address needs a whole number from 1 to 65535, not '99999'"
    EXPECTED ${WORKSPACE_EXPECTED_NOTHING})
  workspace_example_test(NAME ${example}-delay-too-long TARGET ${example}
    ARGS --address 127.0.0.1:1 --requests 1000 --step 10000
    EXIT 2 STDERR "--requests times --step, is 10000000 ms"
    STDERR "the delay server accepts at most 60000"
    EXPECTED ${WORKSPACE_EXPECTED_NOTHING})
  # --help and -h: the usage on standard output (README's usage block), exit code 0; an
  # unknown option: what was wrong and the usage on standard error, exit code 2.
  workspace_cli_tests(TARGET ${example} README README.md BLOCK usage LABELS examples)
  # Everything it opened (the queue, five sockets) is closed at exit: checked by valgrind
  # --track-fds=yes, or on Windows by a copy of the example with
  # tools/leak-checks/handle-audit.cpp linked in, which lists any handle still open after main.
  # Steps of 200 ms, as above: at 50 ms, valgrind on a loaded machine once reported two
  # answers out of their order (ch03-kqueue, stream 0 before stream 1).
  set(leak_check CHECK_FDS)
  if(WIN32)
    set(leak_check CHECK_HANDLES)
  endif()
  workspace_example_test(NAME ${example}-closes-everything TARGET ${example} WITH_DELAYSERVER
    ${leak_check} ARGS --address {address} --requests 5 --step 200
    EXPECTED expected-output.txt)
endfunction()

