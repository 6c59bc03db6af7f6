// ch02-fibers/sanitizer_hooks.h: what AddressSanitizer and ThreadSanitizer must be told
// about each stack switch.
//
// AddressSanitizer keeps track of the stack each thread runs on, and ThreadSanitizer of
// what each thread has done. A switch_stack they are not told about looks to ASan like a
// stack pointer jumping out of its stack, and to TSan like one thread's history continuing
// on another's, and both can then report errors that are not there (this small program
// happens to pass without the calls; a larger one would not). So around every switch:
//   ASan: __sanitizer_start_switch_fiber(where to keep this stack's fake frames, the stack
//         we go to) just before, __sanitizer_finish_switch_fiber just after, on arrival;
//         a fiber leaving for the last time passes no place to keep them, and ASan frees
//         them.
//   TSan: each fiber gets a TSan fiber (__tsan_create_fiber), the scheduler uses the
//         thread's own (__tsan_get_current_fiber); __tsan_switch_to_fiber just before
//         each switch, and __tsan_destroy_fiber once a fiber has ended.
// Nothing is exempt from checking: switch_stack is assembly, which no sanitizer sees, as
// glibc's swapcontext is; everything else is checked. Without a sanitizer these functions
// do nothing.
//
// main.cpp calls them, one line each, where a fiber is created, around each switch_stack
// and where a fiber ends. A first reading may skip this file.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)  // GCC's name for -fsanitize=address
#define CH02_FIBERS_ADDRESS_SANITIZER 1
#elif defined(__has_feature)  // clang's
#if __has_feature(address_sanitizer)
#define CH02_FIBERS_ADDRESS_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CH02_FIBERS_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CH02_FIBERS_THREAD_SANITIZER 1
#endif
#endif

#ifdef CH02_FIBERS_ADDRESS_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CH02_FIBERS_THREAD_SANITIZER
#include <sanitizer/tsan_interface.h>
#endif

// What the sanitizers know about one stack: the fiber's, or the scheduler's (main's).
struct SanitizerState {
    void* address_fake_stack = nullptr;  // ASan's frames moved off this stack
    const void* stack_bottom = nullptr;  // the stack's lowest address, as ASan wants it
    std::size_t stack_bytes = 0;
    void* thread_fiber = nullptr;  // TSan's record of this fiber
};

// A new fiber, whose usable stack starts at stack_bottom (the lowest address).
inline void sanitizer_create_fiber(SanitizerState& fiber, const void* stack_bottom,
                                   std::size_t stack_bytes) {
    fiber.stack_bottom = stack_bottom;
    fiber.stack_bytes = stack_bytes;
#ifdef CH02_FIBERS_THREAD_SANITIZER
    fiber.thread_fiber = __tsan_create_fiber(0);
#endif
}

// The scheduler, on the thread's own stack (main's).
inline void sanitizer_adopt_thread(SanitizerState& scheduler) {
#ifdef CH02_FIBERS_THREAD_SANITIZER
    scheduler.thread_fiber = __tsan_get_current_fiber();
#endif
    // ASan's bounds of main's stack arrive with the first switch back (see below).
    static_cast<void>(scheduler);
}

// Just before switch_stack, from `leaving` to `entering`. Always inlined into the function
// that calls switch_stack: TSan keeps a call stack per fiber, and a helper of its own that
// switched TSan's fiber would return on the other fiber's call stack, which it never
// entered (ThreadSanitizer's documentation: call it "immediately before switching").
[[gnu::always_inline]] inline void sanitizer_before_switch(SanitizerState& leaving,
                                                           const SanitizerState& entering,
                                                           bool leaving_for_good) {
#ifdef CH02_FIBERS_ADDRESS_SANITIZER
    __sanitizer_start_switch_fiber(leaving_for_good ? nullptr : &leaving.address_fake_stack,
                                   entering.stack_bottom, entering.stack_bytes);
#endif
#ifdef CH02_FIBERS_THREAD_SANITIZER
    __tsan_switch_to_fiber(entering.thread_fiber, 0);  // 0: the switch synchronizes
#endif
    static_cast<void>(leaving);
    static_cast<void>(entering);
    static_cast<void>(leaving_for_good);
}

// Just after switch_stack returns (or a fiber starts): we have arrived on `arrived`'s
// stack. ASan tells where the stack we came from lies; the first fiber learns main's so.
inline void sanitizer_after_switch(SanitizerState& arrived, SanitizerState* came_from) {
#ifdef CH02_FIBERS_ADDRESS_SANITIZER
    const void** came_from_bottom = came_from ? &came_from->stack_bottom : nullptr;
    std::size_t* came_from_bytes = came_from ? &came_from->stack_bytes : nullptr;
    __sanitizer_finish_switch_fiber(arrived.address_fake_stack, came_from_bottom, came_from_bytes);
#endif
    static_cast<void>(arrived);
    static_cast<void>(came_from);
}

// A fiber that has ended, for good: TSan forgets it.
inline void sanitizer_destroy_fiber(SanitizerState& fiber) {
#ifdef CH02_FIBERS_THREAD_SANITIZER
    __tsan_destroy_fiber(fiber.thread_fiber);
    fiber.thread_fiber = nullptr;
#endif
    static_cast<void>(fiber);
}
