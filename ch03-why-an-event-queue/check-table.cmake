# cmake -DCOMMAND=<the program, with its delay server launcher and arguments>
#       -DREQUESTS=<N> -DSTEP=<MS> -P check-table.cmake
#
# Runs ch03-why-an-event-queue once and checks what its table claims, as ratios with wide
# margins (a loaded machine, a sanitizer or an emulator stretches every time, so no time
# is compared with a fixed number). With L the longest delay (N * STEP) and S the sum of
# the delays (N(N+1)/2 * STEP):
#   - every way got every answer right, and the program exited with 0;
#   - blocking, one after another, took at least S (the server answers no sooner);
#   - each other way took at least L, and less than (L + S) / 2: closer to the longest
#     delay than to the sum, so its waits overlapped;
#   - the busy loop used at least ten times the CPU time of epoll, and at least a tenth of
#     its own wall time (a busy loop that slept between its questions fails here); the
#     other three ways used less than a tenth of theirs ("almost none");
#   - epoll asked the OS at most ten times per request, and the busy loop at least ten
#     times as often as epoll.
cmake_minimum_required(VERSION 3.25)
foreach(variable IN ITEMS COMMAND REQUESTS STEP)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "check-table.cmake needs -D${variable}=...")
  endif()
endforeach()

execute_process(COMMAND ${COMMAND} RESULT_VARIABLE exit_code
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 100)
message("${out}--- standard error ---\n${err}--- exit code: ${exit_code}\n")
set(problems "")
# Adds one problem; its words may come in several strings, joined as they are.
macro(problem)
  string(CONCAT text ${ARGV})
  list(APPEND problems "${text}")
endmacro()
if(NOT exit_code STREQUAL "0")
  problem("exit code ${exit_code}, expected 0")
endif()

# The rows: the way's name, "K of N", wall ms, CPU ms (one decimal: read here in tenths of
# a millisecond), threads, OS calls.
set(ways one_after_another thread_per_request busy_loop epoll)
set(name_one_after_another "blocking, one after another")
set(name_thread_per_request "blocking, a thread per request")
set(name_busy_loop "busy loop, non-blocking")
set(name_epoll "epoll")
foreach(way IN LISTS ways)
  set(pattern "\n${name_${way}} +([0-9]+) of ([0-9]+) +([0-9]+) +([0-9]+)\\.([0-9]) +([0-9]+) +([0-9]+)\n")
  if(NOT out MATCHES "${pattern}")
    problem("no table row for '${name_${way}}'")
    set(wall_${way} 0)
    set(cpu_${way} 0)
    set(tenths_${way} 0)
    set(calls_${way} 0)
    continue()
  endif()
  if(NOT CMAKE_MATCH_1 EQUAL REQUESTS OR NOT CMAKE_MATCH_2 EQUAL REQUESTS)
    problem("${name_${way}}: ${CMAKE_MATCH_1} of ${CMAKE_MATCH_2} answers right, "
            "expected ${REQUESTS} of ${REQUESTS}")
  endif()
  set(wall_${way} ${CMAKE_MATCH_3})
  set(cpu_${way} "${CMAKE_MATCH_4}.${CMAKE_MATCH_5}")  # as printed, for the messages
  math(EXPR tenths_${way} "${CMAKE_MATCH_4} * 10 + ${CMAKE_MATCH_5}")
  set(calls_${way} ${CMAKE_MATCH_7})
endforeach()

math(EXPR longest "${REQUESTS} * ${STEP}")
math(EXPR sum "${REQUESTS} * (${REQUESTS} + 1) / 2 * ${STEP}")
math(EXPR halfway "(${longest} + ${sum}) / 2")
message("longest delay L = ${longest} ms, sum of the delays S = ${sum} ms, (L + S) / 2 = ${halfway} ms")

if(wall_one_after_another LESS sum)
  problem("${name_one_after_another}: ${wall_one_after_another} ms, less than the "
          "sum of the delays (${sum} ms)")
endif()
foreach(way IN ITEMS thread_per_request busy_loop epoll)
  if(wall_${way} LESS longest OR NOT wall_${way} LESS halfway)
    problem("${name_${way}}: ${wall_${way}} ms, expected from the longest delay "
            "(${longest} ms) to less than ${halfway} ms")
  endif()
endforeach()
# The CPU time. A tenth of W ms is W tenths of a ms.
math(EXPR ten_times "10 * ${tenths_epoll}")
if(tenths_busy_loop LESS ten_times)
  problem("${name_busy_loop}: ${cpu_busy_loop} ms of CPU time, less than ten times the "
          "${cpu_epoll} ms of epoll")
endif()
# A tenth, not all: on a loaded machine the busy loop shares its core with other programs
# (here, 2 cores at a load of 6 gave it a fifth). A loop that sleeps 1 ms between its
# rounds of questions used a thirtieth here.
if(tenths_busy_loop LESS wall_busy_loop)
  problem("${name_busy_loop}: ${cpu_busy_loop} ms of CPU time, less than a tenth of its "
          "${wall_busy_loop} ms on the clock: it did not keep a core busy")
endif()
# Almost none: starting five threads costs some (50 ms under QEMU, which sets up each
# thread's CPU state), but far less than a tenth of the time the ways wait. A queue whose
# thread does not sleep fails here.
foreach(way IN ITEMS one_after_another thread_per_request epoll)
  if(NOT tenths_${way} LESS wall_${way})
    problem("${name_${way}}: ${cpu_${way}} ms of CPU time, not less than a tenth of its "
            "${wall_${way}} ms on the clock")
  endif()
endforeach()

# The OS calls: epoll's thread is woken when there is news, a handful of times per request
# (its answer, then end of file: two waits and two reads at most, when they come apart). A
# queue that polls with a short timeout fails here.
math(EXPR handful "10 * ${REQUESTS}")
if(calls_epoll GREATER handful)
  problem("epoll: ${calls_epoll} OS calls, more than ten per request (${handful})")
endif()
math(EXPR ten_times "10 * ${calls_epoll}")
if(calls_busy_loop LESS ten_times)
  problem("${name_busy_loop}: ${calls_busy_loop} OS calls, less than ten times epoll's "
          "${calls_epoll}")
endif()

if(problems)
  string(REPLACE ";" "\n  " listing "${problems}")
  message(FATAL_ERROR "The table does not show what the example claims:\n  ${listing}")
endif()
message("The table shows what the example claims: one after another took the sum of the "
        "delays, the other ways about the longest; the busy loop used ${cpu_busy_loop} ms of "
        "CPU time in ${wall_busy_loop} ms, epoll ${cpu_epoll} ms in ${wall_epoll} ms.")
