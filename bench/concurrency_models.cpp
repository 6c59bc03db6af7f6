// bench/concurrency_models.cpp: what a task costs in each of chapter 2's four models.
//
// The chapter claims that a fiber switch is cheaper than a thread switch, that a stackless
// task costs little memory, and that callbacks cost least of all. This program measures,
// for one model per run (each run its own process, so each has its own peak memory):
//   - N sleeping tasks: the time to create one (N created one after another, the total
//     divided by N), and the memory they hold while all N wait: the process's peak resident
//     memory (VmHWM) minus its resident memory before the first task, divided by N;
//   - the time to hand the CPU from one task to another of the same model, where the model
//     has one: a fiber swap (ch02-fibers' own switch_stack, between two fibers, directly),
//     a coroutine resume (resume() of a coroutine that suspends again at once), a callback
//     dispatch (one timer callback run by a loop like ch02-callbacks', which sets the next
//     one). The thread switch is bench-thread-costs' (switch futex).
// The models are built as in the ch02 examples: threads with std::thread's default stack,
// fibers with 64 KiB mmap'd stacks and a guard page each, callbacks in a multimap by
// deadline, coroutines with a lazy task type and a timer queue.
//
// Usage:    bench-concurrency-models threads|fibers|callbacks|coroutines
//                                    [--tasks N] [--switches N] [--sleep-ms MS]
//           (defaults: 10000 tasks, 1000000 switches, tasks sleep 200 ms)
// Platform: Linux (/proc/self/status), x86-64 or ARM64 (the fiber switch).
//
// Output: what it did, then one line `result model=... ` with the numbers, for a report.
#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "switch_stack.h"  // ch02-fibers' switch_stack and prepare_stack, for this CPU

using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------------
// Reporting errors, arguments, memory
// ----------------------------------------------------------------------------------------

[[noreturn]] void fail(std::string_view call) {
    std::fprintf(stderr, "bench-concurrency-models: %.*s: %s\n", static_cast<int>(call.size()),
                 call.data(), std::strerror(errno));
    std::exit(1);
}

constexpr std::string_view usage_text =
    "usage: bench-concurrency-models threads|fibers|callbacks|coroutines\n"
    "                                [--tasks N] [--switches N] [--sleep-ms MS]\n";

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "bench-concurrency-models: %s\n%.*s", message.c_str(),
                 static_cast<int>(usage_text.size()), usage_text.data());
    std::exit(2);
}

int parse_number(std::string_view text, std::string_view flag, int lowest, int highest) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        value < lowest || value > highest) {
        usage_error(std::string(flag) + " needs a whole number from " + std::to_string(lowest) +
                    " to " + std::to_string(highest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

// One field of /proc/self/status in KiB ("VmHWM:     1234 kB").
long read_status_kib(std::string_view field) {
    std::ifstream status("/proc/self/status");
    if (!status) {
        fail("open /proc/self/status");
    }
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
        }
    }
    std::fprintf(stderr, "bench-concurrency-models: no %.*s in /proc/self/status\n",
                 static_cast<int>(field.size()), field.data());
    std::exit(1);
}

double nanoseconds(Clock::duration duration) {
    return std::chrono::duration<double, std::nano>(duration).count();
}

struct Measurement {
    int tasks = 0;
    double create_ns = 0;              // per task
    long resident_before_kib = 0;      // VmRSS before the first task
    long peak_kib = 0;                 // VmHWM after the last task ended
    double switch_ns = -1;             // per hand-over; -1: not measured for this model
    const char* switch_what = "none";  // what a hand-over is in this model
};

// ----------------------------------------------------------------------------------------
// Threads: std::thread, default stack; a sleeping task is parked on a condition variable
// ----------------------------------------------------------------------------------------

Measurement measure_threads(int tasks, Clock::duration sleep) {
    Measurement result;
    result.tasks = tasks;
    std::mutex mutex;
    std::condition_variable woken;
    int waiting = 0;
    bool released = false;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(tasks));
    result.resident_before_kib = read_status_kib("VmRSS");
    const Clock::time_point start = Clock::now();
    for (int index = 0; index < tasks; ++index) {
        threads.emplace_back([&] {  // throws std::system_error if the OS refuses
            std::unique_lock lock(mutex);
            ++waiting;
            woken.notify_all();
            woken.wait(lock, [&] { return released; });
        });
    }
    result.create_ns = nanoseconds(Clock::now() - start) / tasks;
    {
        std::unique_lock lock(mutex);
        woken.wait(lock, [&] { return waiting == tasks; });  // all asleep now
    }
    std::this_thread::sleep_for(sleep);
    {
        std::lock_guard lock(mutex);
        released = true;
    }
    woken.notify_all();
    for (std::thread& thread : threads) {
        thread.join();
    }
    result.peak_kib = read_status_kib("VmHWM");
    result.switch_what = "see bench-thread-costs switch futex";
    return result;
}

// ----------------------------------------------------------------------------------------
// Fibers: ch02-fibers' switch, 64 KiB stacks with a guard page, a round-robin scheduler
// ----------------------------------------------------------------------------------------

constexpr std::size_t fiber_stack_bytes = 64 * 1024;  // as in ch02-fibers

struct BenchFiber {
    void* allocation = nullptr;
    std::size_t allocation_bytes = 0;
    void* saved_stack_pointer = nullptr;
    Clock::time_point wake_at;
    bool finished = false;
};

struct FiberScheduler {
    std::vector<BenchFiber> fibers;
    BenchFiber* running = nullptr;
    void* scheduler_stack_pointer = nullptr;
    Clock::duration sleep{};
};
FiberScheduler fiber_scheduler;

void fiber_yield() {
    switch_stack(&fiber_scheduler.running->saved_stack_pointer,
                 fiber_scheduler.scheduler_stack_pointer);
}

// Each sleeping fiber: sleep (yield until the deadline), then end.
void sleeping_fiber_entry() noexcept {
    BenchFiber& fiber = *fiber_scheduler.running;
    fiber.wake_at = Clock::now() + fiber_scheduler.sleep;
    while (Clock::now() < fiber.wake_at) {
        fiber_yield();
    }
    fiber.finished = true;
    fiber_yield();
    std::abort();  // a finished fiber is never switched to again
}

void allocate_fiber(BenchFiber& fiber, void (*entry)()) {
    const std::size_t guard_bytes = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    fiber.allocation_bytes = guard_bytes + fiber_stack_bytes;
    fiber.allocation = mmap(nullptr, fiber.allocation_bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (fiber.allocation == MAP_FAILED) {
        fail("mmap");
    }
    if (mprotect(fiber.allocation, guard_bytes, PROT_NONE) != 0) {
        fail("mprotect");
    }
    std::byte* const limit = static_cast<std::byte*>(fiber.allocation) + guard_bytes;
    std::byte* const base = static_cast<std::byte*>(fiber.allocation) + fiber.allocation_bytes;
    fiber.saved_stack_pointer = prepare_stack(limit, base, entry);
}

void free_fiber(BenchFiber& fiber) {
    if (munmap(fiber.allocation, fiber.allocation_bytes) != 0) {
        fail("munmap");
    }
}

// Two fibers that switch to each other directly, `switches` times in all.
struct PingPong {
    void* stack_pointers[2] = {nullptr, nullptr};
    int switches_left = 0;
    void* main_stack_pointer = nullptr;
};
PingPong ping_pong;

template <int self>
void ping_pong_entry() noexcept {
    constexpr int other = 1 - self;
    while (ping_pong.switches_left > 0) {
        --ping_pong.switches_left;
        switch_stack(&ping_pong.stack_pointers[self], ping_pong.stack_pointers[other]);
    }
    switch_stack(&ping_pong.stack_pointers[self], ping_pong.main_stack_pointer);
    std::abort();
}

Measurement measure_fibers(int tasks, int switches, Clock::duration sleep) {
    Measurement result;
    result.tasks = tasks;
    fiber_scheduler.sleep = sleep;
    fiber_scheduler.fibers.resize(static_cast<std::size_t>(tasks));
    result.resident_before_kib = read_status_kib("VmRSS");
    const Clock::time_point start = Clock::now();
    for (BenchFiber& fiber : fiber_scheduler.fibers) {
        allocate_fiber(fiber, sleeping_fiber_entry);
    }
    result.create_ns = nanoseconds(Clock::now() - start) / tasks;
    for (int unfinished = tasks; unfinished > 0;) {
        unfinished = 0;
        Clock::time_point earliest = Clock::time_point::max();
        for (BenchFiber& fiber : fiber_scheduler.fibers) {
            if (fiber.finished) {
                continue;
            }
            if (fiber.wake_at == Clock::time_point{} || Clock::now() >= fiber.wake_at) {
                fiber_scheduler.running = &fiber;
                switch_stack(&fiber_scheduler.scheduler_stack_pointer, fiber.saved_stack_pointer);
            }
            if (!fiber.finished) {
                ++unfinished;
                earliest = std::min(earliest, fiber.wake_at);
            }
        }
        if (unfinished > 0) {
            std::this_thread::sleep_until(earliest);
        }
    }
    for (BenchFiber& fiber : fiber_scheduler.fibers) {
        free_fiber(fiber);
    }
    result.peak_kib = read_status_kib("VmHWM");

    BenchFiber first;
    BenchFiber second;
    allocate_fiber(first, ping_pong_entry<0>);
    allocate_fiber(second, ping_pong_entry<1>);
    ping_pong.stack_pointers[0] = first.saved_stack_pointer;
    ping_pong.stack_pointers[1] = second.saved_stack_pointer;
    ping_pong.switches_left = switches;
    const Clock::time_point switch_start = Clock::now();
    switch_stack(&ping_pong.main_stack_pointer, ping_pong.stack_pointers[0]);
    result.switch_ns = nanoseconds(Clock::now() - switch_start) / switches;
    result.switch_what = "switch_stack from one fiber to another";
    free_fiber(first);
    free_fiber(second);
    return result;
}

// ----------------------------------------------------------------------------------------
// Callbacks: a timer loop as in ch02-callbacks
// ----------------------------------------------------------------------------------------

using Callback = std::function<void()>;
using TimerQueue = std::multimap<Clock::time_point, Callback>;

void run_timers(TimerQueue& timers) {
    while (!timers.empty()) {
        const auto earliest = timers.begin();
        std::this_thread::sleep_until(earliest->first);
        Callback callback = std::move(earliest->second);
        timers.erase(earliest);
        callback();
    }
}

Measurement measure_callbacks(int tasks, int switches, Clock::duration sleep) {
    Measurement result;
    result.tasks = tasks;
    TimerQueue timers;
    long woken = 0;
    result.resident_before_kib = read_status_kib("VmRSS");
    const Clock::time_point start = Clock::now();
    for (int index = 0; index < tasks; ++index) {
        timers.emplace(Clock::now() + sleep, [&woken] { ++woken; });
    }
    result.create_ns = nanoseconds(Clock::now() - start) / tasks;
    run_timers(timers);
    result.peak_kib = read_status_kib("VmHWM");

    // A callback that sets the next one, due at once, `switches` times.
    int left = switches;
    std::function<void()> next_step = [&] {
        if (--left > 0) {
            timers.emplace(Clock::now(), next_step);
        }
    };
    timers.emplace(Clock::now(), next_step);
    const Clock::time_point switch_start = Clock::now();
    run_timers(timers);
    result.switch_ns = nanoseconds(Clock::now() - switch_start) / switches;
    result.switch_what = "one callback run by the loop, which sets the next";
    return result;
}

// ----------------------------------------------------------------------------------------
// Coroutines: a lazy task type and a timer queue, as in ch02-coroutines
// ----------------------------------------------------------------------------------------

struct BenchTask {
    struct promise_type {
        BenchTask get_return_object() {
            return BenchTask{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept {
            return {};
        }
        std::suspend_always final_suspend() noexcept {
            return {};
        }
        void return_void() {}
        void unhandled_exception() {
            std::terminate();
        }
    };
    std::coroutine_handle<promise_type> frame;
};

std::multimap<Clock::time_point, std::coroutine_handle<>> sleeping_coroutines;

struct SleepUntil {
    Clock::time_point deadline;
    bool await_ready() const noexcept {
        return false;
    }
    void await_suspend(std::coroutine_handle<> task) const {
        sleeping_coroutines.emplace(deadline, task);
    }
    void await_resume() const noexcept {}
};

BenchTask sleeping_task(Clock::duration sleep, long& woken) {
    co_await SleepUntil{Clock::now() + sleep};
    ++woken;
}

BenchTask suspending_task(int& resumes) {
    for (;;) {
        ++resumes;
        co_await std::suspend_always{};
    }
}

Measurement measure_coroutines(int tasks, int switches, Clock::duration sleep) {
    Measurement result;
    result.tasks = tasks;
    long woken = 0;
    std::vector<BenchTask> created;
    created.reserve(static_cast<std::size_t>(tasks));
    result.resident_before_kib = read_status_kib("VmRSS");
    const Clock::time_point start = Clock::now();
    for (int index = 0; index < tasks; ++index) {
        created.push_back(sleeping_task(sleep, woken));
    }
    result.create_ns = nanoseconds(Clock::now() - start) / tasks;
    for (BenchTask& task : created) {
        task.frame.resume();  // runs to its co_await: now it sleeps in the timer queue
    }
    while (!sleeping_coroutines.empty()) {
        const auto earliest = sleeping_coroutines.begin();
        std::this_thread::sleep_until(earliest->first);
        const std::coroutine_handle<> task = earliest->second;
        sleeping_coroutines.erase(earliest);
        task.resume();
    }
    result.peak_kib = read_status_kib("VmHWM");
    for (BenchTask& task : created) {
        task.frame.destroy();
    }

    int resumes = 0;
    BenchTask suspending = suspending_task(resumes);
    const Clock::time_point switch_start = Clock::now();
    for (int index = 0; index < switches; ++index) {
        suspending.frame.resume();
    }
    result.switch_ns = nanoseconds(Clock::now() - switch_start) / switches;
    result.switch_what = "resume() of a coroutine that suspends again";
    suspending.frame.destroy();
    if (resumes != switches) {
        std::fprintf(stderr, "bench-concurrency-models: %d resumes, expected %d\n", resumes,
                     switches);
        std::exit(1);
    }
    return result;
}

// ----------------------------------------------------------------------------------------
// main
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    if (argc < 2) {
        usage_error("which model?");
    }
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::printf("%.*s", static_cast<int>(usage_text.size()), usage_text.data());
            return 0;
        }
    }
    const std::string_view model = argv[1];
    int tasks = 10000;
    int switches = 1000000;
    int sleep_ms = 200;
    for (int index = 2; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (index + 1 >= argc) {
            usage_error("unknown option or missing value: '" + std::string(flag) + "'");
        }
        const std::string_view value = argv[++index];
        if (flag == "--tasks") {
            tasks = parse_number(value, flag, 1, 1000000);
        } else if (flag == "--switches") {
            switches = parse_number(value, flag, 1, 100000000);
        } else if (flag == "--sleep-ms") {
            sleep_ms = parse_number(value, flag, 0, 60000);
        } else {
            usage_error("unknown option '" + std::string(flag) + "'");
        }
    }
    const Clock::duration sleep = std::chrono::milliseconds(sleep_ms);

    Measurement result;
    if (model == "threads") {
        result = measure_threads(tasks, sleep);
    } else if (model == "fibers") {
        result = measure_fibers(tasks, switches, sleep);
    } else if (model == "callbacks") {
        result = measure_callbacks(tasks, switches, sleep);
    } else if (model == "coroutines") {
        result = measure_coroutines(tasks, switches, sleep);
    } else {
        usage_error("unknown model '" + std::string(model) + "'");
    }

    const long growth_kib = result.peak_kib - result.resident_before_kib;
    const double bytes_per_task = growth_kib * 1024.0 / result.tasks;
    std::printf(
        "%.*s: %d sleeping tasks, %.0f ns to create one, peak %ld KiB (%ld KiB more "
        "than before the first task: %.0f bytes per task)\n",
        static_cast<int>(model.size()), model.data(), result.tasks, result.create_ns,
        result.peak_kib, growth_kib, bytes_per_task);
    if (result.switch_ns >= 0) {
        std::printf("%.*s: %.1f ns per hand-over (%s)\n", static_cast<int>(model.size()),
                    model.data(), result.switch_ns, result.switch_what);
    }
    std::printf(
        "result model=%.*s tasks=%d create_ns=%.0f peak_kib=%ld growth_kib=%ld "
        "bytes_per_task=%.0f switch_ns=%.1f\n",
        static_cast<int>(model.size()), model.data(), result.tasks, result.create_ns,
        result.peak_kib, growth_kib, bytes_per_task, result.switch_ns);
    return 0;
}
