// ch02-fibers/thread_count_windows.cpp: the threads of this process, from Toolhelp.
//
// What thread_count.h declares, for Windows: Toolhelp's snapshot lists every thread of the
// system, with the process each belongs to; we count ours. Compare thread_count_linux.cpp.
// Run `ch02-fibers --show-threads`: the count is the same before and after.
#include <windows.h>
// windows.h first: tlhelp32.h needs its types.
#include <tlhelp32.h>

#include <cstdio>
#include <cstdlib>

#include "thread_count.h"

namespace {

// Every OS call is checked on the next line: the error code from GetLastError, in the
// system's words (FormatMessage). (stack_windows.cpp has the same helper: each file stands
// on its own.)
[[noreturn]] void fail(const char* call) {
    const DWORD error = GetLastError();
    char text[512] = "";
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, error, 0,
                   text, sizeof text, nullptr);
    std::fprintf(stderr, "ch02-fibers: %s failed (error %lu): %s\n", call, error, text);
    std::exit(1);
}

}  // namespace

int count_threads() {
    const HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);  // 0: all processes
    if (snapshot == INVALID_HANDLE_VALUE) {
        fail("CreateToolhelp32Snapshot");
    }
    const DWORD this_process = GetCurrentProcessId();
    THREADENTRY32 entry{};
    entry.dwSize = sizeof entry;  // Toolhelp checks the size of the record we pass
    if (!Thread32First(snapshot, &entry)) {
        fail("Thread32First");
    }
    int threads = 0;
    do {
        threads += entry.th32OwnerProcessID == this_process ? 1 : 0;
    } while (Thread32Next(snapshot, &entry));
    if (GetLastError() != ERROR_NO_MORE_FILES) {  // the normal end of the list
        fail("Thread32Next");
    }
    if (!CloseHandle(snapshot)) {
        fail("CloseHandle");
    }
    return threads;
}
