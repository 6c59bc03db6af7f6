// bench/scale_client.h: what the six scale clients share, so that each client's file
// holds only its way of waiting.
//
// The scale test sends N requests `GET /{delay}/bench-{i}` to the delay server at once and
// waits for all N answers. Six programs do it six ways (scale_threads.cpp, scale_epoll.cpp,
// scale_poll.cpp, scale_io_uring.cpp, scale_asio.cpp, scale_libuv.cpp); everything else is
// the same and lives here: the command line, the request and the check of its answer, the
// open-file limit, and the summary each client prints. bench-scale reads the summary's last
// line:
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "command_line.hpp"

namespace scale {

using Clock = std::chrono::steady_clock;

// --------------------------------------------------------------------------------------------
// Reporting errors
// --------------------------------------------------------------------------------------------

// The program's name for messages, and how it waits, for its usage; each client sets
// both first thing in main.
inline const char* program_name = "bench-scale";
inline const char* program_way = "";

// An OS call that must not fail (creating the event queue, raising a limit) ends the
// program with the OS's own message. A call that fails for one request only (connect,
// send, recv) fails that request instead: see Outcome.
[[noreturn]] inline void fail(std::string_view call, int error_number = errno) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 std::strerror(error_number));
    std::exit(1);
}

// --------------------------------------------------------------------------------------------
// The command line (the workspace's convention: tools/command-line/command_line.hpp)
// --------------------------------------------------------------------------------------------

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // the delay server's port
    sockaddr_in address{};      // both of them, ready for connect()
    int requests = 100;
    int delay_ms = 1000;
};

// HOST:PORT into the address connect() takes; "" when it is one, else what is wrong.
inline std::string set_address(Options& options, const std::string& address) {
    const std::size_t colon = address.rfind(':');
    int port = 0;
    const char* const end = address.data() + address.size();
    if (colon == std::string::npos ||
        std::from_chars(address.data() + colon + 1, end, port).ptr != end || port < 1 ||
        port > 65535) {
        return "--address needs HOST:PORT, not " + address;
    }
    options.host = address.substr(0, colon);
    options.port = static_cast<std::uint16_t>(port);
    options.address.sin_family = AF_INET;
    options.address.sin_port = htons(options.port);  // network byte order
    if (inet_pton(AF_INET, options.host.c_str(), &options.address.sin_addr) != 1) {
        return options.host + " is not an IPv4 address";
    }
    return "";
}

inline Options parse_options(int argc, char** argv) {
    Options options;
    set_address(options, "127.0.0.1:8080");
    CLI::App app{std::string("N delayed requests to the delay server at once, waited for by ") +
                     program_way + ".",
                 program_name};
    std::string address = "127.0.0.1:8080";
    app.add_option("--address", address, "the delay server, HOST:PORT; HOST is an IPv4 address")
        ->capture_default_str()
        ->check([&options](const std::string& value) { return set_address(options, value); });
    app.add_option("--requests", options.requests, "how many, each on its own connection")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    app.add_option("--delay-ms", options.delay_ms,
                   "the delay every request asks for: the same for all, where the examples' "
                   "--step gives each request its own")
        ->capture_default_str()
        ->check(CLI::Range(0, 600000));
    parse_command_line(app, argc, argv);
    return options;
}

// Every connection is a file descriptor, and the usual soft limit of 1024 would stop a
// client at about a thousand. bench/run raises the limit for everything it starts; a
// client started by hand raises its own soft limit to the hard limit, as the server does.
inline void raise_open_file_limit(int requests) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail("getrlimit");
    }
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail("setrlimit");
    }
    if (limit.rlim_cur < static_cast<rlim_t>(requests) + 16) {  // + stdio, the queue, ...
        std::fprintf(stderr,
                     "%s: %d requests need about %d file descriptors; the hard limit is %llu "
                     "(as root: ulimit -Hn %d)\n",
                     program_name, requests, requests + 16,
                     static_cast<unsigned long long>(limit.rlim_max), requests + 16);
        std::exit(1);
    }
}

// --------------------------------------------------------------------------------------------
// The request and its answer
// --------------------------------------------------------------------------------------------

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
};

// --------------------------------------------------------------------------------------------
// The summary
// --------------------------------------------------------------------------------------------

// The process's peak resident memory so far, in KiB: VmHWM ("high water mark").
inline long peak_resident_kib() {
    std::FILE* status = std::fopen("/proc/self/status", "r");
    if (status == nullptr) {
        fail("open /proc/self/status");
    }
    long kib = -1;
    char line[256];
    while (std::fgets(line, sizeof line, status) != nullptr) {
        if (std::strncmp(line, "VmHWM:", 6) == 0) {
            kib = std::strtol(line + 6, nullptr, 10);
        }
    }
    if (std::fclose(status) != 0) {
        fail("close /proc/self/status");
    }
    return kib;
}

inline double milliseconds(Clock::duration duration) {
    return std::chrono::duration<double, std::milli>(duration).count();
}

// Prints what happened, then the `result` line bench-scale reads. Returns the exit status:
// 0 when every request got the right answer, 1 otherwise.
inline int print_summary(const Options& options, const std::vector<Outcome>& outcomes,
                         Clock::time_point start) {
    long succeeded = 0;
    long failed = 0;
    std::map<std::string, long> failure_reasons;  // reason -> how many requests
    Clock::time_point last_sent = start;
    Clock::time_point last_finished = start;
    Clock::duration slowest = Clock::duration::zero();
    for (const Outcome& outcome : outcomes) {
        if (!outcome.finished) {
            ++failed;
            ++failure_reasons["never finished"];
            continue;
        }
        last_finished = std::max(last_finished, outcome.finished_at);
        if (!outcome.failure.empty()) {
            ++failed;
            ++failure_reasons[outcome.failure];
            continue;
        }
        ++succeeded;
        last_sent = std::max(last_sent, outcome.sent_at);
        slowest = std::max(slowest, outcome.finished_at - outcome.sent_at);
    }
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
    const long peak_kib = peak_resident_kib();
    std::printf("peak resident memory: %ld KiB\n", peak_kib);
    std::printf(
        "result requests=%d succeeded=%ld failed=%ld wall_ms=%.1f sent_ms=%.1f "
        "slowest_ms=%.1f peak_rss_kib=%ld\n",
        options.requests, succeeded, failed, wall_ms, milliseconds(last_sent - start),
        milliseconds(slowest), peak_kib);
    return failed == 0 ? 0 : 1;
}

}  // namespace scale
