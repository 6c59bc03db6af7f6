// ch03-poll/poll.cpp: the part of Poll that is the same on every OS.
//
// The table of registrations (which socket has which id and token), what the backend
// reports turned into the caller's events (ids into tokens, events of deregistered sockets
// dropped, two of one registration merged), Poll's own errors for bad use, and the wait
// that goes on after a signal. One-shot itself is each backend's: the OS is asked for it. Keeping
// this here keeps each backend file down to its OS calls (selector.hpp), and makes the backends
// answer alike: where the kernels disagree, the table decides.
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "poll.hpp"
#include "selector.hpp"
#include "sockets.hpp"

using Clock = std::chrono::steady_clock;

const char* describe(PollErrc code) {
    switch (code) {
        case PollErrc::ok:
            return "no error";
        case PollErrc::not_a_socket:
            return "not an open socket";
        case PollErrc::already_registered:
            return "the socket is registered already";
        case PollErrc::not_registered:
            return "the socket is not registered";
        case PollErrc::waker_exists:
            return "this Poll has a Waker already";
        case PollErrc::os_call_failed:
            return "an OS call failed";
    }
    return "unknown error";
}

std::string describe(const PollError& error) {
    if (error.code == PollErrc::os_call_failed) {
        return std::string(error.call) + ": " + socket_error_message(error.os_error);
    }
    return describe(error.code);
}

void report_failed_close(const PollError& error) {
    std::fprintf(stderr, "Poll: %s\n", describe(error).c_str());
}

long failure_reason(const Event& event, RawSocket socket) {
    return event.os_error != 0 ? event.os_error : pending_socket_error(socket);
}

struct Registration {
    Token token;
    std::uint64_t reported_in = 0;  // the number of the poll that reported it last...
    std::size_t event_index = 0;    // ...and where, to merge a second event into the first
};

// Guarded by mutex: any thread may register while the polling thread reads the table.
struct RegistrationTable {
    std::mutex mutex;
    std::uint64_t next_id = waker_id + 1;
    std::unordered_map<RawSocket, std::uint64_t> ids;
    std::unordered_map<std::uint64_t, Registration> registrations;
    std::optional<Token> waker_token;
    std::uint64_t polls = 0;  // how many polls have taken events, numbering them
};

PollError Registry::register_source(RawSocket socket, Token token, Interest interest) {
    const std::lock_guard lock(table_->mutex);
    if (table_->ids.contains(socket)) {
        return {PollErrc::already_registered};
    }
    const std::uint64_t id = table_->next_id++;
    if (PollError error = selector_->add(socket, id, interest)) {
        return error;
    }
    table_->ids[socket] = id;
    table_->registrations[id] = Registration{token};
    return {};
}

PollError Registry::reregister(RawSocket socket, Token token, Interest interest) {
    const std::lock_guard lock(table_->mutex);
    const auto found = table_->ids.find(socket);
    if (found == table_->ids.end()) {
        return {PollErrc::not_registered};
    }
    Registration& registration = table_->registrations[found->second];
    registration.token = token;  // the table's, so no backend needs the OS to change it
    return selector_->modify(socket, found->second, interest);
}

PollError Registry::deregister(RawSocket socket) {
    const std::lock_guard lock(table_->mutex);
    const auto found = table_->ids.find(socket);
    if (found == table_->ids.end()) {
        return {PollErrc::not_registered};
    }
    const std::uint64_t id = found->second;
    table_->ids.erase(found);
    table_->registrations.erase(id);  // from now on, what the OS still reports for id is dropped
    return selector_->remove(socket, id);
}

Made<Poll> Poll::open() {
    PollError error;
    auto selector = std::make_unique<Selector>(error);
    if (error) {
        return error;  // the half-made Selector is closed here, and no Poll is made
    }
    return Poll(std::move(selector));
}

Poll::Poll(std::unique_ptr<Selector> selector)
    : selector_(std::move(selector)), table_(std::make_unique<RegistrationTable>()) {
    registry_.selector_ = selector_.get();
    registry_.table_ = table_.get();
}

Poll::Poll(Poll&&) noexcept = default;
Poll::~Poll() = default;

PollError Poll::poll(Events& events, std::optional<std::chrono::milliseconds> timeout) {
    events.list.clear();
    const Clock::time_point deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
    std::vector<Event> reported;  // by the backend, with ids for tokens
    reported.reserve(events.capacity);
    while (true) {
        std::optional<std::chrono::milliseconds> left;
        if (timeout) {
            left = std::max(std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()),
                            std::chrono::milliseconds(0));
        }
        reported.clear();
        if (PollError error = selector_->select(reported, events.capacity, left)) {
            return error;
        }
        const std::lock_guard lock(table_->mutex);
        const std::uint64_t this_poll = ++table_->polls;
        bool woken = false;
        for (const Event& event : reported) {
            if (event.token.value == waker_id) {
                if (table_->waker_token && !woken) {
                    events.list.push_back(Event{*table_->waker_token, true});
                }
                woken = true;
                continue;
            }
            const auto found = table_->registrations.find(event.token.value);
            if (found == table_->registrations.end()) {
                continue;  // deregistered after the OS queued this event: stale
            }
            Registration& registration = found->second;
            if (registration.reported_in == this_poll) {
                // The same registration twice in one poll (kqueue's read and write filters are
                // two): one event with both, as the contract promises.
                Event& first = events.list[registration.event_index];
                first.readable |= event.readable;
                first.writable |= event.writable;
                first.closed |= event.closed;
                first.error |= event.error;
                first.os_error = first.os_error != 0 ? first.os_error : event.os_error;
                continue;
            }
            registration.reported_in = this_poll;
            registration.event_index = events.list.size();
            events.list.push_back(event);
            events.list.back().token = registration.token;
        }
        if (!events.list.empty() || (timeout && Clock::now() >= deadline)) {
            return {};
        }
    }
}

Made<Waker> Waker::make(Registry& registry, Token token) {
    const std::lock_guard lock(registry.table_->mutex);
    if (registry.table_->waker_token) {
        return PollError{PollErrc::waker_exists};
    }
    registry.table_->waker_token = token;
    return Waker(registry);
}

Waker::Waker(Waker&& other) noexcept : registry_(std::exchange(other.registry_, nullptr)) {}

Waker::~Waker() {
    if (registry_ != nullptr) {
        const std::lock_guard lock(registry_->table_->mutex);
        registry_->table_->waker_token.reset();
    }
}

PollError Waker::wake() {
    const std::lock_guard lock(registry_->table_->mutex);
    return registry_->selector_->wake();
}
