# Which platform the examples are built for, and how the build treats them there: the
# warning flags and sanitizers (workspace_set_warnings), the target's OS and CPU
# (workspace_detect_target), and the emulator a cross build's tests run under
# (workspace_add_emulator_setup: Wine's prefix, made once per test run).

# Warnings on everywhere; errors where WORKSPACE_WERROR is on, and always when the CI
# environment variable is set (as in .ci/run): also in a build folder that ./run-example
# configured before, whose cache says OFF.
function(workspace_set_warnings)
  option(WORKSPACE_WERROR "Treat compiler warnings as errors (always, when CI is set)" OFF)
  if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" STREQUAL "false")
    set(WORKSPACE_WERROR ON)
    set(WORKSPACE_WERROR ON PARENT_SCOPE)  # for the host tools' build (HostTools.cmake)
  endif()
  # WORKSPACE_SANITIZER (set by the asan and tsan presets): build everything, the examples
  # and the host tools alike, with these sanitizers. Any report fails the test it happens
  # in: UBSan stops at the first report (-fno-sanitize-recover), ASan always does, and
  # TSan makes the process exit with code 66.
  set(WORKSPACE_SANITIZER "" CACHE STRING "Sanitizers to build with (address,undefined or thread)")
  if(WORKSPACE_SANITIZER)
    add_compile_options(-fsanitize=${WORKSPACE_SANITIZER} -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${WORKSPACE_SANITIZER})
  endif()
  if(MSVC)
    add_compile_options(/W4 /permissive- /utf-8 $<$<BOOL:${WORKSPACE_WERROR}>:/WX>)
  else()
    add_compile_options(-Wall -Wextra -Wpedantic $<$<BOOL:${WORKSPACE_WERROR}>:-Werror>)
  endif()
endfunction()

# Sets WORKSPACE_OS (linux, macos, windows, freebsd, ...) and WORKSPACE_CPU (x86_64,
# aarch64, or what CMake reports) for the platform the examples are built for, and
# WORKSPACE_EMULATOR_NOTE (", tests run under <emulator>", or "") for the configure step.
macro(workspace_detect_target)
  if(WIN32)
    set(WORKSPACE_OS windows)
  elseif(APPLE)
    set(WORKSPACE_OS macos)
  else()
    string(TOLOWER "${CMAKE_SYSTEM_NAME}" WORKSPACE_OS)
  endif()
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" WORKSPACE_CPU)
  string(REGEX REPLACE "^(amd64|x64)$" "x86_64" WORKSPACE_CPU "${WORKSPACE_CPU}")
  string(REGEX REPLACE "^arm64$" "aarch64" WORKSPACE_CPU "${WORKSPACE_CPU}")
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR " " emulator)
  string(REGEX REPLACE ".+" ", tests run under \\0" WORKSPACE_EMULATOR_NOTE "${emulator}")
endmacro()

# Wine needs a prefix (its C: drive and registry) before it runs anything. Making one takes
# seconds, so the wine-prefix fixture makes it once, before the first test that needs it,
# instead of letting parallel tests race to create it. Its setup then starts one wineserver
# (the process every Wine program of the prefix talks to) that stays until the cleanup
# stops it, instead of one started and ended around every program (Debian's wineserver
# ends as soon as its last program does): the Windows tests take a third of the time.
# The tests with the handle audit run alone (CHECK_HANDLES, in ExampleTests.cmake): Wine 8's
# wineserver crashed when the audit listed the system's handles while other Wine programs
# started. Sets WORKSPACE_EMULATOR_FIXTURE to the fixture every test that runs a program
# requires (ExampleTests.cmake); it stays empty without Wine.
function(workspace_add_emulator_setup)
  if(CMAKE_CROSSCOMPILING_EMULATOR MATCHES "wine")
    set(WORKSPACE_EMULATOR_FIXTURE wine-prefix PARENT_SCOPE)
    set(environment ${CMAKE_CROSSCOMPILING_EMULATOR})  # env WINEPREFIX=... ... wine
    list(POP_BACK environment)
    # After the prefix is made and its first server gone: the lasting server, and Wine's
    # own background programs (services.exe, explorer.exe, ...), which stay as long as it
    # does. Started here, with no output of their own: started by a test, they would hold
    # that test's output open, and ctest would wait for them.
    # A lasting server left by an interrupted run would make `wineserver --wait` wait for
    # ever: it is stopped first.
    add_test(NAME wine-prefix
             COMMAND ${environment} sh -c
                     "{ wineserver --kill || true; } 2>/dev/null && \
                      wine wineboot --init && wineserver --wait && \
                      { wineserver --persistent && wine wineboot; } </dev/null >/dev/null 2>&1")
    # "|| true": a server that is already gone needs no stopping.
    add_test(NAME wine-server-stop COMMAND ${environment} sh -c "wineserver --kill || true")
    set_tests_properties(wine-prefix PROPERTIES FIXTURES_SETUP wine-prefix TIMEOUT 180)
    set_tests_properties(wine-server-stop PROPERTIES FIXTURES_CLEANUP wine-prefix)
  endif()
endfunction()
