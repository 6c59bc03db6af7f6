// bench/scale_client.h: what the five scale clients share, so that each client's file
// holds only its way of waiting.
//
// The scale test sends N requests `GET /{delay}/bench-{i}` to the delay server at once and
// waits for all N answers. Five programs do it five ways (scale_threads.cpp,
// scale_epoll.cpp, scale_io_uring.cpp, scale_asio.cpp, scale_libuv.cpp); everything else is
// the same and lives here: the command line, the request and the check of its answer, the
// open-file limit, and the summary each client prints. bench-suite reads the summary's last
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
// CPU time is not measured here: bench-suite takes it from the kernel's accounting of the
// whole process (wait4's struct rusage) when the client exits. Peak memory is read here
// and not from that rusage: a child started with fork or posix_spawn keeps its parent's
// peak in ru_maxrss across exec (Linux's exec_mmap carries over the larger of the old and
// new address spaces' peaks), so ru_maxrss would never show a client smaller than the
// suite that started it.
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

// The workspace's convention, as in the examples: --help (or -h) prints this to standard
// output and exits 0; a bad option prints what was wrong, then this, to standard error and
// exits 2.
inline void print_usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: %s [--address HOST:PORT] [--requests N] [--delay-ms MS]\n"
                 "N delayed requests to the delay server at once, waited for by %s.\n"
                 "  --address HOST:PORT  the delay server; HOST is an IPv4 address (default\n"
                 "                       127.0.0.1:8080)\n"
                 "  --requests N         how many, each on its own connection, 1 to 1000000\n"
                 "                       (default 100)\n"
                 "  --delay-ms MS        the delay every request asks for, 0 to 600000 (default\n"
                 "                       1000): the same for all, where the examples' --step\n"
                 "                       gives each request its own\n"
                 "  --help               this text\n",
                 program_name, program_way);
}

[[noreturn]] inline void usage_error(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", program_name, message.c_str());
    print_usage(stderr);
    std::exit(2);
}

// --------------------------------------------------------------------------------------------
// The command line
// --------------------------------------------------------------------------------------------

struct Options {
    std::string host;        // "127.0.0.1"
    std::uint16_t port = 0;  // the delay server's port
    sockaddr_in address{};   // both of them, ready for connect()
    int requests = 100;
    int delay_ms = 1000;
};

// 'text', in quotes, for messages. (Built by appending: GCC 12 at -O3 warns wrongly about
// "literal" + std::string, its bug 105651.)
inline std::string quoted(std::string_view text) {
    std::string result = "'";
    result += text;
    result += "'";
    return result;
}

inline int parse_number(std::string_view text, std::string_view what, int lowest, int highest) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        value < lowest || value > highest) {
        usage_error(std::string(what) + " needs a whole number from " + std::to_string(lowest) +
                    " to " + std::to_string(highest) + ", not " + quoted(text));
    }
    return value;
}

// HOST:PORT into the address connect() takes.
inline void set_address(Options& options, std::string_view address) {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
        usage_error("--address needs HOST:PORT, not " + quoted(address));
    }
    options.host = address.substr(0, colon);
    options.port =
        static_cast<std::uint16_t>(parse_number(address.substr(colon + 1), "PORT", 1, 65535));
    options.address.sin_family = AF_INET;
    options.address.sin_port = htons(options.port);  // network byte order
    if (inet_pton(AF_INET, options.host.c_str(), &options.address.sin_addr) != 1) {
        usage_error(quoted(options.host) + " is not an IPv4 address");
    }
}

inline Options parse_options(int argc, char** argv) {
    Options options;
    set_address(options, "127.0.0.1:8080");
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--help" || flag == "-h") {
            print_usage(stdout);
            std::exit(0);
        }
        if (flag != "--address" && flag != "--requests" && flag != "--delay-ms") {
            usage_error("unknown option " + quoted(flag));
        }
        if (index + 1 >= argc) {
            usage_error(std::string(flag) + " needs a value");
        }
        const std::string_view value = argv[++index];
        if (flag == "--address") {
            set_address(options, value);
        } else if (flag == "--requests") {
            options.requests = parse_number(value, flag, 1, 1000000);
        } else {
            options.delay_ms = parse_number(value, flag, 0, 600000);
        }
    }
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

// Prints what happened, then the `result` line bench-suite reads. Returns the exit status:
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
