// ch03-poll/poll_epoll.cpp: the Poll contract on Linux's epoll.
//
//   selector.hpp   epoll
//   Selector       epoll_create1(EPOLL_CLOEXEC); an eventfd, registered for the Waker
//   add            epoll_ctl(EPOLL_CTL_ADD) with EPOLLONESHOT: one event, then disabled
//   modify         epoll_ctl(EPOLL_CTL_MOD) with EPOLLONESHOT: enabled again, for once
//   remove         epoll_ctl(EPOLL_CTL_DEL)
//   select         epoll_wait; EINTR is no error (poll.cpp waits again)
//   wake           write(eventfd, 1); select reads it back to zero
//
//   Event          epoll's bits
//   readable       EPOLLIN
//   writable       EPOLLOUT
//   closed         EPOLLRDHUP (the peer shut its side) or EPOLLHUP (both sides, or a reset)
//   error          EPOLLERR
//
// The id travels in epoll_event's data.u64. struct epoll_event comes from <sys/epoll.h>, never
// copied by hand: it is packed on x86-64 only (see ch03-epoll).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "selector.hpp"

struct Selector::State {
    int epoll = -1;
    int wake_event = -1;  // an eventfd: a counter that is readable while it is not zero
};

namespace {

PollError os_error(const char* call) {
    return {PollErrc::os_call_failed, call, errno};
}

// The same flags for add and modify: what to report, and once.
std::uint32_t epoll_flags(Interest interest) {
    std::uint32_t flags = EPOLLONESHOT   // one event, then disabled until EPOLL_CTL_MOD
                          | EPOLLRDHUP;  // the peer's close, told apart from data
    if (interest.readable) {
        flags |= EPOLLIN;
    }
    if (interest.writable) {
        flags |= EPOLLOUT;
    }
    return flags;
}

PollError control(int epoll, int operation, RawSocket socket, std::uint64_t id, Interest interest) {
    epoll_event event = {};
    event.events = epoll_flags(interest);
    event.data.u64 = id;
    if (epoll_ctl(epoll, operation, static_cast<int>(socket), &event) != 0) {
        if (errno == EBADF) {
            return {PollErrc::not_a_socket};  // closed, or never opened
        }
        return os_error("epoll_ctl");
    }
    return {};
}

}  // namespace

Selector::Selector(PollError& error) : state_(std::make_unique<State>()) {
    state_->epoll = epoll_create1(EPOLL_CLOEXEC);
    if (state_->epoll < 0) {
        error = os_error("epoll_create1");
        return;
    }
    state_->wake_event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (state_->wake_event < 0) {
        error = os_error("eventfd");
        return;
    }
    // Level-triggered, not one-shot: readable until select reads the counter back to zero.
    epoll_event event = {};
    event.events = EPOLLIN;
    event.data.u64 = waker_id;
    if (epoll_ctl(state_->epoll, EPOLL_CTL_ADD, state_->wake_event, &event) != 0) {
        error = os_error("epoll_ctl");
    }
}

Selector::~Selector() {
    for (int descriptor : {state_->wake_event, state_->epoll}) {
        if (descriptor >= 0 && close(descriptor) != 0) {
            report_failed_close(os_error("close"));
        }
    }
}

PollError Selector::add(RawSocket socket, std::uint64_t id, Interest interest) {
    return control(state_->epoll, EPOLL_CTL_ADD, socket, id, interest);
}

PollError Selector::modify(RawSocket socket, std::uint64_t id, Interest interest) {
    return control(state_->epoll, EPOLL_CTL_MOD, socket, id, interest);
}

PollError Selector::remove(RawSocket socket, std::uint64_t) {
    // An event already taken from epoll by a select on another thread may still come out of
    // it: poll.cpp drops it, since the id is no longer in its table.
    if (epoll_ctl(state_->epoll, EPOLL_CTL_DEL, static_cast<int>(socket), nullptr) != 0) {
        return os_error("epoll_ctl");
    }
    return {};
}

PollError Selector::select(std::vector<Event>& events, std::size_t capacity,
                           std::optional<std::chrono::milliseconds> timeout) {
    std::vector<epoll_event> ready(capacity);
    const int count = epoll_wait(state_->epoll, ready.data(), static_cast<int>(capacity),
                                 timeout ? static_cast<int>(timeout->count()) : -1);
    if (count < 0 && errno == EINTR) {
        return {};  // A signal arrived while we slept: not an error.
    }
    if (count < 0) {
        return os_error("epoll_wait");
    }
    for (int index = 0; index < count; ++index) {
        const std::uint32_t bits = ready[index].events;
        if (ready[index].data.u64 == waker_id) {
            std::uint64_t wakes = 0;  // reading the counter resets it to zero
            if (read(state_->wake_event, &wakes, sizeof wakes) < 0 && errno != EAGAIN) {
                return os_error("read");
            }
        }
        events.push_back(Event{Token{ready[index].data.u64}, (bits & EPOLLIN) != 0,
                               (bits & EPOLLOUT) != 0, (bits & (EPOLLRDHUP | EPOLLHUP)) != 0,
                               (bits & EPOLLERR) != 0});
    }
    return {};
}

PollError Selector::wake() {
    const std::uint64_t one = 1;
    if (write(state_->wake_event, &one, sizeof one) < 0 && errno != EAGAIN) {
        return os_error("write");  // EAGAIN: the counter is full, a wake is pending anyway
    }
    return {};
}
