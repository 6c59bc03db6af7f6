# The tests every event-queue example has (ch03-epoll, ch03-kqueue, ch03-iocp,
# ch03-io-uring, ch03-wepoll), declared once. Each example's CMakeLists.txt calls this after
# its add_executable, with what only its OS says (and why, beside it), then declares the
# tests that are its own. Nothing here lists the examples: a folder copied from one of them
# gets these tests as soon as the top-level CMakeLists.txt adds it.
#
#   workspace_event_queue_tests(<example>
#       REFUSED <regex>   standard error when nothing listens: the OS's "connection refused"
#       RESET <regex>)    standard error when the server resets the connection
#
# The expected output that is the example's own is in its folder: every file with a
# RECEIVED line, which shows the OS's event in the OS's terms (expected-output.txt, which
# README.md's block "output" must match too, expected-timeline.txt and
# expected-fault-{garbage,truncate,close}.txt). What every example prints alike is in one
# place: tools/event-queue-expected/ (the lines before any answer), and
# tools/expected-nothing.txt (arguments refused: nothing on standard output).
get_filename_component(WORKSPACE_EVENT_QUEUE_EXPECTED
                       ${CMAKE_CURRENT_LIST_DIR}/../tools/event-queue-expected ABSOLUTE)

function(workspace_event_queue_tests example)
  cmake_parse_arguments(PARSE_ARGV 1 queue "" "REFUSED;RESET" "")
  if(NOT queue_REFUSED OR NOT queue_RESET)
    message(FATAL_ERROR "workspace_event_queue_tests(${example}): give REFUSED and RESET")
  endif()
  set(shared ${WORKSPACE_EVENT_QUEUE_EXPECTED})
  # Five requests 200 ms apart (the book uses 1000 ms): answers in reverse order, FINISHED.
  workspace_example_test(NAME ${example} TARGET ${example} WITH_DELAYSERVER
    ARGS --address {address} --requests 5 --step 200
    EXPECTED expected-output.txt README README.md BLOCK output)
  # --timeline: one bar per stream after the summary.
  workspace_example_test(NAME ${example}-timeline TARGET ${example} WITH_DELAYSERVER
    ARGS --address {address} --requests 5 --step 200 --timeline
    EXPECTED expected-timeline.txt)
  # No server: a clear message naming the delay server, exit code 1, no hang. Nothing
  # listens on port 1 (a reserved port), so the connection is refused.
  workspace_example_test(NAME ${example}-no-server TARGET ${example}
    ARGS --address 127.0.0.1:1
    EXIT 1 STDERR "${queue_REFUSED}" STDERR "Is the delay server running"
    EXPECTED ${shared}/expected-no-server.txt)
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
  if(WIN32)
    set(leak_check CHECK_HANDLES)
  else()
    set(leak_check CHECK_FDS)
  endif()
  workspace_example_test(NAME ${example}-closes-everything TARGET ${example} WITH_DELAYSERVER
    ${leak_check} ARGS --address {address} --requests 5 --step 200
    EXPECTED expected-output.txt)

  # A delay server that fails on purpose (--fault, see delayserver/README.md): three
  # requests, and after each delay, instead of the answer...
  # ...a reset: the OS's message (RESET), exit code 1.
  workspace_example_test(NAME ${example}-fault-reset TARGET ${example} WITH_DELAYSERVER
    SERVER_ARGS --fault=reset ARGS --address {address} --requests 3 --step 200
    EXIT 1 STDERR "${queue_RESET}"
    EXPECTED ${shared}/expected-fault-no-answer.txt)
  # ...nothing, with the connection left open: --timeout ends the wait, exit code 1.
  workspace_example_test(NAME ${example}-fault-stall TARGET ${example} WITH_DELAYSERVER
    SERVER_ARGS --fault=stall ARGS --address {address} --requests 3 --step 200 --timeout 1500
    EXIT 1 STDERR "${example}: timed out with 0 of 3 responses"
    EXPECTED ${shared}/expected-fault-no-answer.txt)
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
endfunction()
