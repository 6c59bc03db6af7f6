// ch08-reactor-executor/reactor.hpp: the reactor, and the waker it keeps for each token.
//
// The book's reactor (ch08/b-reactor-executor, reactor.rs): it owns ch03-poll's Poll (built
// from ch03-poll's files: no copy) and waits on it in its own thread. For each event it takes
// the waker kept under the event's token and wakes it: the task goes back to its executor's
// ready queue. It never runs a task. Poll's own Waker (poll.hpp) stops its thread at the end.
#pragma once

#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "executor.hpp"
#include "poll.hpp"
#include "runtime_hooks.hpp"  // empty for the program; the runtime test's own (hooks/)

// Defined by the program (main.cpp): report a failed call with the OS's message, exit 1.
[[noreturn]] void fail(std::string_view call, const std::string& message);
// What Poll made (a Poll, a Waker), or the end of the program with Poll's reason (poll.hpp).
template <typename T>
T made_or_fail(Made<T> made, std::string_view what) {
    if (!made) {
        fail(what, describe(made.error()));
    }
    return std::move(*made);
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

class Reactor {
  public:
    static inline Reactor* current = nullptr;  // the book's reactor(): one per program
    Reactor()
        : poll(made_or_fail(Poll::open(), "Poll")),
          stop_waker(made_or_fail(Waker::make(poll.registry(), stop_token), "Waker")) {
        current = this;
        thread = std::thread([this] { event_loop(); });
    }
    ~Reactor() {  // every task has ended: wake the thread to stop, and join it
        if (const PollError error = stop_waker.wake()) {
            fail("wake", describe(error));
        }
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
        if (const PollError error = poll.registry().deregister(socket)) {
            fail("deregister", describe(error));
        }
    }

  private:
    static constexpr Token stop_token{std::numeric_limits<std::size_t>::max()};  // no stream's
    static constexpr std::size_t max_events_per_wait = 16;  // a run's five streams fit

    void event_loop() {  // the reactor's thread
        this_thread_name = "reactor";
        Events events(max_events_per_wait);
        while (true) {
            // No timeout: the executor keeps the time. A signal is no error (poll.hpp).
            if (const PollError error = poll.poll(events, std::nullopt)) {
                fail("poll", describe(error));
            }
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
                runtime_hooks::after_event(event.token, !taken.empty());
            }
        }
    }

    Poll poll;
    Waker stop_waker;  // made after poll, which it refers to: the order of these two matters
    std::mutex mutex;  // guards wakers: tasks set them, the reactor's thread takes them
    std::unordered_map<std::size_t, TaskWaker> wakers;  // by token
    std::thread thread;
};
