// delayserver/load-test.cpp: hold N delayed requests open against the delay server at once.
//
// What it shows: that the delay server keeps 10,000 slow requests waiting on its one thread.
// This client opens N connections (default 10,000) without waiting for any answer, sends
// `GET /{delay}/load-{i}` on each, and then waits for all N answers in one epoll loop.
// If the server handled requests one after another, or with a small pool of threads, the
// wall time would be a multiple of the delay; here it should be the delay plus the time it
// takes to open the connections.
//
// Usage:
//   delayserver --port 0 > /dev/null &          # note the port it reports on stdout
//   delayserver-load-test --address 127.0.0.1:PORT [--requests N] [--delay-ms MS]
//                         [--timeout MS] [--server-pid PID]
// Each request has a connection of its own, as in the examples (--requests there too).
// --server-pid makes it print the server's peak memory (VmHWM in /proc/PID/status).
// See README.md for the figures measured on the workspace's machine.
//
// Output: what it did, how many answers were right, the wall time next to the delay.
// Exit status 0 when every answer was right, 1 otherwise, 2 for bad usage.
//
// Platform: Linux only (epoll). It raises its own soft open-file limit to the hard limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail_with_os_error(const char* call) {
    std::fprintf(stderr, "delayserver-load-test: %s: %s\n", call, std::strerror(errno));
    std::exit(1);
}

constexpr const char* usage_text =
    "Usage: delayserver-load-test --address HOST:PORT [--requests N] [--delay-ms MS]\n"
    "                             [--timeout MS] [--server-pid PID]\n"
    "\n"
    "Opens N connections to the delay server at once, sends GET /{MS}/load-{i} on each,\n"
    "waits for every answer in one epoll loop, checks each, and reports the wall time.\n"
    "  --address HOST:PORT  the delay server (HOST an IPv4 address)\n"
    "  --requests N         how many requests, each on its own connection (default 10000)\n"
    "  --delay-ms MS        the delay each request asks for (default 2000)\n"
    "  --timeout MS         how long to wait for all the answers (default: the delay\n"
    "                       plus 60000)\n"
    "  --server-pid PID     also print the server's peak memory (/proc/PID/status)\n"
    "  -h, --help           print this text and exit\n"
    "Exit status: 0 when every answer was right, 1 otherwise, 2 for a bad option.\n";

// One line saying what was wrong, then the usage, on standard error; exit 2.
[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "delayserver-load-test: %s\n%s", message.c_str(), usage_text);
    std::exit(2);
}

struct Options {
    sockaddr_in server{};
    std::string server_text;
    long requests = 10000;
    long delay_ms = 2000;
    long timeout_ms = -1;  // -1: the delay plus 60 s
    long server_pid = 0;   // 0: do not report the server's memory
};

long parse_number(std::string_view text, const char* what, long smallest, long largest) {
    long value = 0;
    const std::from_chars_result result =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
        value < smallest || value > largest) {
        usage_error(std::string(what) + " needs a number from " + std::to_string(smallest) +
                    " to " + std::to_string(largest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

// --address HOST:PORT, HOST an IPv4 address.
void parse_address(std::string_view text, Options& options) {
    options.server_text = text;
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        usage_error("--address needs HOST:PORT, not '" + std::string(text) + "'");
    }
    const std::string host(text.substr(0, colon));
    options.server.sin_family = AF_INET;
    options.server.sin_port = htons(static_cast<std::uint16_t>(
        parse_number(text.substr(colon + 1), "--address PORT", 1, 65535)));
    if (inet_pton(AF_INET, host.c_str(), &options.server.sin_addr) != 1) {
        usage_error("--address needs an IPv4 address as HOST, not '" + host + "'");
    }
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int index = 1; index < argc; ++index) {
        const std::string_view option = argv[index];
        if (option == "--help" || option == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        }
        if (option != "--address" && option != "--requests" && option != "--delay-ms" &&
            option != "--timeout" && option != "--server-pid") {
            usage_error("unknown option '" + std::string(option) + "'");
        }
        if (index + 1 >= argc) {
            usage_error(std::string(option) + " needs a value");
        }
        const std::string_view value = argv[++index];
        if (option == "--address") {
            parse_address(value, options);
        } else if (option == "--requests") {
            options.requests = parse_number(value, "--requests", 1, 1000000);
        } else if (option == "--delay-ms") {
            options.delay_ms = parse_number(value, "--delay-ms", 0, 600000);
        } else if (option == "--timeout") {
            options.timeout_ms = parse_number(value, "--timeout", 1, 3600000);
        } else {
            options.server_pid = parse_number(value, "--server-pid", 1, 1L << 30);
        }
    }
    if (options.server_text.empty()) {
        usage_error("--address is required");
    }
    if (options.timeout_ms < 0) {
        options.timeout_ms = options.delay_ms + 60000;
    }
    return options;
}

// Each connection is a file descriptor; the usual soft limit (1024) is far too low.
void raise_open_file_limit(long connections) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail_with_os_error("getrlimit");
    }
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail_with_os_error("setrlimit");
    }
    const auto needed = static_cast<rlim_t>(connections) + 16;  // plus stdio, epoll, ...
    if (limit.rlim_cur < needed) {
        std::fprintf(stderr,
                     "delayserver-load-test: %ld connections need %llu file descriptors, but "
                     "the hard limit is %llu (raise it with ulimit -Hn as root)\n",
                     connections, static_cast<unsigned long long>(needed),
                     static_cast<unsigned long long>(limit.rlim_max));
        std::exit(1);
    }
}

// One connection, found again from its epoll event by its index (the event's token).
struct Stream {
    int fd = -1;
    bool request_sent = false;
    bool finished = false;
    bool succeeded = false;
    std::string request;
    std::size_t request_bytes_sent = 0;
    std::string response;
    Clock::time_point sent_at;
    Clock::time_point finished_at;
};

// Closing a socket also removes it from the epoll set.
void close_stream(Stream& stream) {
    if (close(stream.fd) != 0) {
        fail_with_os_error("close");
    }
    stream.fd = -1;
}

struct Tally {
    long succeeded = 0;
    long failed = 0;
    std::map<std::string, long> failure_reasons;  // reason -> how many times

    void fail(Stream& stream, const std::string& reason) {
        ++failed;
        ++failure_reasons[reason];
        stream.finished = true;
        stream.finished_at = Clock::now();
        if (stream.fd >= 0) {
            close_stream(stream);
        }
    }
};

std::string errno_text(const char* call, int error_number) {
    return std::string(call) + ": " + std::strerror(error_number);
}

// The connection is writable: the connect has finished (well or not); send the request.
void on_writable(int epoll_fd, std::size_t index, Stream& stream, Tally& tally) {
    int connect_error = 0;
    socklen_t length = sizeof connect_error;
    if (getsockopt(stream.fd, SOL_SOCKET, SO_ERROR, &connect_error, &length) != 0) {
        fail_with_os_error("getsockopt SO_ERROR");
    }
    if (connect_error != 0) {
        tally.fail(stream, errno_text("connect", connect_error));
        return;
    }
    while (stream.request_bytes_sent < stream.request.size()) {
        const ssize_t sent = send(stream.fd, stream.request.data() + stream.request_bytes_sent,
                                  stream.request.size() - stream.request_bytes_sent, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent < 0 && errno == EAGAIN) {
            return;  // the socket buffer is full; epoll says when to go on
        }
        if (sent < 0) {
            tally.fail(stream, errno_text("send", errno));
            return;
        }
        stream.request_bytes_sent += static_cast<std::size_t>(sent);
    }
    stream.request_sent = true;
    stream.sent_at = Clock::now();
    // From now on only readability matters; leaving EPOLLOUT on would wake the (level-
    // triggered) loop over and over for a socket with nothing left to send.
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = index;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, stream.fd, &event) != 0) {
        fail_with_os_error("epoll_ctl MOD");
    }
}

// The connection is readable: read what is there; the answer is complete at end-of-file.
void on_readable(std::size_t index, Stream& stream, Tally& tally) {
    char buffer[4096];
    while (true) {
        const ssize_t count = recv(stream.fd, buffer, sizeof buffer, 0);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0 && errno == EAGAIN) {
            return;  // all read for now; the answer is not complete yet
        }
        if (count < 0) {
            tally.fail(stream, errno_text("recv", errno));
            return;
        }
        if (count > 0) {
            stream.response.append(buffer, static_cast<std::size_t>(count));
            continue;
        }
        // End-of-file: the server has sent its whole answer (it closes after each one).
        const std::string expected_body = "\r\n\r\nload-" + std::to_string(index);
        if (!stream.response.starts_with("HTTP/1.1 200 OK\r\n")) {
            const std::string status_line = stream.response.substr(0, stream.response.find('\r'));
            tally.fail(stream, "answered \"" + status_line + "\"");
            return;
        }
        if (!stream.response.ends_with(expected_body)) {
            tally.fail(stream, "wrong body");
            return;
        }
        ++tally.succeeded;
        stream.succeeded = true;
        stream.finished = true;
        stream.finished_at = Clock::now();
        close_stream(stream);
        return;
    }
}

// VmHWM ("high water mark") is the most resident memory the process has ever used.
void report_server_memory(long server_pid) {
    const std::string path = "/proc/" + std::to_string(server_pid) + "/status";
    std::ifstream status(path);
    if (!status) {
        std::printf("server memory: cannot read %s\n", path.c_str());
        return;
    }
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:") || line.starts_with("VmRSS:")) {
            line.erase(std::remove(line.begin(), line.end(), '\t'), line.end());
            std::printf("server (pid %ld) %s\n", server_pid, line.c_str());
        }
    }
}

long milliseconds_between(Clock::time_point from, Clock::time_point to) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    raise_open_file_limit(options.requests);
    std::printf("%ld connections to %s, each sending GET /%ld/load-{i}\n", options.requests,
                options.server_text.c_str(), options.delay_ms);
    std::fflush(stdout);

    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
        fail_with_os_error("epoll_create1");
    }
    std::vector<Stream> streams(static_cast<std::size_t>(options.requests));
    Tally tally;
    const Clock::time_point start = Clock::now();

    // 1. Open every connection without waiting: a non-blocking connect returns EINPROGRESS
    // at once, and epoll reports the socket writable when the handshake is done.
    for (std::size_t index = 0; index < streams.size(); ++index) {
        Stream& stream = streams[index];
        stream.request = "GET /" + std::to_string(options.delay_ms) + "/load-" +
                         std::to_string(index) +
                         " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        stream.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (stream.fd < 0) {
            fail_with_os_error("socket");
        }
        const int connected = connect(stream.fd, reinterpret_cast<const sockaddr*>(&options.server),
                                      sizeof options.server);
        if (connected != 0 && errno != EINPROGRESS) {
            tally.fail(stream, errno_text("connect", errno));  // e.g. EADDRNOTAVAIL: no port left
            continue;
        }
        epoll_event event{};
        event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;  // level-triggered
        event.data.u64 = index;                          // the token: which stream this is
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, stream.fd, &event) != 0) {
            fail_with_os_error("epoll_ctl ADD");
        }
    }
    std::printf("all connect() calls made after %ld ms\n",
                milliseconds_between(start, Clock::now()));
    std::fflush(stdout);

    // 2. One loop waits for every connection: writable -> send the request; readable ->
    // read the answer; end-of-file -> check it and count it.
    const auto deadline = start + std::chrono::milliseconds(options.timeout_ms);
    std::vector<epoll_event> events(1024);
    long finished = tally.failed;
    Clock::time_point all_sent_at{};
    long sent_count = 0;
    while (finished < options.requests) {
        const long left_ms = milliseconds_between(Clock::now(), deadline);
        if (left_ms <= 0) {
            break;
        }
        const int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                                     static_cast<int>(left_ms));
        if (ready < 0 && errno == EINTR) {
            continue;  // a signal interrupted the wait: wait again
        }
        if (ready < 0) {
            fail_with_os_error("epoll_wait");
        }
        for (int event_index = 0; event_index < ready; ++event_index) {
            const epoll_event& event = events[static_cast<std::size_t>(event_index)];
            const auto index = static_cast<std::size_t>(event.data.u64);
            Stream& stream = streams[index];
            if (stream.finished) {
                continue;  // closed earlier in this same batch of events
            }
            if (!stream.request_sent) {
                on_writable(epoll_fd, index, stream, tally);
                if (stream.request_sent && ++sent_count == options.requests) {
                    all_sent_at = Clock::now();
                }
            } else {
                on_readable(index, stream, tally);
            }
            if (stream.finished) {
                ++finished;
            }
        }
    }
    const Clock::time_point end = Clock::now();
    for (Stream& stream : streams) {
        if (!stream.finished) {
            tally.fail(stream,
                       "no answer within --timeout " + std::to_string(options.timeout_ms) + " ms");
        }
    }

    // 3. The summary.
    long fastest_ms = -1;
    long slowest_ms = -1;
    for (const Stream& stream : streams) {
        if (stream.succeeded) {
            const long took = milliseconds_between(stream.sent_at, stream.finished_at);
            fastest_ms = fastest_ms < 0 ? took : std::min(fastest_ms, took);
            slowest_ms = std::max(slowest_ms, took);
        }
    }
    if (all_sent_at != Clock::time_point{}) {
        std::printf("all %ld requests sent after %ld ms\n", options.requests,
                    milliseconds_between(start, all_sent_at));
    }
    std::printf("answers: %ld succeeded, %ld failed\n", tally.succeeded, tally.failed);
    for (const auto& [reason, count] : tally.failure_reasons) {
        std::printf("  %ld x %s\n", count, reason.c_str());
    }
    std::printf("wall time: %ld ms for a delay of %ld ms (first connect to last answer)\n",
                milliseconds_between(start, end), options.delay_ms);
    std::printf("each answer came %ld to %ld ms after its request was sent\n", fastest_ms,
                slowest_ms);
    if (options.server_pid != 0) {
        report_server_memory(options.server_pid);
    }
    if (close(epoll_fd) != 0) {
        fail_with_os_error("close");
    }
    return tally.failed == 0 ? 0 : 1;
}
