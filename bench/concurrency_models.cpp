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
// fibers on ch02-fibers' own 64 KiB stacks with a guard page each (stack_posix.cpp),
// callbacks in a multimap by deadline, coroutines with a lazy task type and a timer queue.
//
// Platform: Linux (/proc/self/status), x86-64 or ARM64 (the fiber switch).
//
// Output: what it did, then one line `result model=... ` with the numbers, for a report.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "measure.h"
#include "options.h"
#include "stack.h"         // ch02-fibers' allocate_stack and free_stack
#include "switch_stack.h"  // ch02-fibers' switch_stack and prepare_stack, for this CPU

using Clock = std::chrono::steady_clock;

// --- What one run measures -------------------------------------------------------------

using measure::nanoseconds;

struct Measurement {
    double create_ns = 0;          // per task
    long resident_before_kib = 0;  // VmRSS before the first task
    long peak_kib = 0;             // VmHWM after the last task ended
    double switch_ns = -1;         // per hand-over; -1: not measured for this model
};

// --- Threads: std::thread, default stack; a sleeping task is parked on a condition variable ---

Measurement measure_threads(int tasks, int /* switches: see bench-thread-costs */,
                            Clock::duration sleep) {
    Measurement result;
    std::mutex mutex;
    std::condition_variable woken;
    int waiting = 0;
    bool released = false;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(tasks));
    result.resident_before_kib = measure::proc_kib("VmRSS");
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
    result.peak_kib = measure::proc_kib("VmHWM");
    return result;
}

// --- Fibers: ch02-fibers' switch, 64 KiB stacks with a guard page, a round-robin scheduler ---

constexpr std::size_t fiber_stack_bytes = 64 * 1024;  // as in ch02-fibers

struct BenchFiber {
    FiberStack stack;
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

// The stack and its guard page come from ch02-fibers' own allocate_stack (stack_posix.cpp).
void allocate_fiber(BenchFiber& fiber, void (*entry)()) {
    fiber.stack = allocate_stack(fiber_stack_bytes);
    fiber.saved_stack_pointer = prepare_stack(fiber.stack.limit, fiber.stack.base, entry);
}

// Two fibers that switch to each other directly, `switches` times in all.
struct PingPong {
    BenchFiber fibers[2];
    int switches_left = 0;
    void* main_stack_pointer = nullptr;
};
PingPong ping_pong;

template <int self>
void ping_pong_entry() noexcept {
    constexpr int other = 1 - self;
    while (ping_pong.switches_left > 0) {
        --ping_pong.switches_left;
        switch_stack(&ping_pong.fibers[self].saved_stack_pointer,
                     ping_pong.fibers[other].saved_stack_pointer);
    }
    switch_stack(&ping_pong.fibers[self].saved_stack_pointer, ping_pong.main_stack_pointer);
    std::abort();
}

Measurement measure_fibers(int tasks, int switches, Clock::duration sleep) {
    Measurement result;
    fiber_scheduler.sleep = sleep;
    fiber_scheduler.fibers.resize(static_cast<std::size_t>(tasks));
    result.resident_before_kib = measure::proc_kib("VmRSS");
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
        free_stack(fiber.stack);
    }
    result.peak_kib = measure::proc_kib("VmHWM");

    allocate_fiber(ping_pong.fibers[0], ping_pong_entry<0>);
    allocate_fiber(ping_pong.fibers[1], ping_pong_entry<1>);
    ping_pong.switches_left = switches;
    const Clock::time_point switch_start = Clock::now();
    switch_stack(&ping_pong.main_stack_pointer, ping_pong.fibers[0].saved_stack_pointer);
    result.switch_ns = nanoseconds(Clock::now() - switch_start) / switches;
    for (const BenchFiber& fiber : ping_pong.fibers) {
        free_stack(fiber.stack);
    }
    return result;
}

// --- Callbacks: a timer loop as in ch02-callbacks ---------------------------------------

// Runs what is due, earliest first, sleeping until it is due, until the queue is empty: the
// callbacks' loop, and the coroutines' (a coroutine_handle's () resumes it).
template <typename Due>
void run_timers(std::multimap<Clock::time_point, Due>& timers) {
    while (!timers.empty()) {
        const auto earliest = timers.begin();
        std::this_thread::sleep_until(earliest->first);
        Due due = std::move(earliest->second);
        timers.erase(earliest);
        due();
    }
}

Measurement measure_callbacks(int tasks, int switches, Clock::duration sleep) {
    Measurement result;
    std::multimap<Clock::time_point, std::function<void()>> timers;
    long woken = 0;
    result.resident_before_kib = measure::proc_kib("VmRSS");
    const Clock::time_point start = Clock::now();
    for (int index = 0; index < tasks; ++index) {
        timers.emplace(Clock::now() + sleep, [&woken] { ++woken; });
    }
    result.create_ns = nanoseconds(Clock::now() - start) / tasks;
    run_timers(timers);
    result.peak_kib = measure::proc_kib("VmHWM");

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
    return result;
}

// --- Coroutines: a lazy task type and a timer queue, as in ch02-coroutines --------------

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
    long woken = 0;
    std::vector<BenchTask> created;
    created.reserve(static_cast<std::size_t>(tasks));
    result.resident_before_kib = measure::proc_kib("VmRSS");
    const Clock::time_point start = Clock::now();
    for (int index = 0; index < tasks; ++index) {
        created.push_back(sleeping_task(sleep, woken));
    }
    result.create_ns = nanoseconds(Clock::now() - start) / tasks;
    for (BenchTask& task : created) {
        task.frame.resume();  // runs to its co_await: now it sleeps in the timer queue
    }
    run_timers(sleeping_coroutines);
    result.peak_kib = measure::proc_kib("VmHWM");
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
    suspending.frame.destroy();
    if (resumes != switches) {
        std::fprintf(stderr, "%s: %d resumes, expected %d\n", measure::program_name, resumes,
                     switches);
        std::exit(1);
    }
    return result;
}

// --- main -------------------------------------------------------------------------------

// The four models, in the chapter's order, with what the page's table calls each, and what
// one hand-over from task to task is in it.
struct Model {
    const char* key;        // the program's first argument
    const char* label;      // the table's first column
    const char* hand_over;  // the table's last column
    Measurement (*measure)(int tasks, int switches, Clock::duration sleep);
};
const Model models[] = {
    {"threads", "OS threads (`std::thread`, default stack)",
     "a context switch through a futex, in the kernel: section 1's last row", measure_threads},
    {"fibers", "fibers (ch02-fibers' `switch_stack`, 64 KiB stacks)",
     "`switch_stack` from one fiber straight to another", measure_fibers},
    {"callbacks", "callbacks (a timer loop, as in ch02-callbacks)",
     "the loop runs one callback, which sets the next", measure_callbacks},
    {"coroutines", "coroutines (C++20, as in ch02-coroutines)",
     "`resume()` of a coroutine that suspends again at once", measure_coroutines},
};

// rows: R rounds, the four models taking turns in each, each run its own process (this
// program again); then the page's section 4 table rows, "median (min–max)" over the runs.
int print_rows(int runs, int tasks, int switches, int sleep_ms) {
    std::vector<std::vector<std::string>> measurements;
    for (const Model& model : models) {
        measurements.push_back({model.key, "--tasks", std::to_string(tasks), "--switches",
                                std::to_string(switches), "--sleep-ms", std::to_string(sleep_ms)});
    }
    bool all_succeeded = true;
    const auto outputs = measure::run_rounds(measurements, runs, all_succeeded);
    for (std::size_t which = 0; which < std::size(models); ++which) {
        const Model& model = models[which];
        const auto cell = [&](const char* name, int decimals, double scale = 1) {
            return measure::cell(outputs[which], name, decimals, scale);
        };
        const bool threads = std::string_view(model.key) == "threads";
        std::printf("| %s | %s | %s | %s | %s | %s |\n", model.label, cell("create_ns", 0).c_str(),
                    cell("peak_kib", 1, 1.0 / 1024).c_str(), cell("bytes_per_task", 0).c_str(),
                    threads ? "section 1" : cell("switch_ns", 1).c_str(), model.hand_over);
    }
    return all_succeeded ? 0 : 1;
}

int main(int argc, char** argv) {
    measure::program_name = "bench-concurrency-models";
    CLI::App app{"What a task costs in each of chapter 2's four models.",
                 "bench-concurrency-models"};
    std::string model;
    int tasks = 10000, switches = 1000000, sleep_ms = 200, runs = 5;
    app.add_option("model", model,
                   "threads, fibers, callbacks or coroutines; or rows: all "
                   "four, R times each, and the page's table rows")
        ->required()
        ->check(CLI::IsMember({"threads", "fibers", "callbacks", "coroutines", "rows"}));
    add_number(app, "--tasks", tasks, "sleeping tasks", 1, 1000000);
    add_number(app, "--switches", switches, "hand-overs timed", 1, 100000000);
    add_number(app, "--sleep-ms", sleep_ms, "how long each task sleeps", 0, 60000);
    add_number(app, "--runs", runs, "with rows: the rounds", 1, 100);
    parse_command_line(app, argc, argv);
    if (model == "rows") {
        return print_rows(runs, tasks, switches, sleep_ms);
    }
    const Model& chosen = *std::ranges::find(models, model, &Model::key);
    const Measurement result = chosen.measure(tasks, switches, std::chrono::milliseconds(sleep_ms));
    const long growth_kib = result.peak_kib - result.resident_before_kib;
    const double bytes_per_task = growth_kib * 1024.0 / tasks;
    std::printf(
        "%s: %d sleeping tasks, %.0f ns to create one, peak %ld KiB (%ld KiB more than before "
        "the first task: %.0f bytes per task)\n",
        chosen.key, tasks, result.create_ns, result.peak_kib, growth_kib, bytes_per_task);
    if (result.switch_ns >= 0) {
        std::printf("%s: %.1f ns per hand-over (%s)\n", chosen.key, result.switch_ns,
                    chosen.hand_over);
    }
    std::printf(
        "result model=%s tasks=%d create_ns=%.0f peak_kib=%ld growth_kib=%ld "
        "bytes_per_task=%.0f switch_ns=%.1f\n",
        chosen.key, tasks, result.create_ns, result.peak_kib, growth_kib, bytes_per_task,
        result.switch_ns);
    return 0;
}
