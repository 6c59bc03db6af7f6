// ch08-reactor-executor/awaitables.hpp: co_await readable(stream), co_await writable(stream).
//
// The one leaf awaitable the tasks need: the book's HttpGetFuture, cut down to its wait. It
// gives the reactor the task's waker, arms the socket once (one-shot: the first wait
// registers, later ones reregister) and suspends; at the socket's event the executor resumes
// the task. Reading and writing are the task's own code (main.cpp), until "would block".
#pragma once

#include "reactor.hpp"
#include "sockets.hpp"

// A connection as a task holds it. Deregistered before it is closed: ~TcpStream's body runs
// first, the Socket member closes after it.
struct TcpStream {
    explicit TcpStream(Token token) : token(token) {}
    ~TcpStream() {
        if (registered) {
            Reactor::current->deregister(socket.get(), token);
        }
    }
    Socket socket;
    Token token;
    bool registered = false;
    Event last_event;  // the waker fills it in, on the reactor's thread, before queueing the task
};

struct Readiness {
    TcpStream& stream;
    Interest interest;
    bool await_ready() const noexcept {
        return false;  // the task was just told "would block", or has just started a connect
    }
    void await_suspend(std::coroutine_handle<> task) {
        const Token token = stream.token;
        const bool first_time = !std::exchange(stream.registered, true);
        // The waker first, then the arming: the lost wakeup. The event may come at once,
        // before the task is suspended as the executor sees it (resume() has not returned):
        // the reactor finds the waker, and the task waits in the ready queue until this
        // resume is over. Armed first, the event could find no waker, one-shot sends no second
        // one, and the task would wait forever. (The book's http.rs arms first: mio's stays armed.)
        Reactor::current->set_waker(token, TaskWaker{task, Executor::current, &stream.last_event});
        Registry& registry = Reactor::current->registry();
        if (const PollError error =
                first_time ? registry.register_source(stream.socket.get(), token, interest)
                           : registry.reregister(stream.socket.get(), token, interest)) {
            fail(first_time ? "register" : "reregister", describe(error));
        }
        // Nothing below touches this awaitable: with more executor threads than our one, the
        // task could already be running again elsewhere, and the awaitable gone.
        runtime_hooks::after_arming(token);
    }
    void await_resume() const noexcept {}  // the event is in stream.last_event
};

inline Readiness readable(TcpStream& stream) {
    return Readiness{stream, Interest{.readable = true}};
}
inline Readiness writable(TcpStream& stream) {
    return Readiness{stream, Interest{.writable = true}};
}
