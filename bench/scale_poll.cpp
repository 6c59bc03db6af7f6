// bench/scale_poll.cpp: N delayed requests on one thread, through ch03-poll's Poll on epoll.
//
// scale_epoll.cpp's client, written against the chapter's common denominator instead of
// raw epoll: the same non-blocking connects and the same reads, but each socket is
// registered with ch03-poll's Registry, one-shot (EPOLLONESHOT underneath), and re-armed
// with reregister after each event. Beside raw epoll it measures what the abstraction
// costs: a table lookup and a lock per event in poll.cpp, and one more epoll_ctl per event
// for the re-arm. The target: wall time and peak memory within 5% of raw epoll's.
//
// Usage:    bench-scale-poll [--address HOST:PORT] [--requests N] [--delay-ms MS]
//           (bench-scale runs it against a delay server it started; see bench/README.md)
// Platform: Linux (ch03-poll's epoll backend).
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "poll.hpp"
#include "scale_client.h"

using scale::Clock;

// One connection and what it has received so far.
struct Stream {
    int socket = -1;
    bool request_sent = false;
    std::string received;
};

void check(const PollError& error, const char* what) {
    if (error.code == PollErrc::os_call_failed) {
        scale::fail(error.call, static_cast<int>(error.os_error));
    }
    if (error) {
        std::fprintf(stderr, "%s: %s: %s\n", scale::program_name, what, describe(error.code));
        std::exit(1);
    }
}

// The stream is done (answered or failed): deregister it, close its socket, note the outcome.
void finish(Registry& registry, Stream& stream, scale::Outcome& outcome, std::string failure) {
    if (stream.socket >= 0) {
        check(registry.deregister(static_cast<RawSocket>(stream.socket)), "deregister");
        if (close(stream.socket) != 0) {
            scale::fail("close");
        }
    }
    stream.socket = -1;
    outcome.failure = std::move(failure);
    outcome.finished = true;
    outcome.finished_at = Clock::now();
}

// Connected (or failed to): sends the request, which is far smaller than a send buffer.
void send_request(Registry& registry, Stream& stream, scale::Outcome& outcome, int delay_ms,
                  int index) {
    int connect_error = 0;
    socklen_t length = sizeof connect_error;
    if (getsockopt(stream.socket, SOL_SOCKET, SO_ERROR, &connect_error, &length) != 0) {
        scale::fail("getsockopt");
    }
    if (connect_error != 0) {
        finish(registry, stream, outcome, std::string("connect: ") + std::strerror(connect_error));
        return;
    }
    const std::string request = scale::build_request(delay_ms, index);
    const ssize_t sent = send(stream.socket, request.data(), request.size(), MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(request.size())) {
        finish(registry, stream, outcome,
               sent < 0 ? std::string("send: ") + std::strerror(errno) : "short send");
        return;
    }
    stream.request_sent = true;
    outcome.sent_at = Clock::now();
}

// Reads until EAGAIN; true while the stream waits for more (then it is re-armed).
bool read_answer(Registry& registry, Stream& stream, scale::Outcome& outcome, int index) {
    char buffer[4096];
    while (true) {
        const ssize_t count = read(stream.socket, buffer, sizeof buffer);
        if (count > 0) {
            stream.received.append(buffer, static_cast<std::size_t>(count));
            continue;
        }
        if (count == 0) {  // End of file: the server sent everything and closed.
            finish(registry, stream, outcome, scale::check_answer(stream.received, index));
            return false;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        }
        if (errno == EINTR) {
            continue;
        }
        finish(registry, stream, outcome, std::string("read: ") + std::strerror(errno));
        return false;
    }
}

int main(int argc, char** argv) {
    scale::program_name = "bench-scale-poll";
    scale::program_way = "one thread on ch03-poll's Poll (epoll)";
    const scale::Options options = scale::parse_options(argc, argv);
    scale::raise_open_file_limit(options.requests);
    std::vector<Stream> streams(static_cast<std::size_t>(options.requests));
    std::vector<scale::Outcome> outcomes(streams.size());

    Made<Poll> made = Poll::open();
    check(made.error(), "Poll");
    Poll& poll = *made;
    Registry& registry = poll.registry();
    const Clock::time_point start = Clock::now();

    // 1. Start every connection, each registered writable: connected, it sends.
    for (std::size_t index = 0; index < streams.size(); ++index) {
        Stream& stream = streams[index];
        stream.socket = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (stream.socket < 0) {
            finish(registry, stream, outcomes[index],
                   std::string("socket: ") + std::strerror(errno));
            continue;
        }
        if (connect(stream.socket, reinterpret_cast<const sockaddr*>(&options.address),
                    sizeof options.address) != 0 &&
            errno != EINPROGRESS) {
            const std::string failure = std::string("connect: ") + std::strerror(errno);
            close(stream.socket);
            stream.socket = -1;
            finish(registry, stream, outcomes[index], failure);
            continue;
        }
        check(registry.register_source(static_cast<RawSocket>(stream.socket), Token{index},
                                       Interest{.writable = true}),
              "register");
    }

    // 2. The wait loop: one thread, one Poll for all the streams; one event per registration,
    // re-armed after it.
    const Clock::time_point deadline =
        start + std::chrono::milliseconds(options.delay_ms) + std::chrono::seconds(30);
    std::size_t finished = 0;
    for (const scale::Outcome& outcome : outcomes) {
        finished += outcome.finished ? 1 : 0;
    }
    Events events(256);
    while (finished < streams.size()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        check(poll.poll(events, left), "poll");
        if (events.list.empty()) {
            break;  // The time is up; the summary counts the streams left as "never finished".
        }
        for (const Event& event : events.list) {
            const std::size_t token = event.token.value;
            Stream& stream = streams[token];
            scale::Outcome& outcome = outcomes[token];
            const int index = static_cast<int>(token);
            bool wait_more = false;
            if (!stream.request_sent) {
                send_request(registry, stream, outcome, options.delay_ms, index);
                wait_more = !outcome.finished;
            } else {
                wait_more = read_answer(registry, stream, outcome, index);
            }
            if (wait_more) {
                check(registry.reregister(static_cast<RawSocket>(stream.socket), Token{token},
                                          Interest{.readable = true}),
                      "reregister");
            }
            finished += outcome.finished ? 1 : 0;
        }
    }

    const int status = scale::print_summary(options, outcomes, start);
    for (Stream& stream : streams) {
        if (stream.socket >= 0) {
            check(registry.deregister(static_cast<RawSocket>(stream.socket)), "deregister");
            if (close(stream.socket) != 0) {
                scale::fail("close");
            }
        }
    }
    return status;
}
