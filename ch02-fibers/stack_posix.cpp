// ch02-fibers/stack_posix.cpp: a fiber's stack on Linux and macOS: mmap, and a guard page
// by mprotect.
//
// What stack.h declares, for Linux and macOS (and the BSDs). Compare stack_windows.cpp: the
// same two functions, the same steps, with Windows' calls. Run
// `./run-example ch02-fibers --overflow` to see the guard page at work: SIGSEGV on Linux,
// SIGBUS on macOS, which reports an access to a page it has but forbids as a bus error.
// For macOS this file is compiled here (the macos-arm64 and macos-x86_64 presets) but not
// run (no Mac among the test machines); the one difference, MAP_STACK, is below.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "stack.h"

namespace {

// Every OS call is checked on the next line: errno, in the C library's words (strerror).
// (thread_count_linux.cpp has the same helper: each file stands on its own.)
[[noreturn]] void fail(const char* call) {
    std::fprintf(stderr, "ch02-fibers: %s: %s\n", call, std::strerror(errno));
    std::exit(1);
}

std::size_t page_size() {
    const long bytes = sysconf(_SC_PAGESIZE);
    if (bytes <= 0) {
        fail("sysconf(_SC_PAGESIZE)");
    }
    return static_cast<std::size_t>(bytes);
}

// MAP_STACK tells Linux (and the BSDs; OpenBSD insists on it) that the mapping is a stack.
// macOS has no such flag and needs none: there the mapping is plain anonymous memory.
#ifdef MAP_STACK
constexpr int stack_mapping_flag = MAP_STACK;
#else
constexpr int stack_mapping_flag = 0;  // macOS
#endif

}  // namespace

FiberStack allocate_stack(std::size_t usable_bytes) {
    const std::size_t guard_bytes = page_size();
    FiberStack stack;
    stack.allocation_bytes = guard_bytes + usable_bytes;
    stack.allocation = mmap(nullptr, stack.allocation_bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | stack_mapping_flag,  // no file; a stack
                            -1, 0);
    if (stack.allocation == MAP_FAILED) {
        fail("mmap");
    }
    if (mprotect(stack.allocation, guard_bytes, PROT_NONE) != 0) {
        fail("mprotect");
    }
    stack.limit = static_cast<std::byte*>(stack.allocation) + guard_bytes;
    stack.base = static_cast<std::byte*>(stack.allocation) + stack.allocation_bytes;
    return stack;
}

void free_stack(const FiberStack& stack) {
    if (munmap(stack.allocation, stack.allocation_bytes) != 0) {
        fail("munmap");
    }
}
