// ch02-fibers/stack_overflow.h: a function that runs a fiber off the end of its stack, for
// --overflow.
//
// main.cpp's run_overflow calls it on a fiber's 64 KiB stack: the fiber dies on the guard
// page below the stack (stack.h), with SIGSEGV (SIGBUS on macOS; on Windows an access
// violation), as a thread does on its own stack's guard page. Run `./run-example ch02-fibers
// --overflow`.
#pragma once

// --overflow's recursion stops here, at a depth it never reaches: a kilobyte per call, so a
// gigabyte of stack. It exists so that the compiler sees a way out (GCC warns about a
// function that can only call itself).
constexpr int max_overflow_depth = 1024 * 1024;

// Each call holds a kilobyte of the fiber's stack until the calls below it return, which
// they never do: after about 64 calls the next frame lands on the guard page and the CPU
// faults. Without the guard page it would land, silently, on whatever lies below.
// A guard page catches frames smaller than itself only: a frame larger than a page can step
// over it (a "stack clash"; GCC's -fstack-clash-protection touches every page of a large
// frame for that reason). So call_deeper is never inlined into itself, which would merge
// several kilobyte frames into one.
[[gnu::noinline]] inline int call_deeper(int depth) {
    volatile char frame[1024];  // volatile: the compiler may not drop the kilobyte
    frame[0] = static_cast<char>(depth);
    if (depth == max_overflow_depth) {  // never reached: the guard page comes first
        return depth;
    }
    return call_deeper(depth + 1) + frame[0];  // not a tail call: every frame stays
}
