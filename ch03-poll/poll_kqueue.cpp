// ch03-poll/poll_kqueue.cpp: the Poll contract on kqueue (macOS, the BSDs; Linux through
// libkqueue, which builds kqueue on top of epoll).
//
//   selector.hpp   kqueue
//   Selector       kqueue(), close-on-exec; an EVFILT_USER event for the Waker
//   add            kevent: EV_ADD | EV_DISPATCH on EVFILT_READ, EVFILT_WRITE or both
//   modify         kevent: EV_ENABLE (or EV_ADD, the first time) on the filters asked for,
//                  EV_DISABLE on one added before and not asked for now
//   remove         kevent: EV_DELETE on the filters added
//   select         kevent with no changes; EINTR is no error (poll.cpp waits again); for a
//                  socket asked for both, EV_DISABLE on the filter that did not fire
//   wake           kevent: NOTE_TRIGGER on the EVFILT_USER event
//
//   Event          the kevent
//   readable       filter EVFILT_READ
//   writable       filter EVFILT_WRITE
//   closed         EV_EOF (the peer shut its side, or a reset)
//   error          EV_ERROR, or EV_EOF with an error in fflags (a reset: ECONNRESET)
//
// EV_DISPATCH is kqueue's one-shot: after its event, the filter is disabled until
// EV_ENABLE (EV_ONESHOT would delete it instead, and the re-arm would have to add it again).
// What is not the contract, and this file hides (the traps found with libkqueue 2.7.0):
//   - Read and write are two filters: a socket asked for both can report twice. Both events
//     in one kevent call are merged by poll.cpp; for the rest, select disables the filter
//     that did not fire, so the registration stays silent until reregister.
//   - Re-arming with EV_ADD | EV_DISPATCH returns 0 and does not re-enable: EV_ENABLE does.
//     And EV_ADD | EV_DISABLE, to add a filter switched off, fails (EFAULT) or reports: a
//     filter is added only when it is first asked for.
//   - A changed udata is ignored unless EV_CLEAR is set: the udata here is the registration's
//     id, which reregister never changes (poll.cpp keeps the token).
//   - A closed descriptor fails with EFAULT, not EBADF; and one closed without EV_DELETE
//     whose number is reused makes the next EV_ADD fail: deregister deletes before close.
#include <fcntl.h>
#include <sys/event.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <unordered_map>

#include "selector.hpp"

namespace {

constexpr uintptr_t waker_ident = 0;  // EVFILT_USER events have numbers of their own

PollError os_error(const char* call) {
    return {PollErrc::os_call_failed, call, errno};
}

void* as_udata(std::uint64_t id) {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(id));
}

// Applies changes to the kqueue, reporting nothing. An error in a change fails the call.
PollError change(int queue, struct kevent* changes, int count) {
    if (count == 0) {
        return {};  // nothing to change (kevent would wait for events instead)
    }
    if (kevent(queue, changes, count, nullptr, 0, nullptr) != 0) {
        if (errno == EBADF || errno == EFAULT) {
            return {PollErrc::not_a_socket};  // EFAULT: libkqueue's answer for a closed one
        }
        return os_error("kevent");
    }
    return {};
}

// Which filters a registration has (added), and which it asks for now.
struct Filters {
    Interest wanted;
    bool read_added = false;
    bool write_added = false;
};

// The changes that make the kqueue match `wanted`: a filter asked for is enabled, once
// (added the first time), one not asked for is disabled if it was added.
PollError apply(int queue, RawSocket socket, std::uint64_t id, Filters& filters) {
    struct kevent changes[2];
    int count = 0;
    auto set = [&](short filter, bool wanted, bool& added) {
        if (wanted) {
            const unsigned short on = added ? EV_ENABLE : EV_ADD;
            EV_SET(&changes[count++], socket, filter, on | EV_DISPATCH, 0, 0, as_udata(id));
            added = true;
        } else if (added) {
            EV_SET(&changes[count++], socket, filter, EV_DISABLE, 0, 0, as_udata(id));
        }
    };
    set(EVFILT_READ, filters.wanted.readable, filters.read_added);
    set(EVFILT_WRITE, filters.wanted.writable, filters.write_added);
    return change(queue, changes, count);
}

}  // namespace

struct Selector::State {
    int queue = -1;
    // Each registration's filters, so select knows whose other filter to disable; guarded,
    // since select runs while another thread registers.
    std::mutex mutex;
    std::unordered_map<std::uint64_t, Filters> registrations;
};

Selector::Selector(PollError& error) : state_(std::make_unique<State>()) {
    state_->queue = kqueue();
    if (state_->queue < 0) {
        error = os_error("kqueue");
        return;
    }
    // Close-on-exec, as mio and libuv set it: a child process must not share the queue.
    if (fcntl(state_->queue, F_SETFD, FD_CLOEXEC) != 0) {
        error = os_error("fcntl");
        return;
    }
    struct kevent waker;
    EV_SET(&waker, waker_ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, nullptr);
    error = change(state_->queue, &waker, 1);
}

Selector::~Selector() {
    if (state_->queue >= 0 && close(state_->queue) != 0) {
        report_failed_close(os_error("close"));
    }
}

PollError Selector::add(RawSocket socket, std::uint64_t id, Interest interest) {
    const std::lock_guard lock(state_->mutex);
    Filters filters = {interest};
    const PollError error = apply(state_->queue, socket, id, filters);
    if (!error) {
        state_->registrations[id] = filters;
    }
    return error;
}

PollError Selector::modify(RawSocket socket, std::uint64_t id, Interest interest) {
    const std::lock_guard lock(state_->mutex);
    Filters& filters = state_->registrations[id];
    filters.wanted = interest;
    return apply(state_->queue, socket, id, filters);
}

PollError Selector::remove(RawSocket socket, std::uint64_t id) {
    const std::lock_guard lock(state_->mutex);
    const Filters filters = state_->registrations[id];
    state_->registrations.erase(id);
    struct kevent changes[2];
    int count = 0;
    if (filters.read_added) {
        EV_SET(&changes[count++], socket, EVFILT_READ, EV_DELETE, 0, 0, nullptr);
    }
    if (filters.write_added) {
        EV_SET(&changes[count++], socket, EVFILT_WRITE, EV_DELETE, 0, 0, nullptr);
    }
    return change(state_->queue, changes, count);
}

PollError Selector::select(std::vector<Event>& events, std::size_t capacity,
                           std::optional<std::chrono::milliseconds> timeout) {
    std::vector<struct kevent> ready(capacity);
    timespec limit = {};
    if (timeout) {
        limit.tv_sec = static_cast<time_t>(timeout->count() / 1000);
        limit.tv_nsec = static_cast<long>(timeout->count() % 1000) * 1000000;
    }
    const int count = kevent(state_->queue, nullptr, 0, ready.data(), static_cast<int>(capacity),
                             timeout ? &limit : nullptr);
    if (count < 0 && errno == EINTR) {
        return {};  // A signal arrived while we slept: not an error.
    }
    if (count < 0) {
        return os_error("kevent");
    }
    const std::lock_guard lock(state_->mutex);
    for (int index = 0; index < count; ++index) {
        const struct kevent& event = ready[index];
        if (event.filter == EVFILT_USER) {
            events.push_back(Event{Token{waker_id}, true});
            continue;
        }
        const auto id = static_cast<std::uint64_t>(reinterpret_cast<uintptr_t>(event.udata));
        const auto found = state_->registrations.find(id);
        if (found == state_->registrations.end()) {
            continue;  // deregistered since kevent returned (and maybe its number reused)
        }
        if (found->second.wanted.readable && found->second.wanted.writable) {
            // The other filter is still enabled: disabled now, or it would report a second
            // event before the re-arm. (If it fired in this same call, poll.cpp merges it.)
            struct kevent other;
            EV_SET(&other, event.ident, event.filter == EVFILT_READ ? EVFILT_WRITE : EVFILT_READ,
                   EV_DISABLE, 0, 0, as_udata(id));
            change(state_->queue, &other, 1);  // an error here changes nothing we report
        }
        // EV_EOF with the socket's error in fflags: kqueue has read it, and the socket no
        // longer holds it, so it goes to the caller in the event (failure_reason).
        const bool eof = (event.flags & EV_EOF) != 0;
        const long os_error = (event.flags & EV_ERROR) != 0 ? static_cast<long>(event.data)
                              : eof                         ? static_cast<long>(event.fflags)
                                                            : 0;
        events.push_back(Event{Token{id}, event.filter == EVFILT_READ, event.filter == EVFILT_WRITE,
                               eof, os_error != 0 || (event.flags & EV_ERROR) != 0, os_error});
    }
    return {};
}

PollError Selector::wake() {
    struct kevent trigger;
    EV_SET(&trigger, waker_ident, EVFILT_USER, 0, NOTE_TRIGGER, 0, nullptr);
    return change(state_->queue, &trigger, 1);
}
