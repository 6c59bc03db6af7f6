// ch03-poll/selector.hpp: what each backend file implements (mio calls it the Selector).
//
// A small interface, the same functions in every backend file, in this order: poll_epoll.cpp,
// poll_kqueue.cpp, poll_io_uring.cpp, poll_afd.cpp. The build compiles one of them. What is
// the same on every OS is in poll.cpp, not here: the table of registrations, the errors for
// bad use, and waiting again after a signal. One-shot is the backend's: the OS is asked.
//
// A backend never sees the caller's tokens. poll.cpp gives each registration an id, and the
// backend hands the OS that id as the event's user data; its events carry the id in
// Event::token. So a token changed by reregister needs no OS call (libkqueue ignores a new
// udata unless EV_CLEAR is set), and an event of a registration that no longer exists is
// recognised and dropped. The Waker's events carry waker_id.
//
// Threads: add, modify, remove and wake are called one at a time (poll.cpp holds its table's
// lock), from any thread; select runs on the polling thread at the same time as them.
#pragma once

#include <memory>

#include "poll.hpp"

constexpr std::uint64_t waker_id = 0;  // registrations are numbered from 1

// A destructor cannot return an error: a failed close of the queue or the wake-up descriptor
// is said on standard error, with the OS's message ("Poll: close: Bad file descriptor").
void report_failed_close(const PollError& error);

class Selector {
  public:
    explicit Selector(PollError& error);  // the OS's queue, and the Waker's way in
    ~Selector();
    // Watch the socket for interest, once (one-shot), reporting it as id.
    PollError add(RawSocket socket, std::uint64_t id, Interest interest);
    // Watch it again, once, for interest: the re-arm.
    PollError modify(RawSocket socket, std::uint64_t id, Interest interest);
    // Stop watching it; nothing more may be reported for id.
    PollError remove(RawSocket socket, std::uint64_t id);
    // Waits for events (none: forever), at most capacity of them, appended to events. May
    // return with none before the timeout (a signal, an OS notice the caller must not see).
    PollError select(std::vector<Event>& events, std::size_t capacity,
                     std::optional<std::chrono::milliseconds> timeout);
    // Makes select return an event with waker_id, from any thread.
    PollError wake();

  private:
    struct State;  // each backend's own: its queue's descriptors or handles
    std::unique_ptr<State> state_;
};
