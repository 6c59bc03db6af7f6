// ch02-fibers: the ch02-os-threads program on fibers: stacks switched by hand, one OS thread.
//
// Chapter 2's second model: green threads, stackful coroutines, fibers. Each task gets a
// stack of its own, as an OS thread does, but the program switches between them itself,
// on one OS thread: a task runs until it calls sleep_for (or join), which saves its
// registers, switches to the scheduler's stack and lets another task run. Nothing is
// pre-empted; a task that never yields keeps the thread. This file is an M:1 runtime (M
// tasks on one OS thread), in the order a reader meets it:
//   1. the fiber: a stack, the stack pointer its last switch left, and what it waits for;
//   2. the runtime: spawn, a round-robin scheduler running on main's stack, and sleep_for
//      and join, which mark the running fiber as waiting and switch back to it;
//   3. how a switch happens: switch_stack, with the sanitizers told about each switch;
//   4. the program: the same three tasks and five lines as ch02-os-threads.
//
// The rest of the folder only supports it, and a first reading may skip it. The build
// picks the files for the OS and CPU it builds for:
//   switch_stack.h      the switch itself, in switch_stack_<os>_<cpu>.cpp: a few lines of
//                       assembly per CPU and ABI, saving exactly what a call must keep
//                       (switch_stack_check.cpp, a test, checks that it does)
//   stack.h             a stack from the OS with a guard page below it: stack_posix.cpp
//                       (Linux, macOS), stack_windows.cpp
//   sanitizer_hooks.h   what AddressSanitizer and ThreadSanitizer must be told at a switch
//   thread_count.h      for --show-threads: thread_count_linux.cpp, thread_count_macos.cpp,
//                       thread_count_windows.cpp
//   stack_overflow.h    call_deeper, which runs a fiber off its stack, for --overflow
//
// Usage:    ch02-fibers [--show-threads | --overflow]
//           --show-threads  also print how many threads the process had when main started
//                           and after the tasks ran (Linux: /proc/self/status; macOS:
//                           Mach's task_threads; Windows: Toolhelp). The numbers are
//                           equal: no thread was added.
//           --overflow      instead, one fiber that calls itself until its stack runs out:
//                           it dies on the guard page (SIGSEGV; SIGBUS on macOS; on Windows
//                           an access violation), as a thread does on its own stack's guard
//                           page.
// Platform: Linux on x86-64 or ARM64, macOS on ARM64 or x86-64, Windows on x86-64 (the
// switch is per CPU and ABI; the macOS files are checked by clang on Linux, not run here).
//
// What to watch for: the output of ch02-os-threads, from one thread. The sanitizers must be
// told about every switch (sanitizer_hooks.h), or they can report errors that are not
// there: they believe a thread has one stack.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "one_option.hpp"  // support/: parse_one_option, --help and the usage error
#include "sanitizer_hooks.h"
#include "stack.h"
#include "stack_overflow.h"  // call_deeper, for --overflow
#include "switch_stack.h"
#include "thread_count.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Each fiber's stack. A thread gets 8 MiB on Linux and 1 MiB on Windows by default, sized
// for any program; these tasks print a line through iostreams, which needs a few KiB. 64 KiB
// leaves a wide margin (AddressSanitizer's larger frames included) and is what the thread
// per request of bench/ uses too. Only the pages a fiber touches take memory.
constexpr std::size_t fiber_stack_bytes = 64 * 1024;

// ----------------------------------------------------------------------------------------
// 1. The fiber: a stack of its own, and where its last switch left it
// ----------------------------------------------------------------------------------------

enum class FiberState {
    ready,     // can run now
    sleeping,  // in sleep_for, until wake_at
    joining,   // in join, until `awaited` has finished
    finished,  // its function returned; its stack is freed
};

struct Fiber {
    std::function<void()> body;
    FiberStack stack;                     // from allocate_stack, with a guard page below
    void* saved_stack_pointer = nullptr;  // where switch_stack left it (or prepare_stack)
    FiberState state = FiberState::ready;
    Clock::time_point wake_at;       // when sleeping
    const Fiber* awaited = nullptr;  // when joining
    SanitizerState sanitizer;
};

// Where every fiber starts, on its own stack (under "3. How a switch happens").
void fiber_entry() noexcept;

// ----------------------------------------------------------------------------------------
// 2. The runtime: fibers and a round-robin scheduler, on one OS thread
// ----------------------------------------------------------------------------------------

class Runtime {
  public:
    // Creates a fiber that will run `body` on its own stack; it first runs when the
    // scheduler comes to it. May be called from main or from a fiber.
    Fiber& spawn(std::function<void()> body);

    // Runs every fiber until all have finished. Call from main: the scheduler runs on
    // main's stack, and each fiber switches back to it when it waits or ends.
    void run();

    // Called from a fiber: wait without blocking the thread. The fiber is marked as
    // waiting and switches to the scheduler, which runs the others meanwhile.
    void sleep_for(Clock::duration duration);
    void join(const Fiber& fiber);

  private:
    friend void fiber_entry() noexcept;
    void switch_to(Fiber& fiber);
    void switch_to_scheduler();
    void finish(Fiber& fiber);

    std::vector<std::unique_ptr<Fiber>> fibers;  // in the order spawned: round-robin order
    Fiber* running = nullptr;                    // the fiber on the CPU, or none: the scheduler
    void* scheduler_stack_pointer = nullptr;     // where switch_stack left main's stack
    SanitizerState scheduler_sanitizer;
};

// One runtime for the program's one thread: sleep_for and join below find it here, as a
// green-thread library finds its scheduler through a thread-local variable.
Runtime runtime;

// A new stack, made to look as if switch_stack had left it with fiber_entry to return to
// (prepare_stack, in the switch file for this CPU). Nothing runs yet.
Fiber& Runtime::spawn(std::function<void()> body) {
    auto fiber = std::make_unique<Fiber>();
    fiber->body = std::move(body);
    fiber->stack = allocate_stack(fiber_stack_bytes);
    fiber->saved_stack_pointer = prepare_stack(fiber->stack.limit, fiber->stack.base, fiber_entry);
    sanitizer_create_fiber(fiber->sanitizer, fiber->stack.limit, fiber_stack_bytes);
    fibers.push_back(std::move(fiber));
    return *fibers.back();
}

void Runtime::run() {
    sanitizer_adopt_thread(scheduler_sanitizer);
    for (;;) {
        bool any_unfinished = false;
        bool any_ran = false;
        Clock::time_point earliest_wake = Clock::time_point::max();
        // Sleepers wake in the order of their deadlines, as the timers of ch02-callbacks and
        // ch02-coroutines fire: one per round, the one whose deadline came first (or all
        // with that deadline), also when the thread was held up past several deadlines.
        const Clock::time_point now = Clock::now();
        Clock::time_point first_due = Clock::time_point::max();
        for (const auto& fiber : fibers) {
            if (fiber->state == FiberState::sleeping && fiber->wake_at <= now) {
                first_due = std::min(first_due, fiber->wake_at);
            }
        }
        // Round robin: every fiber that can run gets one turn, in the order they were
        // spawned. A fiber spawned during the round (fibers grows) gets its turn in it too;
        // each Fiber stays where it is, the vector holds pointers to them.
        for (std::size_t index = 0; index < fibers.size(); ++index) {
            Fiber& fiber = *fibers[index];
            if (fiber.state == FiberState::finished) {
                continue;
            }
            if (fiber.state == FiberState::sleeping && fiber.wake_at == first_due) {
                fiber.state = FiberState::ready;
            }
            if (fiber.state == FiberState::joining &&
                fiber.awaited->state == FiberState::finished) {
                fiber.state = FiberState::ready;
            }
            if (fiber.state == FiberState::ready) {
                switch_to(fiber);  // runs until the fiber sleeps, joins or ends
                any_ran = true;
            }
            if (fiber.state == FiberState::finished) {
                finish(fiber);
                continue;
            }
            any_unfinished = true;
            if (fiber.state == FiberState::sleeping) {
                earliest_wake = std::min(earliest_wake, fiber.wake_at);
            }
        }
        if (!any_unfinished) {
            return;
        }
        if (!any_ran) {
            if (earliest_wake == Clock::time_point::max()) {
                std::fprintf(stderr, "ch02-fibers: every fiber is joining another: deadlock\n");
                std::exit(1);
            }
            // Nothing can run: the thread sleeps, for real, until the first deadline.
            std::this_thread::sleep_until(earliest_wake);
        }
    }
}

void Runtime::sleep_for(Clock::duration duration) {
    running->state = FiberState::sleeping;
    running->wake_at = Clock::now() + duration;
    switch_to_scheduler();
}

void Runtime::join(const Fiber& fiber) {
    if (fiber.state == FiberState::finished) {
        return;
    }
    running->state = FiberState::joining;
    running->awaited = &fiber;
    switch_to_scheduler();
}

// A finished fiber is off its stack for good (the scheduler runs on main's): free it.
void Runtime::finish(Fiber& fiber) {
    sanitizer_destroy_fiber(fiber.sanitizer);
    free_stack(fiber.stack);
    fiber.stack = FiberStack{};
}

// ----------------------------------------------------------------------------------------
// 3. How a switch happens: switch_stack, between the scheduler and a fiber
// ----------------------------------------------------------------------------------------
//
// switch_stack(&save_here, load_this) saves the registers a call must preserve on the
// current stack, stores the stack pointer in save_here, loads load_this and returns on that
// stack. See switch_stack.h, then the file for your CPU. Each switch is announced to the
// sanitizers, one line before and one after (sanitizer_hooks.h; without a sanitizer they
// do nothing).

// From the scheduler to a fiber, and back here when the fiber waits or ends.
void Runtime::switch_to(Fiber& fiber) {
    running = &fiber;
    sanitizer_before_switch(scheduler_sanitizer, fiber.sanitizer, false);
    switch_stack(&scheduler_stack_pointer, fiber.saved_stack_pointer);
    sanitizer_after_switch(scheduler_sanitizer, nullptr);
    running = nullptr;
}

// From the running fiber to the scheduler; returns when the scheduler switches back.
void Runtime::switch_to_scheduler() {
    Fiber& fiber = *running;
    const bool leaving_for_good = fiber.state == FiberState::finished;
    sanitizer_before_switch(fiber.sanitizer, scheduler_sanitizer, leaving_for_good);
    switch_stack(&fiber.saved_stack_pointer, scheduler_stack_pointer);
    sanitizer_after_switch(fiber.sanitizer, nullptr);
}

// Every fiber starts here: the first switch_stack to a new stack "returns" into this
// function (prepare_stack put its address where the return address would be). It runs
// the fiber's body and switches away for the last time. It must never return: there is no
// caller on this stack to return to (the slot above holds 0).
void fiber_entry() noexcept {
    Fiber& fiber = *runtime.running;
    sanitizer_after_switch(fiber.sanitizer, &runtime.scheduler_sanitizer);
    fiber.body();
    fiber.state = FiberState::finished;
    runtime.switch_to_scheduler();  // a finished fiber is never switched to again
    std::abort();                   // unreachable
}

// ----------------------------------------------------------------------------------------
// 4. The program: the same five lines as ch02-os-threads
// ----------------------------------------------------------------------------------------

// One thread prints, so no line can interleave with another; std::endl flushes each line
// so it appears when it happens, also when the output is a pipe.
void print_line(std::string_view line) {
    std::cout << line << std::endl;
}

void run() {
    print_line("So, we start the program here!");

    runtime.spawn([] {
        runtime.sleep_for(200ms);
        print_line("The long running tasks finish last!");
    });

    runtime.spawn([] {
        runtime.sleep_for(100ms);
        print_line("We can chain callbacks...");
        const Fiber& next = runtime.spawn([] {
            runtime.sleep_for(50ms);
            print_line("...like this!");
        });
        runtime.join(next);  // A fiber can wait for a fiber it started.
    });

    print_line("The tasks run concurrently!");

    // The fibers have been created but none has run yet: they run from here, one at a
    // time, each until it sleeps, joins or ends.
    runtime.run();
}

// ----------------------------------------------------------------------------------------
// --overflow: a fiber runs off the end of its stack
// ----------------------------------------------------------------------------------------

// One fiber that calls itself, a kilobyte of stack per call, until it runs into the guard
// page below its stack (call_deeper, in stack_overflow.h). The process dies there.
void run_overflow() {
    runtime.spawn([] {
        print_line("A fiber calls itself until its stack runs out...");
        call_deeper(0);
        print_line("...and never gets here.");
    });
    runtime.run();
}

// ----------------------------------------------------------------------------------------
// main: the options choose what to run
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch02-fibers [--show-threads | --overflow]\n"
    "Prints five lines from three fibers on one OS thread.\n"
    "  --show-threads  also print how many threads the process had when main started\n"
    "                  and after the fibers ran\n"
    "  --overflow      instead, run one fiber that overflows its stack: it dies on the\n"
    "                  guard page below the stack (SIGSEGV; SIGBUS on macOS; on Windows\n"
    "                  an access violation)\n"
    "  --help          this text\n";

// What main runs: the five lines; the five lines and the thread counts; or, instead, the
// fiber that overflows its stack.
enum class Mode { five_lines, show_threads, overflow };

int main(int argc, char** argv) {
    const auto mode = static_cast<Mode>(
        parse_one_option(argc, argv, "ch02-fibers", usage_text, {"--show-threads", "--overflow"}));
    if (mode == Mode::overflow) {
        run_overflow();
        return 1;  // not reached: the process dies on the guard page
    }
    const bool show_threads = mode == Mode::show_threads;
    const int threads_at_start = show_threads ? count_threads() : 0;
    run();
    if (show_threads) {
        // Under QEMU the emulator has a thread of its own from the start, and a sanitizer
        // may have one too: what the test checks is that none was added.
        std::cout << "Threads in this process: " << threads_at_start << " when main started, "
                  << count_threads() << " after the tasks ran" << std::endl;
    }
    return 0;
}
