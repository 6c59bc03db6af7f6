// bench/scale_client.h: what the six scale clients share, so that each client's file
// holds only its way of waiting.
//
// The scale test sends N requests `GET /{delay}/bench-{i}` to the delay server at once and
// waits for all N answers. Six programs do it six ways (scale_threads.cpp, scale_epoll.cpp,
// scale_poll.cpp, scale_io_uring.cpp, scale_asio.cpp, scale_libuv.cpp); everything else is
// the same and lives here: the command line (parsed in scale_client.cpp), the request and
// the check of its answer, what happened to each request, and the summary each client
// prints; for the clients on plain sockets (threads, epoll, Poll) also connecting, sending
// and reading. bench-scale reads the summary's last line:
//
//   result requests=N succeeded=S failed=F wall_ms=W sent_ms=A slowest_ms=L peak_rss_kib=M
//
//   wall_ms     from just before the first connect to the last answer read (or failure)
//   sent_ms     from the same start until the last request was handed to the kernel
//   slowest_ms  the longest time from one request sent to its answer read
//
//   peak_rss_kib  the most resident memory the process ever held (VmHWM, /proc/self/status)
//
// CPU time is not measured here: bench-scale takes it from the kernel's accounting of the
// whole process (wait4's struct rusage) when the client exits. Peak memory is read here
// and not from that rusage: a child started with fork or posix_spawn keeps its parent's
// peak in ru_maxrss across exec (Linux's exec_mmap carries over the larger of the old and
// new address spaces' peaks), so ru_maxrss would never show a client smaller than the
// program that started it.
//
// Platform: Linux (/proc/self/status for the peak memory).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "measure.h"

namespace scale {

using Clock = std::chrono::steady_clock;

// An OS call that must not fail (creating the event queue, raising a limit) ends the
// program with the OS's own message, naming the program (measure::program_name, which
// parse_options sets). A call that fails for one request only (connect, send, recv) fails
// that request instead: see Outcome.
using measure::fail;

// How a request's failed call is reported: "connect: Connection refused".
inline std::string failure(std::string_view call, int error_number) {
    return std::string(call) + ": " + std::strerror(error_number);
}

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // the delay server's port
    sockaddr_in address{};      // both of them, ready for connect()
    int requests = 100;
    int delay_ms = 1000;

    // Every wait is bounded: a request not answered within the delay + 30 s fails.
    Clock::duration time_limit() const {
        return std::chrono::milliseconds(delay_ms) + std::chrono::seconds(30);
    }
};

// The command line every client takes (the workspace's convention: --help prints the
// usage and exits 0, a bad option or value exits 2), `way` saying in the usage how this one
// waits. Then, since every connection is a file descriptor and the usual soft limit of 1024
// would stop a client at about a thousand, it raises the soft open-file limit to the hard
// limit, as the server does (bench/run raises it for everything it starts), and ends the
// program when that is still too low for the requests.
Options parse_options(int argc, char** argv, const char* name, const char* way);

// GET /1000/bench-17 asks the delay server to answer "bench-17" after 1000 ms.
inline std::string build_request(int delay_ms, int index) {
    return "GET /" + std::to_string(delay_ms) + "/bench-" + std::to_string(index) +
           " HTTP/1.1\r\n"
           "Host: localhost\r\n"
           "Connection: close\r\n"
           "\r\n";
}

// The server sends its whole answer, then closes: the answer is complete at end of file.
// Returns "" for the right answer, else what was wrong with it.
inline std::string check_answer(std::string_view response, int index) {
    if (!response.starts_with("HTTP/1.1 200 OK\r\n")) {
        return "answered \"" + std::string(response.substr(0, response.find('\r'))) + "\"";
    }
    if (!response.ends_with("\r\n\r\nbench-" + std::to_string(index))) {
        return "wrong body";
    }
    return "";
}

// What happened to one request. Each client keeps one per request, in request order.
struct Outcome {
    bool finished = false;            // answered, or failed
    std::string failure;              // empty: the right answer arrived
    Clock::time_point sent_at{};      // the whole request handed to the kernel
    Clock::time_point finished_at{};  // the answer read to end of file, or the failure

    void finish(std::string why) {  // why: "" for the right answer
        failure = std::move(why);
        finished = true;
        finished_at = Clock::now();
    }
};

// --- The clients on plain sockets: threads (blocking), epoll and Poll (non-blocking) --------

// One connection and what it has received so far.
struct Stream {
    int socket = -1;
    bool request_sent = false;
    std::string received;
};

// A non-blocking socket with its connect started: it returns EINPROGRESS at once and the
// handshake goes on in the kernel. -1, with the request failed, where the OS refuses the
// socket (EMFILE: the open-file limit) or the connect; the other requests go on.
inline int start_connect(const Options& options, Outcome& outcome) {
    const int socket = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket < 0) {
        outcome.finish(failure("socket", errno));
        return -1;
    }
    if (connect(socket, reinterpret_cast<const sockaddr*>(&options.address),
                sizeof options.address) != 0 &&
        errno != EINPROGRESS) {
        outcome.finish(failure("connect", errno));
        if (close(socket) != 0) {
            fail("close");
        }
        return -1;
    }
    return socket;
}

// Sends the request, far smaller than a socket's send buffer, in one call; a fresh
// connection takes its 80 bytes without a short write, and if it ever did not, the request
// fails saying so instead of waiting for an answer that cannot come. False when it failed.
inline bool send_request(Stream& stream, Outcome& outcome, int delay_ms, int index) {
    const std::string request = build_request(delay_ms, index);
    ssize_t sent = 0;
    do {
        sent = send(stream.socket, request.data(), request.size(), MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent != static_cast<ssize_t>(request.size())) {
        outcome.finish(sent < 0 ? failure("send", errno) : "short send");
        return false;
    }
    stream.request_sent = true;
    outcome.sent_at = Clock::now();
    return true;
}

// The socket is writable for the first time: the handshake is over, well or not. Sends
// the request if it succeeded (else fails the request).
inline void send_once_connected(Stream& stream, Outcome& outcome, int delay_ms, int index) {
    int connect_error = 0;
    socklen_t length = sizeof connect_error;
    if (getsockopt(stream.socket, SOL_SOCKET, SO_ERROR, &connect_error, &length) != 0) {
        fail("getsockopt");
    }
    if (connect_error != 0) {
        outcome.finish(failure("connect", connect_error));
        return;
    }
    send_request(stream, outcome, delay_ms, index);
}

// Reads everything there is, until the socket would block (false: wait for more) or the
// request is finished (true): at end of file, with the answer checked, or on an error. On a
// blocking socket it returns false only when its receive time limit (SO_RCVTIMEO) passed.
inline bool read_answer(Stream& stream, Outcome& outcome, int index) {
    char buffer[4096];
    while (true) {
        const ssize_t count = recv(stream.socket, buffer, sizeof buffer, 0);
        if (count > 0) {
            stream.received.append(buffer, static_cast<std::size_t>(count));
            continue;
        }
        if (count == 0) {  // End of file: the server sent everything and closed.
            outcome.finish(check_answer(stream.received, index));
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return false;  // All read for now.
        }
        if (errno != EINTR) {
            outcome.finish(failure("recv", errno));
            return true;
        }
    }
}

// Closes the socket if it is open (-1 afterwards).
inline void close_socket(int& socket) {
    if (socket >= 0 && close(socket) != 0) {
        fail("close");
    }
    socket = -1;
}

// --- The summary ----------------------------------------------------------------------------

inline double milliseconds(Clock::duration duration) {
    return std::chrono::duration<double, std::milli>(duration).count();
}

// Prints what happened, then the `result` line bench-scale reads. Returns the exit status:
// 0 when every request got the right answer, 1 otherwise.
inline int print_summary(const Options& options, const std::vector<Outcome>& outcomes,
                         Clock::time_point start) {
    long succeeded = 0;
    std::map<std::string, long> failure_reasons;  // reason -> how many requests
    Clock::time_point last_sent = start;
    Clock::time_point last_finished = start;
    Clock::duration slowest = Clock::duration::zero();
    for (const Outcome& outcome : outcomes) {
        if (!outcome.finished) {
            ++failure_reasons["never finished"];
            continue;
        }
        last_finished = std::max(last_finished, outcome.finished_at);
        if (!outcome.failure.empty()) {
            ++failure_reasons[outcome.failure];
            continue;
        }
        ++succeeded;
        last_sent = std::max(last_sent, outcome.sent_at);
        slowest = std::max(slowest, outcome.finished_at - outcome.sent_at);
    }
    const long failed = static_cast<long>(outcomes.size()) - succeeded;
    const double wall_ms = milliseconds(last_finished - start);
    std::printf("%d requests to %s:%u, each GET /%d/bench-{i}\n", options.requests,
                options.host.c_str(), options.port, options.delay_ms);
    std::printf("all requests sent after %.1f ms\n", milliseconds(last_sent - start));
    std::printf("answers: %ld right, %ld failed\n", succeeded, failed);
    for (const auto& [reason, count] : failure_reasons) {
        std::printf("  %ld x %s\n", count, reason.c_str());
    }
    std::printf("wall time: %.1f ms for a delay of %d ms (%.2fx)\n", wall_ms, options.delay_ms,
                options.delay_ms > 0 ? wall_ms / options.delay_ms : 0.0);
    std::printf("slowest answer: %.1f ms after its request was sent\n", milliseconds(slowest));
    // The process's peak resident memory so far: VmHWM ("high water mark").
    const long peak_kib = measure::proc_kib("VmHWM");
    std::printf("peak resident memory: %ld KiB\n", peak_kib);
    std::printf(
        "result requests=%d succeeded=%ld failed=%ld wall_ms=%.1f sent_ms=%.1f "
        "slowest_ms=%.1f peak_rss_kib=%ld\n",
        options.requests, succeeded, failed, wall_ms, milliseconds(last_sent - start),
        milliseconds(slowest), peak_kib);
    return failed == 0 ? 0 : 1;
}

}  // namespace scale
