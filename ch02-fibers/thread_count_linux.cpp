// ch02-fibers/thread_count_linux.cpp: the threads of this process, from /proc/self/status.
//
// What thread_count.h declares, for Linux: the kernel keeps a "Threads:" line in the
// process's status file. Compare thread_count_windows.cpp. Run
// `./run-example ch02-fibers --show-threads`: the count is the same before and after.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "thread_count.h"

namespace {

// Every OS call is checked on the next line: errno, in the C library's words (strerror).
// (stack_posix.cpp has the same helper: each file stands on its own.)
[[noreturn]] void fail(const char* call) {
    std::fprintf(stderr, "ch02-fibers: %s: %s\n", call, std::strerror(errno));
    std::exit(1);
}

}  // namespace

int count_threads() {
    std::ifstream status("/proc/self/status");
    if (!status) {
        fail("open /proc/self/status");
    }
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("Threads:")) {
            return std::atoi(line.c_str() + std::strlen("Threads:"));
        }
    }
    std::fprintf(stderr, "ch02-fibers: no Threads: line in /proc/self/status\n");
    std::exit(1);
}
