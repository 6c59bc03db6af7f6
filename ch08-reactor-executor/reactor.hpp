// ch08-reactor-executor/reactor.hpp: the reactor, and the waker it keeps for each token.
//
// The book's reactor (ch08/b-reactor-executor, reactor.rs): it owns ch03-poll's Poll (built
// from ch03-poll's files: no copy) and waits on it in its own thread. For each event it takes
// the waker kept under the event's token and wakes it: the task goes back to its executor's
// ready queue. It never runs a task. Poll's own Waker (poll.hpp) stops its thread at the end.
#pragma once

#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "executor.hpp"
#include "poll.hpp"
#include "sockets.hpp"

// Defined by the program (main.cpp): report a failed call with the OS's message, exit 1.
[[noreturn]] void fail(std::string_view call, const std::string& message);
// Poll's errors: the OS call that failed under it and the OS's message, or Poll's own.
inline void check(PollError error, std::string_view what) {
    if (error) {
        fail(what, error.code == PollErrc::os_call_failed
                       ? std::string(error.call) + ": " + socket_error_message(error.os_error)
                       : describe(error.code));
    }
}

// The book's Waker: a task and its executor. wake(), on the reactor's thread, once, leaves the
// event for the task (libkqueue and AFD tell a reset only to Poll), then queues the task.
struct TaskWaker {
    std::coroutine_handle<> task;
    Executor* executor;
    Event* event;
    void wake(const Event& happened) const {
        *event = happened;
        executor->schedule(task);
    }
};

// For the tests only (runtime_test.cpp): on the task's thread just after its socket is armed,
// before it suspends; on the reactor's thread after each event, with whether it woke a task.
inline void (*after_arming_for_tests)(Token token) = [](Token) {};
inline void (*after_event_for_tests)(Token token, bool woke_a_task) = [](Token, bool) {};

class Reactor {
  public:
    static inline Reactor* current = nullptr;  // the book's reactor(): one per program
    Reactor() : poll(error) {
        check(error, "Poll");
        stop_waker = std::make_unique<Waker>(poll.registry(), stop_token, error);
        check(error, "Waker");
        current = this;
        thread = std::thread([this] { event_loop(); });
    }
    ~Reactor() {  // every task has ended: wake the thread to stop, and join it
        check(stop_waker->wake(), "wake");
        thread.join();
    }
    Registry& registry() {
        return poll.registry();
    }
    void set_waker(Token token, const TaskWaker& waker) {
        const std::lock_guard lock(mutex);
        wakers.insert_or_assign(token.value, waker);  // always the latest, as the book says
    }
    // The waker forgotten, the socket deregistered: before the socket is closed (poll.hpp).
    void deregister(RawSocket socket, Token token) {
        const std::lock_guard lock(mutex);
        wakers.erase(token.value);
        check(poll.registry().deregister(socket), "deregister");
    }

  private:
    static constexpr Token stop_token{std::numeric_limits<std::size_t>::max()};  // no stream's
    static constexpr std::size_t max_events_per_wait = 16;  // a run's five streams fit

    void event_loop() {  // the reactor's thread
        this_thread_name = "reactor";
        Events events(max_events_per_wait);
        while (true) {
            // No timeout: the executor keeps the time. A signal is no error (poll.hpp).
            check(poll.poll(events, std::nullopt), "poll");
            for (const Event& event : events.list) {
                if (event.token == stop_token) {
                    return;
                }
                // A waker wakes once: taken out here, set again when the task next waits. So
                // no event can queue a task twice, nor a task that has ended.
                std::unique_lock lock(mutex);
                const auto taken = wakers.extract(event.token.value);  // empty: none waits
                lock.unlock();
                if (!taken.empty()) {
                    taken.mapped().wake(event);  // outside this lock: the executor takes its own
                }
                after_event_for_tests(event.token, !taken.empty());
            }
        }
    }

    PollError error;  // Poll's and Waker's, when they are made
    Poll poll;
    std::unique_ptr<Waker> stop_waker;
    std::mutex mutex;  // guards wakers: tasks set them, the reactor's thread takes them
    std::unordered_map<std::size_t, TaskWaker> wakers;  // by token
    std::thread thread;
};
