// ch03-poll/poll_io_uring.cpp: the Poll contract on Linux's io_uring, through liburing.
//
//   selector.hpp   io_uring
//   Selector       io_uring_queue_init_params: one ring (submission and completion queues)
//   add            IORING_OP_POLL_ADD: a single-shot poll, completed once when ready
//   modify         IORING_OP_POLL_REMOVE of the poll still pending, if any, then a new POLL_ADD
//   remove         IORING_OP_POLL_REMOVE of the poll still pending, if any
//   select         io_uring_wait_cqe_timeout, then the completions that are there
//   wake           IORING_OP_NOP: its completion wakes the waiting thread
//
//   Event          the poll's result (POLL* bits, or -errno)
//   readable       POLLIN
//   writable       POLLOUT
//   closed         POLLRDHUP (the peer shut its side) or POLLHUP (both sides, or a reset)
//   error          POLLERR, or a negative result
//
// io_uring is completion-based, and a poll is one operation like a read: readiness is what
// it completes with. Each POLL_ADD is one-shot by nature, which is the contract. What is not
// the contract, and this file hides (the traps found on this kernel, liburing 2.3):
//   - Removing is itself an operation. Its completion, and the cancelled poll's -ECANCELED,
//     arrive later. So each POLL_ADD gets a number of its own (an "arming", its user_data),
//     and a completion whose arming is no longer current is dropped: it belongs to a poll
//     that was re-armed or removed.
//   - A closed socket's poll never completes, and the kernel keeps the socket alive until the
//     poll is removed: deregister (before close, as the contract says) removes it.
//   - POLL_ADD on a closed descriptor completes later with -EBADF; the contract wants the
//     error now, so add asks fcntl first.
//   - The submission queue is not thread-safe: a register from another thread takes a lock.
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>

#include <cerrno>
#include <mutex>
#include <unordered_map>

#include "selector.hpp"

namespace {

// Big enough that a burst of registrations never waits for room; the completion queue is
// larger still (1,000 polls may complete at once), and the kernel keeps what overflows it.
constexpr unsigned submission_entries = 256;
constexpr unsigned completion_entries = 4096;

// user_data values that are not armings: the Waker's NOP, and POLL_REMOVE's own completion.
constexpr std::uint64_t wake_user_data = waker_id;
constexpr std::uint64_t remove_user_data = ~std::uint64_t(0);

PollError os_error(const char* call, int negative_errno) {
    return {PollErrc::os_call_failed, call, -negative_errno};
}

}  // namespace

struct Selector::State {
    io_uring ring = {};
    bool ring_made = false;
    std::mutex mutex;  // the submission queue and the tables below
    std::uint64_t next_arming = 1;
    // The poll pending for each registration (0: none, it completed), and back.
    std::unordered_map<std::uint64_t, std::uint64_t> pending_arming;  // id -> arming
    std::unordered_map<std::uint64_t, std::uint64_t> arming_id;       // arming -> id

    // A submission queue entry; if the queue is full, what is in it is submitted first.
    io_uring_sqe* entry() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        if (sqe == nullptr) {
            io_uring_submit(&ring);
            sqe = io_uring_get_sqe(&ring);
        }
        return sqe;
    }

    // Submits a POLL_ADD for the socket, under a new arming number.
    PollError arm(RawSocket socket, std::uint64_t id, Interest interest) {
        unsigned mask = POLLRDHUP;  // the peer's close, told apart from data (as epoll's)
        if (interest.readable) {
            mask |= POLLIN;
        }
        if (interest.writable) {
            mask |= POLLOUT;
        }
        io_uring_sqe* sqe = entry();
        if (sqe == nullptr) {
            return os_error("io_uring_get_sqe", -EBUSY);
        }
        const std::uint64_t arming = next_arming++;
        io_uring_prep_poll_add(sqe, static_cast<int>(socket), mask);
        io_uring_sqe_set_data64(sqe, arming);
        if (const int submitted = io_uring_submit(&ring); submitted < 0) {
            return os_error("io_uring_submit", submitted);
        }
        pending_arming[id] = arming;
        arming_id[arming] = id;
        return {};
    }

    // Removes the registration's pending poll, if it has one. Its -ECANCELED completes later
    // and is dropped: its arming is forgotten here.
    PollError disarm(std::uint64_t id) {
        const auto found = pending_arming.find(id);
        if (found == pending_arming.end() || found->second == 0) {
            return {};
        }
        io_uring_sqe* sqe = entry();
        if (sqe == nullptr) {
            return os_error("io_uring_get_sqe", -EBUSY);
        }
        io_uring_prep_poll_remove(sqe, found->second);
        io_uring_sqe_set_data64(sqe, remove_user_data);
        arming_id.erase(found->second);
        found->second = 0;
        if (const int submitted = io_uring_submit(&ring); submitted < 0) {
            return os_error("io_uring_submit", submitted);
        }
        return {};
    }
};

Selector::Selector(PollError& error) : state_(std::make_unique<State>()) {
    io_uring_params parameters = {};
    parameters.flags = IORING_SETUP_CQSIZE;  // completion_entries, not twice the submissions
    parameters.cq_entries = completion_entries;
    const int result = io_uring_queue_init_params(submission_entries, &state_->ring, &parameters);
    if (result < 0) {
        error = os_error("io_uring_queue_init_params", result);  // ENOSYS, EPERM: not allowed
        return;
    }
    state_->ring_made = true;
}

Selector::~Selector() {
    if (state_ && state_->ring_made) {
        io_uring_queue_exit(&state_->ring);  // cancels what is pending; the ring's memory goes
    }
}

PollError Selector::add(RawSocket socket, std::uint64_t id, Interest interest) {
    if (fcntl(static_cast<int>(socket), F_GETFD) < 0) {
        return {PollErrc::not_a_socket};  // closed: POLL_ADD would say so only later
    }
    const std::lock_guard lock(state_->mutex);
    return state_->arm(socket, id, interest);
}

PollError Selector::modify(RawSocket socket, std::uint64_t id, Interest interest) {
    const std::lock_guard lock(state_->mutex);
    if (PollError error = state_->disarm(id)) {
        return error;
    }
    return state_->arm(socket, id, interest);
}

PollError Selector::remove(RawSocket, std::uint64_t id) {
    const std::lock_guard lock(state_->mutex);
    PollError error = state_->disarm(id);
    state_->pending_arming.erase(id);
    return error;
}

PollError Selector::select(std::vector<Event>& events, std::size_t capacity,
                           std::optional<std::chrono::milliseconds> timeout) {
    // Waiting takes no lock: it reads the completion queue only (on kernels with
    // IORING_FEAT_EXT_ARG, 5.11 and later, the timeout is an argument, not a submission),
    // and only this thread reads that queue.
    __kernel_timespec limit = {};
    if (timeout) {
        limit.tv_sec = timeout->count() / 1000;
        limit.tv_nsec = (timeout->count() % 1000) * 1000000;
    }
    io_uring_cqe* completion = nullptr;
    const int waited =
        io_uring_wait_cqe_timeout(&state_->ring, &completion, timeout ? &limit : nullptr);
    if (waited == -ETIME || waited == -EINTR) {
        return {};  // The time is up, or a signal arrived while we slept: not an error.
    }
    if (waited < 0) {
        return os_error("io_uring_wait_cqe_timeout", waited);
    }
    const std::lock_guard lock(state_->mutex);
    while (events.size() < capacity && io_uring_peek_cqe(&state_->ring, &completion) == 0) {
        const std::uint64_t user_data = io_uring_cqe_get_data64(completion);
        const int result = completion->res;
        io_uring_cqe_seen(&state_->ring, completion);
        if (user_data == wake_user_data) {
            events.push_back(Event{Token{waker_id}, true});
            continue;
        }
        const auto found = state_->arming_id.find(user_data);
        if (found == state_->arming_id.end()) {
            continue;  // a POLL_REMOVE's completion, or a poll re-armed or removed since
        }
        const std::uint64_t id = found->second;
        state_->arming_id.erase(found);
        state_->pending_arming[id] = 0;  // one-shot: completed, nothing pending until re-armed
        const unsigned bits = result >= 0 ? static_cast<unsigned>(result) : 0;
        events.push_back(Event{Token{id}, (bits & POLLIN) != 0, (bits & POLLOUT) != 0,
                               (bits & (POLLRDHUP | POLLHUP)) != 0,
                               (bits & POLLERR) != 0 || result < 0});
    }
    return {};
}

PollError Selector::wake() {
    const std::lock_guard lock(state_->mutex);
    io_uring_sqe* sqe = state_->entry();
    if (sqe == nullptr) {
        return os_error("io_uring_get_sqe", -EBUSY);
    }
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, wake_user_data);
    if (const int submitted = io_uring_submit(&state_->ring); submitted < 0) {
        return os_error("io_uring_submit", submitted);
    }
    return {};
}
