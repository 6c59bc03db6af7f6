// ch02-fibers/thread_count.h: how many threads the process has, for --show-threads.
//
// Not part of the runtime: main.cpp calls it when main starts and after the fibers ran, to
// show that running them added no thread. The build compiles one of the three files:
//   thread_count_linux.cpp     the "Threads:" line of /proc/self/status
//   thread_count_macos.cpp     Mach's task_threads (compiled here for macOS, run on a Mac)
//   thread_count_windows.cpp   Toolhelp's snapshot of the system's threads, ours counted
#pragma once

// The number of threads in this process now. On failure it prints the OS's message and
// exits.
int count_threads();
