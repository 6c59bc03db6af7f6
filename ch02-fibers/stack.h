// ch02-fibers/stack.h: a fiber's stack, memory from the OS with a guard page below it.
//
// Each fiber needs a stack of its own, as a thread has. The memory comes straight from the
// OS, page by page, so that the lowest page can be made inaccessible: a fiber that overflows
// its stack then faults on that guard page at once (SIGSEGV; SIGBUS on macOS; on Windows an
// access violation) instead of silently writing over whatever lies below. Thread stacks have
// the same guard.
//
// The build compiles exactly one of the two files that implement this header, chosen by OS:
//   stack_posix.cpp     mmap, then mprotect the lowest page to no access (Linux, macOS)
//   stack_windows.cpp   VirtualAlloc, then VirtualProtect the lowest page to no access
// A first reading of main.cpp may skip them: what matters there is that a fiber has a stack.
#pragma once

#include <cstddef>

// [allocation, allocation + guard) is the guard page: no access allowed, so the first
// write past the end of the stack faults. [limit, base) is the usable stack, which grows
// down from base. switch_stack and the sanitizers need those two; the OS needs the whole.
struct FiberStack {
    void* allocation = nullptr;
    std::size_t allocation_bytes = 0;
    void* limit = nullptr;  // the lowest usable address, just above the guard page
    void* base = nullptr;   // one past the highest usable address
};

// Asks the OS for usable_bytes of stack and one guard page below them. On failure it prints
// the OS's message and exits, as every OS call in this folder does.
FiberStack allocate_stack(std::size_t usable_bytes);

// Gives the whole allocation, guard page included, back to the OS.
void free_stack(const FiberStack& stack);
