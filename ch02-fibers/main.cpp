// ch02-fibers: the ch02-os-threads program on fibers: stacks switched by hand, one OS thread.
//
// Chapter 2's second model: green threads, stackful coroutines, fibers. Each task gets a
// stack of its own, as an OS thread does, but the program switches between them itself,
// on one OS thread: a task runs until it calls sleep_for (or join), which saves its
// registers, switches to the scheduler's stack and lets another task run. Nothing is
// pre-empted; a task that never yields keeps the thread. This is an M:1 runtime (M tasks on
// one OS thread), in the order a reader meets it:
//   1. the stack: memory from the OS with a guard page below it, so that a task that
//      overflows its stack faults at once instead of writing over another's memory;
//   2. the switch: switch_stack, a few lines of assembly per CPU in switch_stack_*.cpp,
//      which saves exactly the registers a function call must preserve, and prepare_stack,
//      which makes a new stack look as if switch_stack had left it;
//   3. the runtime: a list of fibers, a round-robin scheduler running on main's stack,
//      and sleep_for and join, which mark the running fiber as waiting and switch back;
//   4. the program: the same three tasks and five lines as ch02-os-threads.
//
// Usage:    ch02-fibers [--show-threads | --overflow]
//           --show-threads  also print how many threads the process had when main started
//                           and after the tasks ran (Linux: /proc/self/status; Windows:
//                           Toolhelp). The numbers are equal: no thread was added.
//           --overflow      instead, one fiber that calls itself until its stack runs out:
//                           it dies on the guard page (SIGSEGV; on Windows an access
//                           violation), as a thread does on its own stack's guard page.
// Platform: Linux on x86-64 or ARM64, Windows on x86-64 (the switch is per CPU and ABI).
//
// What to watch for: the output of ch02-os-threads, from one thread. The sanitizers must be
// told about every switch (see "What the sanitizers must be told"), or they can report
// errors that are not there: they believe a thread has one stack.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "switch_stack.h"

#ifdef _WIN32
#include <windows.h>
// windows.h first: tlhelp32.h needs its types.
#include <tlhelp32.h>
#else
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#endif

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Each fiber's stack. A thread gets 8 MiB on Linux and 1 MiB on Windows by default, sized
// for any program; these tasks print a line through iostreams, which needs a few KiB. 64 KiB
// leaves a wide margin (AddressSanitizer's larger frames included) and is what the thread
// per request of bench/ uses too. Only the pages a fiber touches take memory.
constexpr std::size_t fiber_stack_bytes = 64 * 1024;

// --overflow's recursion stops here, at a depth it never reaches: a kilobyte per call, so a
// gigabyte of stack. It exists so that the compiler sees a way out (GCC warns about a
// function that can only call itself).
constexpr int max_overflow_depth = 1024 * 1024;

// ========================================================================================
// Reporting errors
// ========================================================================================

#ifdef _WIN32
// ---- Windows: the error code from GetLastError, in the system's words (FormatMessage) ----
[[noreturn]] void fail(const char* call) {
    const DWORD error = GetLastError();
    char text[512] = "";
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, error, 0,
                   text, sizeof text, nullptr);
    std::fprintf(stderr, "ch02-fibers: %s failed (error %lu): %s\n", call, error, text);
    std::exit(1);
}
#else
// ---- Linux: errno, in the C library's words (strerror) ----
[[noreturn]] void fail(const char* call) {
    std::fprintf(stderr, "ch02-fibers: %s: %s\n", call, std::strerror(errno));
    std::exit(1);
}
#endif

// ========================================================================================
// 1. The stack: memory from the OS, with a guard page below it
// ========================================================================================

// [allocation, allocation + guard) is the guard page: no access allowed, so the first
// write past the end of the stack faults. [limit, base) is the usable stack, which grows
// down from base. switch_stack and the sanitizers need those two; the OS needs the whole.
struct FiberStack {
    void* allocation = nullptr;
    std::size_t allocation_bytes = 0;
    void* limit = nullptr;  // the lowest usable address, just above the guard page
    void* base = nullptr;   // one past the highest usable address
};

#ifdef _WIN32
// ---- Windows: VirtualAlloc, then VirtualProtect the lowest page to no access ----
std::size_t page_size() {
    SYSTEM_INFO system;
    GetSystemInfo(&system);  // cannot fail
    return system.dwPageSize;
}

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
#else
// ---- Linux: mmap, then mprotect the lowest page to no access ----
std::size_t page_size() {
    const long bytes = sysconf(_SC_PAGESIZE);
    if (bytes <= 0) {
        fail("sysconf(_SC_PAGESIZE)");
    }
    return static_cast<std::size_t>(bytes);
}

FiberStack allocate_stack(std::size_t usable_bytes) {
    const std::size_t guard_bytes = page_size();
    FiberStack stack;
    stack.allocation_bytes = guard_bytes + usable_bytes;
    stack.allocation = mmap(nullptr, stack.allocation_bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,  // no file; a stack
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
#endif

// ========================================================================================
// 2. The switch: switch_stack and prepare_stack, in switch_stack_<os>_<cpu>.cpp
// ========================================================================================
//
// switch_stack(&save_here, load_this) saves the registers a call must preserve on the
// current stack, stores the stack pointer in save_here, loads load_this and returns on that
// stack. prepare_stack makes a new stack look as if switch_stack had left it, with
// fiber_entry as the return address. See switch_stack.h, then the file for your CPU.

// ========================================================================================
// What the sanitizers must be told
// ========================================================================================
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
// glibc's swapcontext is; everything else is checked. Without a sanitizer these are empty.
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

void sanitizer_create_fiber(SanitizerState& fiber, const FiberStack& stack) {
    fiber.stack_bottom = stack.limit;
    fiber.stack_bytes = fiber_stack_bytes;
#ifdef CH02_FIBERS_THREAD_SANITIZER
    fiber.thread_fiber = __tsan_create_fiber(0);
#endif
}

void sanitizer_adopt_thread(SanitizerState& scheduler) {
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
void sanitizer_after_switch(SanitizerState& arrived, SanitizerState* came_from) {
#ifdef CH02_FIBERS_ADDRESS_SANITIZER
    const void** came_from_bottom = came_from ? &came_from->stack_bottom : nullptr;
    std::size_t* came_from_bytes = came_from ? &came_from->stack_bytes : nullptr;
    __sanitizer_finish_switch_fiber(arrived.address_fake_stack, came_from_bottom, came_from_bytes);
#endif
    static_cast<void>(arrived);
    static_cast<void>(came_from);
}

void sanitizer_destroy_fiber(SanitizerState& fiber) {
#ifdef CH02_FIBERS_THREAD_SANITIZER
    __tsan_destroy_fiber(fiber.thread_fiber);
    fiber.thread_fiber = nullptr;
#endif
    static_cast<void>(fiber);
}

// ========================================================================================
// 3. The runtime: fibers and a round-robin scheduler, on one OS thread
// ========================================================================================

enum class FiberState {
    ready,     // can run now
    sleeping,  // in sleep_for, until wake_at
    joining,   // in join, until `awaited` has finished
    finished,  // its function returned; its stack is freed
};

struct Fiber {
    std::function<void()> body;
    FiberStack stack;
    void* saved_stack_pointer = nullptr;  // where switch_stack left it (or prepare_stack)
    FiberState state = FiberState::ready;
    Clock::time_point wake_at;       // when sleeping
    const Fiber* awaited = nullptr;  // when joining
    SanitizerState sanitizer;
};

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

Fiber& Runtime::spawn(std::function<void()> body) {
    auto fiber = std::make_unique<Fiber>();
    fiber->body = std::move(body);
    fiber->stack = allocate_stack(fiber_stack_bytes);
    fiber->saved_stack_pointer = prepare_stack(fiber->stack.limit, fiber->stack.base, fiber_entry);
    sanitizer_create_fiber(fiber->sanitizer, fiber->stack);
    fibers.push_back(std::move(fiber));
    return *fibers.back();
}

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

void Runtime::run() {
    sanitizer_adopt_thread(scheduler_sanitizer);
    for (;;) {
        bool any_unfinished = false;
        bool any_ran = false;
        Clock::time_point earliest_wake = Clock::time_point::max();
        // Round robin: every fiber that can run gets one turn, in the order they were
        // spawned. A fiber spawned during the round (fibers grows) gets its turn in it too;
        // each Fiber stays where it is, the vector holds pointers to them.
        for (std::size_t index = 0; index < fibers.size(); ++index) {
            Fiber& fiber = *fibers[index];
            if (fiber.state == FiberState::finished) {
                continue;
            }
            if (fiber.state == FiberState::sleeping && Clock::now() >= fiber.wake_at) {
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

// ========================================================================================
// How many threads the process has (for --show-threads)
// ========================================================================================

#ifdef _WIN32
// ---- Windows: Toolhelp's snapshot lists every thread of the system; count ours ----
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
#else
// ---- Linux: the "Threads:" line of /proc/self/status ----
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
#endif

// ========================================================================================
// 4. The program: the same five lines as ch02-os-threads
// ========================================================================================

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

// ========================================================================================
// --overflow: a fiber runs off the end of its stack
// ========================================================================================

// Each call holds a kilobyte of the fiber's stack until the calls below it return, which
// they never do: after about 64 calls the next frame lands on the guard page and the CPU
// faults. Without the guard page it would land, silently, on whatever lies below.
// A guard page catches frames smaller than itself only: a frame larger than a page can step
// over it (a "stack clash"; GCC's -fstack-clash-protection touches every page of a large
// frame for that reason). So call_deeper is never inlined into itself, which would merge
// several kilobyte frames into one.
[[gnu::noinline]] int call_deeper(int depth) {
    volatile char frame[1024];  // volatile: the compiler may not drop the kilobyte
    frame[0] = static_cast<char>(depth);
    if (depth == max_overflow_depth) {  // never reached: the guard page comes first
        return depth;
    }
    return call_deeper(depth + 1) + frame[0];  // not a tail call: every frame stays
}

void run_overflow() {
    runtime.spawn([] {
        print_line("A fiber calls itself until its stack runs out...");
        call_deeper(0);
        print_line("...and never gets here.");
    });
    runtime.run();
}

// ========================================================================================
// The arguments
// ========================================================================================

constexpr std::string_view usage_text =
    "usage: ch02-fibers [--show-threads | --overflow]\n"
    "Prints five lines from three fibers on one OS thread.\n"
    "  --show-threads  also print how many threads the process had when main started\n"
    "                  and after the fibers ran\n"
    "  --overflow      instead, run one fiber that overflows its stack: it dies on the\n"
    "                  guard page below the stack (SIGSEGV; on Windows an access violation)\n"
    "  --help          this text\n";

enum class Mode { five_lines, show_threads, overflow };

Mode parse_mode(int argc, char** argv) {
    Mode mode = Mode::five_lines;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::cout << usage_text;
            std::exit(0);
        } else if (argument == "--show-threads" && mode == Mode::five_lines) {
            mode = Mode::show_threads;
        } else if (argument == "--overflow" && mode == Mode::five_lines) {
            mode = Mode::overflow;
        } else {
            std::cerr << "ch02-fibers: unknown option, or more than one: '" << argument << "'\n"
                      << usage_text;
            std::exit(2);
        }
    }
    return mode;
}

int main(int argc, char** argv) {
    const Mode mode = parse_mode(argc, argv);
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
