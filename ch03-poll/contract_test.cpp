// ch03-poll/contract_test.cpp: poll.hpp's contract, case by case, against one backend.
//
// The same cases, in the same order, for every backend (CMakeLists.txt builds this file once
// per backend): each prints "ok   " and its name, or "FAIL " with its name and what went
// wrong, so the test compares the output with expected-contract.txt line by line, and a
// backend that answers differently shows which case. Each case makes its own Poll and its
// own pairs of connected loopback sockets (sockets.hpp): a free port each, never a fixed one.
//
// Usage:    ch03-poll-contract (or ch03-poll-io-uring-contract, ch03-poll-kqueue-contract)
// Platform: every platform ch03-poll builds on; the signal case is POSIX only.
//
// No case depends on timing to pass: a wait for an event that must come has a generous
// bound (a hang would be a failure, not a stall), and "no event" is checked with a short
// poll after which none may have arrived, since the event, if any, was already queued.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "poll.hpp"
#include "sockets.hpp"
#include "test_platform.hpp"  // signals and descriptor limits: the part that is per OS

using namespace std::chrono_literals;

namespace {

constexpr auto must_come = 10s;        // an event that must arrive comes long before this
constexpr auto must_not_come = 200ms;  // how long a poll that must stay empty waits
constexpr std::size_t capacity = 64;   // events taken per poll

// Throws the reason a case failed; main prints it.
struct Failure {
    std::string why;
};
void expect(bool condition, const std::string& why) {
    if (!condition) {
        throw Failure{why};
    }
}
void expect_ok(PollError error, const std::string& what) {
    expect(!error, what + " failed: " + describe(error));
}

struct Pair {
    Socket near;  // the one registered
    Socket far;   // the peer, which sends and closes
};
Pair make_pair() {
    Pair pair;
    expect(connected_pair(pair.near, pair.far),
           "connected_pair: " + socket_error_message(last_socket_error()));
    return pair;
}
void send_byte(const Socket& socket) {
    expect(send_some(socket, "x") == 1, "send: " + socket_error_message(last_socket_error()));
}

std::vector<Event> poll_for(Poll& poll, std::chrono::milliseconds timeout) {
    Events events(capacity);
    expect_ok(poll.poll(events, timeout), "poll");
    return events.list;
}
// Exactly one event must come, for this token.
Event one_event(Poll& poll, Token token) {
    const std::vector<Event> events = poll_for(poll, must_come);
    expect(events.size() == 1, "expected one event, got " + std::to_string(events.size()));
    expect(events[0].token == token, "expected token " + std::to_string(token.value) + ", got " +
                                         std::to_string(events[0].token.value));
    return events[0];
}
void no_event(Poll& poll) {
    const std::vector<Event> events = poll_for(poll, must_not_come);
    if (!events.empty()) {
        throw Failure{"expected no event, got " + std::to_string(events.size()) + " (token " +
                      std::to_string(events[0].token.value) + ")"};
    }
}

Poll make_poll() {
    Made<Poll> made = Poll::open();
    expect_ok(made.error(), "Poll");
    return std::move(*made);
}

constexpr Interest readable = {.readable = true};
constexpr Interest writable = {.writable = true};

// ----------------------------------------------------------------------------------------
// The cases, in poll.hpp's order
// ----------------------------------------------------------------------------------------

void nothing_ready() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{1}, readable), "register");
    const auto start = std::chrono::steady_clock::now();
    no_event(poll);
    // The contract's promise, not a timing: no events means the timeout has passed.
    expect(std::chrono::steady_clock::now() - start >= must_not_come,
           "returned before the timeout");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void data_is_readable() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{7}, readable), "register");
    send_byte(pair.far);
    const Event event = one_event(poll, Token{7});
    expect(event.readable && !event.closed && !event.error, "expected readable only");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void one_shot() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{3}, readable), "register");
    send_byte(pair.far);
    one_event(poll, Token{3});
    no_event(poll);  // the byte is still unread, yet no second event before the re-arm
    send_byte(pair.far);
    no_event(poll);  // nor for new data
    expect_ok(poll.registry().reregister(pair.near.get(), Token{3}, readable), "reregister");
    one_event(poll, Token{3});
    no_event(poll);
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void connected_is_writable() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{4}, writable), "register");
    const Event event = one_event(poll, Token{4});
    expect(event.writable && !event.error, "expected writable");
    no_event(poll);
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void one_event_for_both_directions() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    send_byte(pair.far);
    std::this_thread::sleep_for(50ms);  // not for the result: so both are likely at once
    expect_ok(poll.registry().register_source(pair.near.get(), Token{5},
                                              {.readable = true, .writable = true}),
              "register");
    const Event event = one_event(poll, Token{5});
    expect(event.readable && event.writable, "expected readable and writable in one event");
    no_event(poll);  // and never a second one before the re-arm
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void peer_close() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{6}, readable), "register");
    pair.far.close();
    const Event event = one_event(poll, Token{6});
    expect(event.readable && event.closed, "expected readable and closed");
    char byte = 0;
    expect(receive_some(pair.near, {&byte, 1}) == 0, "expected the end of the stream");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void peer_reset() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{8}, readable), "register");
    expect(reset_on_close(pair.far), "setsockopt SO_LINGER");
    pair.far.close();
    const Event event = one_event(poll, Token{8});
    expect(event.closed || event.error, "expected closed or error");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

// A failed connect says why on every backend: the event has error, and failure_reason the
// OS's code (libkqueue would otherwise have read and cleared it: issue 33).
void refused_connect_says_why() {
    Poll poll = make_poll();
    Socket connecting;
    Socket port_holder;
    expect(start_refused_connect(connecting, port_holder),
           "start_refused_connect: " + socket_error_message(last_socket_error()));
    expect_ok(poll.registry().register_source(connecting.get(), Token{20}, writable), "register");
    const Event event = one_event(poll, Token{20});
    expect(event.error, "expected error");
    const long reason = failure_reason(event, connecting.get());
    expect(reason == refused_code(), "expected the reason \"" +
                                         socket_error_message(refused_code()) + "\", got \"" +
                                         socket_error_message(reason) + "\"");
    expect_ok(poll.registry().deregister(connecting.get()), "deregister");
}

void reset_connection_says_why() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{21}, readable), "register");
    expect(reset_on_close(pair.far), "setsockopt SO_LINGER");
    pair.far.close();
    const Event event = one_event(poll, Token{21});
    expect(event.error, "expected error");
    const long reason = failure_reason(event, pair.near.get());
    expect(reason == reset_code(), "expected the reason \"" + socket_error_message(reset_code()) +
                                       "\", got \"" + socket_error_message(reason) + "\"");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void deregistered_is_silent() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{9}, readable), "register");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
    send_byte(pair.far);
    no_event(poll);
}

void closed_after_deregister_leaves_nothing() {
    Poll poll = make_poll();
    Pair first = make_pair();
    expect_ok(poll.registry().register_source(first.near.get(), Token{10}, readable), "register");
    send_byte(first.far);  // ready, and maybe queued by the OS already...
    std::this_thread::sleep_for(50ms);
    expect_ok(poll.registry().deregister(first.near.get()), "deregister");
    first.near.close();  // ...then deregistered and closed: nothing of it may come out
    no_event(poll);
    Pair second = make_pair();  // may reuse the number of the closed socket
    expect_ok(poll.registry().register_source(second.near.get(), Token{11}, readable), "register");
    send_byte(second.far);
    one_event(poll, Token{11});
    expect_ok(poll.registry().deregister(second.near.get()), "deregister");
}

constexpr std::size_t many = 1000;

void many_sockets() {
    Poll poll = make_poll();
    std::vector<Pair> pairs;
    for (std::size_t index = 0; index < many; ++index) {
        pairs.push_back(make_pair());
        expect_ok(poll.registry().register_source(pairs.back().near.get(), Token{index}, readable),
                  "register");
    }
    for (const Pair& pair : pairs) {
        send_byte(pair.far);
    }
    std::vector<int> seen(many, 0);
    std::size_t reported = 0;
    while (reported < many) {
        const std::vector<Event> events = poll_for(poll, must_come);
        expect(!events.empty(), "only " + std::to_string(reported) + " of 1000 reported");
        for (const Event& event : events) {
            expect(event.token.value < many && event.readable, "an event with a wrong token");
            expect(++seen[event.token.value] == 1,
                   "token " + std::to_string(event.token.value) + " reported twice");
            ++reported;
        }
    }
    no_event(poll);
    for (const Pair& pair : pairs) {
        expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
    }
}

void waker_wakes() {
    Poll poll = make_poll();
    Made<Waker> made = Waker::make(poll.registry(), Token{99});
    expect_ok(made.error(), "Waker");
    Waker& waker = *made;
    PollError woken;
    std::thread other([&] {
        std::this_thread::sleep_for(100ms);  // likely inside poll by then; either way it works
        woken = waker.wake();
    });
    const std::vector<Event> events = poll_for(poll, must_come);
    other.join();
    expect_ok(woken, "wake");
    expect(events.size() == 1 && events[0].token == Token{99}, "expected the Waker's event");
    const Event event = events[0];
    expect(event.readable, "expected readable");
    const Made<Waker> another = Waker::make(poll.registry(), Token{98});
    expect(!another && another.error().code == PollErrc::waker_exists,
           "a second Waker was accepted");
}

void register_from_another_thread() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    send_byte(pair.far);
    std::atomic<bool> registered = false;
    std::thread other([&] {
        std::this_thread::sleep_for(100ms);
        registered = !poll.registry().register_source(pair.near.get(), Token{12}, readable);
    });
    const std::vector<Event> events = poll_for(poll, must_come);
    other.join();
    expect(registered, "register failed");
    expect(events.size() == 1 && events[0].token == Token{12}, "the blocked poll saw no event");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void signal_is_no_error() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{13}, readable), "register");
    std::atomic<bool> sent = false;
    SignalDuringPoll signal;  // test_platform.hpp: a handler, and a thread that signals us
    std::thread other([&] {
        std::this_thread::sleep_for(100ms);
        signal.interrupt();  // poll is interrupted (EINTR), and must wait again...
        std::this_thread::sleep_for(100ms);
        sent = send_some(pair.far, "x") == 1;  // ...for this
    });
    const std::vector<Event> events = poll_for(poll, must_come);
    other.join();
    expect(sent, "send failed");
    expect(signal.delivered(), "the signal did not arrive");
    expect(events.size() == 1 && events[0].token == Token{13}, "expected the data's event");
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

void reregister_new_token() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    expect_ok(poll.registry().register_source(pair.near.get(), Token{14}, writable), "register");
    one_event(poll, Token{14});
    send_byte(pair.far);
    expect_ok(poll.registry().reregister(pair.near.get(), Token{15}, readable), "reregister");
    one_event(poll, Token{15});
    expect_ok(poll.registry().deregister(pair.near.get()), "deregister");
}

// Bad use: Poll's own error, the same on every backend.
void expect_code(PollError error, PollErrc code) {
    expect(error.code == code,
           std::string("expected \"") + describe(code) + "\", got \"" + describe(error) + "\"");
}

void bad_use() {
    Poll poll = make_poll();
    Pair pair = make_pair();
    const RawSocket closed = pair.near.get();
    pair.near.close();
    expect_code(poll.registry().register_source(closed, Token{16}, readable),
                PollErrc::not_a_socket);
    expect_ok(poll.registry().register_source(pair.far.get(), Token{17}, readable), "register");
    expect_code(poll.registry().register_source(pair.far.get(), Token{18}, readable),
                PollErrc::already_registered);
    Pair other = make_pair();
    expect_code(poll.registry().reregister(other.near.get(), Token{19}, readable),
                PollErrc::not_registered);
    expect_code(poll.registry().deregister(other.near.get()), PollErrc::not_registered);
    expect_ok(poll.registry().deregister(pair.far.get()), "deregister");
    expect_code(poll.registry().deregister(pair.far.get()), PollErrc::not_registered);
}

}  // namespace

int main() {
    const SocketLibrary socket_library;
    {
        // Where the OS forbids the backend's queue (io_uring under a seccomp filter or
        // io_uring_disabled: ENOSYS, EPERM), every case is skipped, with the reason; any
        // other failure to make a Poll is a failure of every case.
        const Made<Poll> probe = Poll::open();
        const PollError error = probe.error();
        if (error.code == PollErrc::os_call_failed && queue_not_allowed(error.os_error)) {
            std::printf("skip every case: the OS does not allow this queue here (%s)\n",
                        describe(error).c_str());
            return 1;  // CMakeLists.txt marks the test skipped on this line
        }
    }
    const std::string many_skipped = raise_descriptor_limit(2 * many + 100);
    const std::string signal_skipped = SignalDuringPoll::why_not();
    struct Case {
        const char* name;
        std::function<void()> run;
        std::string skipped;  // why it cannot run here, or empty
    };
    const Case cases[] = {
        {"nothing ready: no events, after the timeout", nothing_ready, ""},
        {"data from the peer: one readable event with its token", data_is_readable, ""},
        {"one-shot: no second event until reregister, then one", one_shot, ""},
        {"a connected socket is writable", connected_is_writable, ""},
        {"readable and writable: one event, not one per direction", one_event_for_both_directions,
         ""},
        {"peer close: readable and closed", peer_close, ""},
        {"peer reset (linger 0): closed or error", peer_reset, ""},
        {"refused connect: error, and failure_reason says refused", refused_connect_says_why, ""},
        {"peer reset: error, and failure_reason says reset", reset_connection_says_why, ""},
        {"deregister, then data: no event", deregistered_is_silent, ""},
        {"deregister, close: no stale event", closed_after_deregister_leaves_nothing, ""},
        {"1000 sockets: each reported once, with its token", many_sockets, many_skipped},
        {"Waker from another thread wakes a blocked poll; one Waker per Poll", waker_wakes, ""},
        {"register from another thread while poll blocks: reported", register_from_another_thread,
         ""},
        {"a signal during poll is no error", signal_is_no_error, signal_skipped},
        {"reregister with a new token: the new token", reregister_new_token, ""},
        {"bad use: a closed socket, twice, unknown sockets: Poll's own errors", bad_use, ""},
    };
    int failed = 0;
    for (const Case& one : cases) {
        if (!one.skipped.empty()) {
            std::printf("skip %s (%s)\n", one.name, one.skipped.c_str());
            continue;
        }
        try {
            one.run();
            std::printf("ok   %s\n", one.name);
        } catch (const Failure& failure) {
            std::printf("FAIL %s: %s\n", one.name, failure.why.c_str());
            ++failed;
        }
        std::fflush(stdout);
    }
    return failed == 0 ? 0 : 1;
}
