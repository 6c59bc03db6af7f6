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
// Usage:    bench-scale-epoll [--address HOST:PORT] [--requests N] [--delay-ms MS]
//           (bench-scale runs it against a delay server it started; see bench/README.md)
// Platform: Linux (epoll).
//
// What to watch for: the wall time stays near the delay as N grows, and `Threads: 1` in
// /proc/PID/status while it waits.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "scale_client.h"

using scale::Clock;

// One connection and what it has received so far.
struct Stream {
    int socket = -1;
    bool request_sent = false;
    std::string received;
};

// The stream is done (answered or failed): close its socket, which also removes it from
// the epoll instance, and note the outcome.
void finish(Stream& stream, scale::Outcome& outcome, std::string failure) {
    if (stream.socket >= 0 && close(stream.socket) != 0) {
        scale::fail("close");
    }
    stream.socket = -1;
    outcome.failure = std::move(failure);
    outcome.finished = true;
    outcome.finished_at = Clock::now();
}

// The socket is writable for the first time: the handshake is over, well or not. Sends
// the request, which is far smaller than a socket's send buffer.
void send_request(Stream& stream, scale::Outcome& outcome, int delay_ms, int index) {
    int connect_error = 0;
    socklen_t length = sizeof connect_error;
    if (getsockopt(stream.socket, SOL_SOCKET, SO_ERROR, &connect_error, &length) != 0) {
        scale::fail("getsockopt");
    }
    if (connect_error != 0) {
        finish(stream, outcome, std::string("connect: ") + std::strerror(connect_error));
        return;
    }
    const std::string request = scale::build_request(delay_ms, index);
    const ssize_t sent = send(stream.socket, request.data(), request.size(), MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(request.size())) {
        // A fresh connection takes about 80 bytes without a short write; if it ever did
        // not, this says so instead of waiting for an answer that cannot come.
        finish(stream, outcome,
               sent < 0 ? std::string("send: ") + std::strerror(errno) : "short send");
        return;
    }
    stream.request_sent = true;
    outcome.sent_at = Clock::now();
}

// Reads everything there is. Edge-triggered: a socket is reported once per change, so
// read until EAGAIN, or the rest of the answer would never be reported again.
void read_answer(Stream& stream, scale::Outcome& outcome, int index) {
    char buffer[4096];
    while (true) {
        const ssize_t count = read(stream.socket, buffer, sizeof buffer);
        if (count > 0) {
            stream.received.append(buffer, static_cast<std::size_t>(count));
            continue;
        }
        if (count == 0) {  // End of file: the server sent everything and closed.
            finish(stream, outcome, scale::check_answer(stream.received, index));
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;  // All read for now; wait for the next event.
        }
        if (errno == EINTR) {
            continue;
        }
        finish(stream, outcome, std::string("read: ") + std::strerror(errno));
        return;
    }
}

int main(int argc, char** argv) {
    scale::program_name = "bench-scale-epoll";
    scale::program_way = "one thread on raw epoll";
    const scale::Options options = scale::parse_options(argc, argv);
    scale::raise_open_file_limit(options.requests);
    std::vector<Stream> streams(static_cast<std::size_t>(options.requests));
    std::vector<scale::Outcome> outcomes(streams.size());

    const int queue = epoll_create1(EPOLL_CLOEXEC);
    if (queue < 0) {
        scale::fail("epoll_create1");
    }
    const Clock::time_point start = Clock::now();

    // 1. Start every connection without waiting for any: a non-blocking connect returns
    // EINPROGRESS at once and the handshake goes on in the kernel. A socket the OS refuses
    // (EMFILE: the open-file limit) fails its request, and the others go on.
    for (std::size_t index = 0; index < streams.size(); ++index) {
        Stream& stream = streams[index];
        stream.socket = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (stream.socket < 0) {
            finish(stream, outcomes[index], std::string("socket: ") + std::strerror(errno));
            continue;
        }
        if (connect(stream.socket, reinterpret_cast<const sockaddr*>(&options.address),
                    sizeof options.address) != 0 &&
            errno != EINPROGRESS) {
            finish(stream, outcomes[index], std::string("connect: ") + std::strerror(errno));
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
    const Clock::time_point deadline =
        start + std::chrono::milliseconds(options.delay_ms) + std::chrono::seconds(30);
    std::size_t finished = 0;
    for (const scale::Outcome& outcome : outcomes) {
        finished += outcome.finished ? 1 : 0;
    }
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
            Stream& stream = streams[token];
            scale::Outcome& outcome = outcomes[token];
            const int index = static_cast<int>(token);
            if (outcome.finished) {
                continue;  // Reported again after it finished (a spurious wakeup).
            }
            if (!stream.request_sent && (flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
                send_request(stream, outcome, options.delay_ms, index);
            }
            if (stream.request_sent && (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
                read_answer(stream, outcome, index);
            }
            finished += outcome.finished ? 1 : 0;
        }
    }

    const int status = scale::print_summary(options, outcomes, start);
    for (Stream& stream : streams) {
        if (stream.socket >= 0 && close(stream.socket) != 0) {
            scale::fail("close");
        }
    }
    if (close(queue) != 0) {
        scale::fail("close");
    }
    return status;
}
