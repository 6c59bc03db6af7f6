// bench/scale_epoll.cpp: N delayed requests on one thread, with a raw epoll loop.
//
// The way ch03-epoll waits, scaled up: every request has its own non-blocking socket,
// every socket is registered with one epoll instance (edge-triggered, the stream's index
// as its token), and one thread sleeps in epoll_wait until the kernel reports sockets that
// are ready. One difference from ch03-epoll: the connect is non-blocking too, as Asio and
// libuv make it, so the clients of the scale test do the same work and differ only
// in how they wait. A connection that is not yet established is reported writable when
// the handshake is done; then the request is sent.
//
// Platform: Linux (epoll).
//
// What to watch for: the wall time stays near the delay as N grows, and `Threads: 1` in
// /proc/PID/status while it waits.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <vector>

#include "scale_client.h"

using scale::Clock;

int main(int argc, char** argv) {
    const scale::Options options =
        scale::parse_options(argc, argv, "bench-scale-epoll", "one thread on raw epoll");
    std::vector<scale::Stream> streams(static_cast<std::size_t>(options.requests));
    std::vector<scale::Outcome> outcomes(streams.size());

    const int queue = epoll_create1(EPOLL_CLOEXEC);
    if (queue < 0) {
        scale::fail("epoll_create1");
    }
    const Clock::time_point start = Clock::now();

    // 1. Start every connection without waiting for any (scale::start_connect: a
    // non-blocking connect), and register each socket with the epoll instance.
    std::size_t finished = 0;
    for (std::size_t index = 0; index < streams.size(); ++index) {
        scale::Stream& stream = streams[index];
        stream.socket = scale::start_connect(options, outcomes[index]);
        if (stream.socket < 0) {
            ++finished;  // Failed at once; the others go on.
            continue;
        }
        // struct epoll_event from <sys/epoll.h>: it is packed on x86-64 only, so never a
        // hand-copied struct.
        epoll_event interest = {};
        interest.events = EPOLLIN     // the answer can be read
                          | EPOLLOUT  // connected: the request can be sent
                          | EPOLLET;  // edge-triggered: once per change
        interest.data.u64 = index;    // the token: which stream this is
        if (epoll_ctl(queue, EPOLL_CTL_ADD, stream.socket, &interest) != 0) {
            scale::fail("epoll_ctl");
        }
    }

    // 2. The wait loop: one thread, one epoll_wait for all the streams.
    const Clock::time_point deadline = start + options.time_limit();
    epoll_event events[256];
    while (finished < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            break;  // The summary counts the streams left as "never finished".
        }
        const int ready = epoll_wait(queue, events, std::size(events), static_cast<int>(left));
        if (ready < 0 && errno == EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (ready < 0) {
            scale::fail("epoll_wait");
        }
        for (int event_index = 0; event_index < ready; ++event_index) {
            const std::size_t token = events[event_index].data.u64;
            const std::uint32_t flags = events[event_index].events;
            scale::Stream& stream = streams[token];
            scale::Outcome& outcome = outcomes[token];
            const int index = static_cast<int>(token);
            if (outcome.finished) {
                continue;  // Reported again after it finished (a spurious wakeup).
            }
            if (!stream.request_sent && (flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
                scale::send_once_connected(stream, outcome, options.delay_ms, index);
            }
            // Edge-triggered: a socket is reported once per change, so read until EAGAIN,
            // or the rest of the answer would never be reported again.
            if (stream.request_sent && (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
                scale::read_answer(stream, outcome, index);
            }
            if (outcome.finished) {
                scale::close_socket(stream.socket);  // which removes it from the epoll instance
                ++finished;
            }
        }
    }

    const int status = scale::print_summary(options, outcomes, start);
    for (scale::Stream& stream : streams) {
        scale::close_socket(stream.socket);
    }
    if (close(queue) != 0) {
        scale::fail("close");
    }
    return status;
}
