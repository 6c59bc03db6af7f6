// ch02-coroutines: the ch02-os-threads program with C++20 coroutines on a one-thread scheduler.
//
// Chapter 2's fourth model, async/await: a task is a function that can stop in the middle
// (at `co_await`) and be continued later, on the same thread, by whoever holds its handle.
// C++20 gives only the language part; the task type, the awaiter and the scheduler that
// every program needs are written here, in about a hundred lines, so nothing is hidden.
//
// What the compiler does with a coroutine (any function containing co_await, co_yield or
// co_return), for example long_running() below:
//   - It allocates a coroutine frame on the heap and moves into it everything that must
//     survive a suspension: the parameters, the locals, the promise object (the
//     promise_type named by the return type) and a number saying where to continue.
//   - It turns the body into a state machine: each co_await is a point where the function
//     may return to its caller, and where a later resume() jumps back in, with the locals
//     still in the frame. No stack is kept for a suspended coroutine: only the frame.
//   - The call itself allocates the frame, creates the promise, asks it whether to stop
//     before the first line of the body (initial_suspend; here it does) and returns the
//     Task holding a handle to the frame.
//   - `co_await x` asks x three things: await_ready() (done already? then go on without
//     suspending), await_suspend(handle) (suspended: here is how to resume me later),
//     await_resume() (the result, when resumed).
// This is the C++ counterpart of the chapter's Rust futures (a state machine that does
// nothing until polled by a runtime) and JavaScript promises (a continuation registered to
// run later). As in Rust, a Task here does nothing until the scheduler or an awaiting task
// starts it.
//
// The trap: the frame must outlive every resumption. The scheduler keeps only handles; the
// Task objects that own the frames stay alive in run() until the scheduler has finished,
// and a task awaited inside another lives in the awaiting frame until it has ended.
//
// Usage:    ch02-coroutines           (takes no arguments; --help prints the usage)
// Platform: any OS with a C++20 compiler.
//
// What to watch for: the same five lines as ch02-os-threads, from the same three sleeps,
// with one thread and no stack per task: each sleeping task is its heap frame alone.
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <iostream>
#include <map>
#include <string_view>
#include <thread>
#include <utility>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------------
// The scheduler: tasks ready to run, and tasks waiting for a time
// ----------------------------------------------------------------------------------------

// A task is known to the scheduler by its coroutine handle: a pointer to its frame.
// resume() continues the task where it stopped, on this thread, until its next co_await.
class Scheduler {
  public:
    void start(std::coroutine_handle<> task) {
        ready_tasks.push_back(task);
    }

    void wake_at(Clock::time_point deadline, std::coroutine_handle<> task) {
        sleeping_tasks.emplace(deadline, task);  // equal deadlines keep their order
    }

    // Runs until no task is ready or asleep: every task has ended (or waits on a task
    // that will resume it when it ends).
    void run() {
        while (!ready_tasks.empty() || !sleeping_tasks.empty()) {
            while (!ready_tasks.empty()) {
                const std::coroutine_handle<> task = ready_tasks.front();
                ready_tasks.pop_front();
                task.resume();  // runs until the task's next co_await, or its end
            }
            if (!sleeping_tasks.empty()) {
                // Nothing to run: wait for the earliest deadline, then that task is ready.
                const auto earliest = sleeping_tasks.begin();
                std::this_thread::sleep_until(earliest->first);
                ready_tasks.push_back(earliest->second);
                sleeping_tasks.erase(earliest);
            }
        }
    }

  private:
    std::deque<std::coroutine_handle<>> ready_tasks;
    std::multimap<Clock::time_point, std::coroutine_handle<>> sleeping_tasks;
};

// One scheduler for the program's one thread. The awaiter below finds it here, as an async
// runtime's sleep finds its runtime through a thread-local "current runtime".
Scheduler scheduler;

// ----------------------------------------------------------------------------------------
// The awaiter: co_await sleep_for(d)
// ----------------------------------------------------------------------------------------

// Suspends the awaiting task and hands it to the scheduler's timers; the scheduler
// resumes it when the deadline has passed. The thread does not sleep here.
struct SleepAwaiter {
    Clock::time_point deadline;

    bool await_ready() const noexcept {
        return Clock::now() >= deadline;  // already due: do not suspend at all
    }
    void await_suspend(std::coroutine_handle<> awaiting_task) const {
        scheduler.wake_at(deadline, awaiting_task);
    }
    void await_resume() const noexcept {}
};

SleepAwaiter sleep_for(Clock::duration delay) {
    return SleepAwaiter{Clock::now() + delay};
}

// ----------------------------------------------------------------------------------------
// The task type: the return type of every coroutine below
// ----------------------------------------------------------------------------------------

// A Task owns one coroutine frame and destroys it when the Task goes away. A task can be
// started by the scheduler (Scheduler::start) or awaited by another task (co_await task),
// which starts it and resumes the awaiting task when it has ended.
class Task {
  public:
    struct promise_type;
    using Handle = std::coroutine_handle<promise_type>;

    // Where a task goes when its body ends: back to the task that awaited it, if any.
    // Returning a handle from await_suspend resumes that coroutine next, in place of a
    // call (a "symmetric transfer"), so a chain of tasks does not grow the stack.
    struct FinalAwaiter {
        bool await_ready() const noexcept {
            return false;
        }
        std::coroutine_handle<> await_suspend(Handle finished_task) const noexcept {
            const std::coroutine_handle<> awaiting = finished_task.promise().awaiting_task;
            return awaiting ? awaiting : std::noop_coroutine();  // none: back to the scheduler
        }
        void await_resume() const noexcept {}
    };

    // The compiler creates one promise in each frame and calls these at the points their
    // names say.
    struct promise_type {
        std::coroutine_handle<> awaiting_task;  // resumed when this task ends, if set

        Task get_return_object() {
            return Task(Handle::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept {
            return {};  // do nothing until started: a task is lazy, as a Rust future is
        }
        FinalAwaiter final_suspend() noexcept {
            return {};  // stay suspended at the end, so the Task can still destroy the frame
        }
        void return_void() {}
        void unhandled_exception() {
            std::terminate();  // no task here throws; one that did would end the program
        }
    };

    explicit Task(Handle frame) : frame(frame) {}
    Task(Task&& other) noexcept : frame(std::exchange(other.frame, {})) {}
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    Task& operator=(Task&&) = delete;
    ~Task() {
        if (frame) {
            frame.destroy();  // frees the heap frame and everything in it
        }
    }

    Handle handle() const {
        return frame;
    }

    // co_await task: start it now, and resume the awaiting task when it ends.
    bool await_ready() const noexcept {
        return false;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
        frame.promise().awaiting_task = awaiting;
        return frame;  // run the awaited task next, on this thread
    }
    void await_resume() const noexcept {}

  private:
    Handle frame;
};

// ----------------------------------------------------------------------------------------
// The program: the same five lines as ch02-os-threads
// ----------------------------------------------------------------------------------------

// One thread prints, so no line can interleave with another; std::endl flushes each line
// so it appears when it happens, also when the output is a pipe.
void print_line(std::string_view line) {
    std::cout << line << std::endl;
}

Task long_running() {
    co_await sleep_for(200ms);
    print_line("The long running tasks finish last!");
}

Task like_this() {
    co_await sleep_for(50ms);
    print_line("...like this!");
}

Task chained() {
    co_await sleep_for(100ms);
    print_line("We can chain callbacks...");
    // Start a task and wait for it to end, as the thread version joins its third thread.
    // The awaited Task lives in this frame until the co_await is over.
    co_await like_this();
}

void run() {
    print_line("So, we start the program here!");

    // Each call allocates a frame and returns at once: no line of either body has run.
    const Task first = long_running();
    const Task second = chained();
    scheduler.start(first.handle());
    scheduler.start(second.handle());

    print_line("The tasks run concurrently!");

    // The scheduler resumes the tasks as they become ready. The two Tasks above own the
    // frames and are destroyed only when run() returns, after the last resumption.
    scheduler.run();
}

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch02-coroutines\n"
    "Prints five lines from three C++20 coroutines on one thread.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch02-coroutines", usage_text);  // support/one_option.hpp
    run();
    return 0;
}
