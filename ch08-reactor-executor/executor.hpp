// ch08-reactor-executor/executor.hpp: the executor, and the Task every coroutine here returns.
//
// The book's executor (ch08/b-reactor-executor, executor.rs): block_on runs the ready tasks on
// the thread that calls it, and parks that thread while none is ready, until a waker
// (reactor.hpp) queues one. A task is a coroutine handle; resume() runs it to its next
// co_await. Only this thread resumes tasks, so a task never runs on two threads at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <utility>

// Owns one coroutine frame, as ch02-coroutines' Task does; lazy, as a Rust future. `co_await
// task` runs it and resumes the awaiting coroutine at its end: connect, write_all and
// read_to_end are coroutines inside a request's task.
struct Task {
    struct promise_type;
    using Handle = std::coroutine_handle<promise_type>;
    struct FinalAwaiter {  // at the end: back to the awaiting coroutine, or to the executor
        bool await_ready() const noexcept {
            return false;
        }
        std::coroutine_handle<> await_suspend(Handle finished) const noexcept {
            const std::coroutine_handle<> awaiting = finished.promise().awaiting;
            return awaiting ? awaiting : std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    struct promise_type {
        std::coroutine_handle<> awaiting;  // none for a spawned task: block_on sees done()
        Task get_return_object() {
            return Task(Handle::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept {
            return {};
        }
        FinalAwaiter final_suspend() noexcept {
            return {};
        }
        void return_void() {}
        void unhandled_exception() {
            std::terminate();  // nothing here throws: errors end the program (fail)
        }
    };

    explicit Task(Handle frame) : frame(frame) {}
    Task(Task&& other) noexcept : frame(std::exchange(other.frame, {})) {}
    ~Task() {
        if (frame) {
            frame.destroy();  // the frame and all in it (a TcpStream deregisters, then closes)
        }
    }
    // co_await task: run it now, on this thread (a symmetric transfer: no stack grows).
    bool await_ready() const noexcept {
        return false;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
        frame.promise().awaiting = awaiting;
        return frame;
    }
    void await_resume() const noexcept {}

    Handle frame;
};

using Clock = std::chrono::steady_clock;
inline thread_local const char* this_thread_name = "";  // "main" or "reactor": who resumed

class Executor {
  public:
    static inline thread_local Executor* current = nullptr;  // the book's CURRENT_EXEC
    // Puts a task in the ready queue and unparks the executor; any thread may call it.
    void schedule(std::coroutine_handle<> task) {
        const std::lock_guard lock(mutex);
        ready_queue.push_back(task);
        parker.notify_one();  // the book's thread.unpark()
    }
    void spawn(Task task) {  // keeps the task; it starts at its turn
        schedule(tasks.emplace_back(std::move(task)).frame);
    }
    // Runs `task` and the tasks it spawns until all have ended (true) or the deadline passed.
    bool block_on(Task task, Clock::time_point deadline) {
        current = this;
        spawn(std::move(task));
        while (!tasks.empty()) {
            std::unique_lock lock(mutex);
            // The parker. A wake may come from the reactor's thread at any moment, also
            // between finding the queue empty and going to sleep (the lost wakeup): not lost
            // here, because the queue is checked and the thread parked under the lock that
            // schedule takes to push, and wait_until checks again on waking.
            if (!parker.wait_until(lock, deadline, [this] { return !ready_queue.empty(); })) {
                return false;
            }
            const std::coroutine_handle<> ready = ready_queue.front();
            ready_queue.pop_front();
            lock.unlock();
            ready.resume();  // to the task's next co_await, or its end
            std::erase_if(tasks, [](const Task& spawned) { return spawned.frame.done(); });
        }
        return true;
    }

  private:
    std::list<Task> tasks;  // every spawned task until it ends; only this thread uses it
    std::mutex mutex;       // guards ready_queue, which the reactor's thread pushes to
    std::condition_variable parker;
    std::deque<std::coroutine_handle<>> ready_queue;
};

// The book's runtime::spawn: a task for the executor running on this thread.
inline void spawn(Task task) {
    Executor::current->spawn(std::move(task));
}
