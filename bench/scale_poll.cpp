// bench/scale_poll.cpp: N delayed requests on one thread, through ch03-poll's Poll on epoll.
//
// scale_epoll.cpp's client, written against the chapter's common denominator instead of
// raw epoll: the same non-blocking connects and the same reads, but each socket is
// registered with ch03-poll's Registry, one-shot (EPOLLONESHOT underneath), and re-armed
// with reregister after each event. Beside raw epoll it measures what the abstraction
// costs: a table lookup and a lock per event in poll.cpp, and one more epoll_ctl per event
// for the re-arm. The target: wall time and peak memory within 5% of raw epoll's.
//
// Platform: Linux (ch03-poll's epoll backend).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "poll.hpp"
#include "scale_client.h"

using scale::Clock;

void check(const PollError& error, const char* what) {
    if (error.code == PollErrc::os_call_failed) {
        scale::fail(error.call, static_cast<int>(error.os_error));
    }
    if (error) {
        std::fprintf(stderr, "%s: %s: %s\n", measure::program_name, what, describe(error.code));
        std::exit(1);
    }
}

// The stream is done (answered or failed): deregister it and close its socket.
void close_stream(Registry& registry, scale::Stream& stream) {
    if (stream.socket >= 0) {
        check(registry.deregister(static_cast<RawSocket>(stream.socket)), "deregister");
        scale::close_socket(stream.socket);
    }
}

int main(int argc, char** argv) {
    const scale::Options options = scale::parse_options(argc, argv, "bench-scale-poll",
                                                        "one thread on ch03-poll's Poll (epoll)");
    std::vector<scale::Stream> streams(static_cast<std::size_t>(options.requests));
    std::vector<scale::Outcome> outcomes(streams.size());

    Made<Poll> made = Poll::open();
    check(made.error(), "Poll");
    Poll& poll = *made;
    Registry& registry = poll.registry();
    const Clock::time_point start = Clock::now();

    // 1. Start every connection, each registered writable: connected, it sends.
    std::size_t finished = 0;
    for (std::size_t index = 0; index < streams.size(); ++index) {
        scale::Stream& stream = streams[index];
        stream.socket = scale::start_connect(options, outcomes[index]);
        if (stream.socket < 0) {
            ++finished;  // Failed at once; the others go on.
            continue;
        }
        check(registry.register_source(static_cast<RawSocket>(stream.socket), Token{index},
                                       Interest{.writable = true}),
              "register");
    }

    // 2. The wait loop: one thread, one Poll for all the streams; one event per registration,
    // re-armed after it.
    const Clock::time_point deadline = start + options.time_limit();
    Events events(256);
    while (finished < streams.size()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        check(poll.poll(events, left), "poll");
        if (events.list.empty()) {
            break;  // The time is up; the summary counts the streams left as "never finished".
        }
        for (const Event& event : events.list) {
            const std::size_t token = event.token.value;
            scale::Stream& stream = streams[token];
            scale::Outcome& outcome = outcomes[token];
            const int index = static_cast<int>(token);
            if (!stream.request_sent) {
                scale::send_once_connected(stream, outcome, options.delay_ms, index);
            } else {
                scale::read_answer(stream, outcome, index);  // until EAGAIN
            }
            if (outcome.finished) {
                close_stream(registry, stream);
                ++finished;
            } else {
                check(registry.reregister(static_cast<RawSocket>(stream.socket), Token{token},
                                          Interest{.readable = true}),
                      "reregister");
            }
        }
    }

    const int status = scale::print_summary(options, outcomes, start);
    for (scale::Stream& stream : streams) {
        close_stream(registry, stream);
    }
    return status;
}
