// ch02-fibers/stack_windows.cpp: a fiber's stack on Windows: VirtualAlloc, and a guard page
// by VirtualProtect.
//
// What stack.h declares, for Windows. Compare stack_posix.cpp: the same two functions, the
// same steps, with Linux's calls. Run `ch02-fibers --overflow` to see the guard page at work
// (an access violation; under Wine, Wine itself dies of the SIGSEGV).
#include <windows.h>

#include <cstdio>
#include <cstdlib>

#include "stack.h"

namespace {

// Every OS call is checked on the next line: the error code from GetLastError, in the
// system's words (FormatMessage). (thread_count_windows.cpp has the same helper: each file
// stands on its own.)
[[noreturn]] void fail(const char* call) {
    const DWORD error = GetLastError();
    char text[512] = "";
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, error, 0,
                   text, sizeof text, nullptr);
    std::fprintf(stderr, "ch02-fibers: %s failed (error %lu): %s\n", call, error, text);
    std::exit(1);
}

std::size_t page_size() {
    SYSTEM_INFO system;
    GetSystemInfo(&system);  // cannot fail
    return system.dwPageSize;
}

}  // namespace

FiberStack allocate_stack(std::size_t usable_bytes) {
    const std::size_t guard_bytes = page_size();
    FiberStack stack;
    stack.allocation_bytes = guard_bytes + usable_bytes;
    stack.allocation =
        VirtualAlloc(nullptr, stack.allocation_bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (stack.allocation == nullptr) {
        fail("VirtualAlloc");
    }
    DWORD previous_protection = 0;
    if (!VirtualProtect(stack.allocation, guard_bytes, PAGE_NOACCESS, &previous_protection)) {
        fail("VirtualProtect");
    }
    stack.limit = static_cast<std::byte*>(stack.allocation) + guard_bytes;
    stack.base = static_cast<std::byte*>(stack.allocation) + stack.allocation_bytes;
    return stack;
}

void free_stack(const FiberStack& stack) {
    if (!VirtualFree(stack.allocation, 0, MEM_RELEASE)) {  // size 0: the whole reservation
        fail("VirtualFree");
    }
}
