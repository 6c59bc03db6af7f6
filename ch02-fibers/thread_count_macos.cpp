// ch02-fibers/thread_count_macos.cpp: the threads of this process, from the Mach kernel.
//
// What thread_count.h declares, for macOS: macOS has no /proc; the smallest call that
// knows is Mach's task_threads, which lists the threads of a task (Mach's word for what
// holds a process's memory and threads); we count them. Compare thread_count_linux.cpp.
// Run `./run-example ch02-fibers --show-threads`: the count is the same before and after.
//
// Compiled here for both Macs (the macos-arm64 and macos-x86_64 presets, against the
// Darwin headers Zig ships), run only on a Mac. It is written from Apple's Mach headers
// (mach/task.defs, mach/mach_port.defs, mach/vm_map.defs).
#include <mach/mach.h>
#include <mach/mach_error.h>  // mach_error_string

#include <cstdio>
#include <cstdlib>

#include "thread_count.h"

namespace {

// Every OS call is checked on the next line: a Mach call returns its error as a
// kern_return_t, which mach_error_string puts in the system's words.
[[noreturn]] void fail(const char* call, kern_return_t error) {
    std::fprintf(stderr, "ch02-fibers: %s: %s\n", call, mach_error_string(error));
    std::exit(1);
}

}  // namespace

int count_threads() {
    thread_act_array_t threads = nullptr;  // one port (a right to name the thread) per thread
    mach_msg_type_number_t thread_count = 0;
    kern_return_t result = task_threads(mach_task_self(), &threads, &thread_count);
    if (result != KERN_SUCCESS) {
        fail("task_threads", result);
    }
    // The answer is ours to give back: a port right for each thread, and the array, which
    // the kernel mapped into our memory. Kept, each call would leak them.
    for (mach_msg_type_number_t index = 0; index < thread_count; ++index) {
        result = mach_port_deallocate(mach_task_self(), threads[index]);
        if (result != KERN_SUCCESS) {
            fail("mach_port_deallocate", result);
        }
    }
    result = vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(threads),
                           thread_count * sizeof threads[0]);
    if (result != KERN_SUCCESS) {
        fail("vm_deallocate", result);
    }
    return static_cast<int>(thread_count);
}
