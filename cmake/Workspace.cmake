# The few CMake helpers every example shares, one concern per file. Nothing here is needed
# to read an example: its own CMakeLists.txt says which platform it needs and what its
# tests expect.
#
#   Platform.cmake         the target's OS and CPU, warnings and sanitizers, the emulator
#                          a cross build's tests run under (Wine's prefix)
#   HostTools.cmake        the tools the tests run on the build machine: the checker, the
#                          delay-server launcher, the delay server
#   ExampleList.cmake      what this build has of each example, and why not: the list
#                          ./run-example reads (<build>/examples.tsv), its format, its test
#   ExampleTests.cmake     how an example's test is declared, and the leak checks
#   EventQueueTests.cmake  the tests every event-queue example has, declared once
#   SourceChecks.cmake     checks of the sources (structure, docs, house style) and of a
#                          program's imports
include(${CMAKE_CURRENT_LIST_DIR}/Platform.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/ExampleList.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/HostTools.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/ExampleTests.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/EventQueueTests.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/SourceChecks.cmake)
