# Cross-compile the examples for Windows x86-64 with MinGW-w64 and run them under Wine.
#
# Used by the windows-mingw preset. Needs Debian's g++-mingw-w64-x86-64 and wine (wine64).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The "-posix" compiler uses the winpthreads thread model: GCC 12's default "-win32" model
# has no std::thread.
find_program(CMAKE_CXX_COMPILER NAMES x86_64-w64-mingw32-g++-posix REQUIRED)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

# Link the C++ runtime and winpthreads statically: the .exe then runs under Wine (or on a
# Windows machine) without MinGW's DLLs next to it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Each build has its own Wine prefix (made once per test run by the wine-prefix fixture)
# and no debug channels (Wine is chatty on stderr). Three DLLs are disabled (an empty
# override): mscoree and mshtml, so Wine offers no Mono or Gecko download, and winedbg, so
# a crashing program (ch01's bad pointer) just ends, as on Windows, instead of the crash
# debugger printing a backtrace into the program's stdout.
set(CMAKE_CROSSCOMPILING_EMULATOR
    env WINEPREFIX=${CMAKE_BINARY_DIR}/wine-prefix WINEDEBUG=-all
        WINEDLLOVERRIDES=winedbg.exe,mscoree,mshtml= wine)
