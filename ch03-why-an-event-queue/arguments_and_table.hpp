// arguments_and_table.hpp: what ch03-why-an-event-queue needs around its four ways of
// waiting. A first reading may skip this file: main.cpp is the lesson.
//
// It holds the command line (the arguments, --help and the usage error), the requests of a
// run (request i asks for an answer after (N - i) * step ms), the check that an answer is
// the right one, and the table printed at the end. None of it calls the OS.
//
// It is not the event-queue examples' support/arguments_and_report.hpp: this program waits
// four ways, not one, and prints a table instead of their summary and timeline, so it keeps
// its own support file, beside it, since no other program uses it.
//
// main.cpp defines program_name (below) and includes this file first.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using Clock = std::chrono::steady_clock;

// Defined in main.cpp: the program's name, which starts every message it prints.
extern const char program_name[];

// ----------------------------------------------------------------------------------------
// The arguments
// ----------------------------------------------------------------------------------------

// One connection per request (and, in the second way, one thread): 1000 stays below the
// 1024 open descriptors that Linux allows a process by default.
constexpr int max_requests = 1000;
// The delay server refuses a delay above its --max-delay-ms, 60000 ms unless it is started
// with another (delayserver/main.cpp): the longest delay, requests * step, must stay within.
constexpr int delay_server_max_delay_ms = 60000;
// The default --timeout is the longest delay plus this much.
constexpr int timeout_margin_ms = 10000;
// An hour: long enough for any run the arguments allow, short enough that a typo cannot
// keep a test waiting for days.
constexpr int max_timeout_ms = 3600000;

struct Arguments {
    std::string address = "localhost:8080";  // as given, for the messages
    std::string host = "localhost";          // for getaddrinfo: no brackets around ::1
    std::string port = "8080";
    int requests = 5;
    int step_ms = 100;
    int timeout_ms = -1;  // -1: the longest delay plus timeout_margin_ms
};

inline void print_usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: %s [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]\n"
                 "Five slow requests to the delay server, waited for four ways: blocking one\n"
                 "after another, blocking on a thread each, a busy loop, and epoll; then a\n"
                 "table of the time and CPU time each way took.\n"
                 "  --address HOST:PORT  the delay server (default localhost:8080)\n"
                 "  --requests N         how many requests, 1 to %d (default 5)\n"
                 "  --step MS            request i asks for a delay of (N - i) * MS ms (default\n"
                 "                       100); the longest, N * MS, at most %d\n"
                 "  --timeout MS         give up when nothing arrives for MS ms (default: the\n"
                 "                       longest delay + %d)\n"
                 "  --help               this text\n",
                 program_name, max_requests, delay_server_max_delay_ms, timeout_margin_ms);
}

// What was wrong, in one line, then the usage, on standard error; exit code 2.
[[noreturn]] inline void usage_error(std::string_view message) {
    std::fprintf(stderr, "%s: %.*s\n", program_name, static_cast<int>(message.size()),
                 message.data());
    print_usage(stderr);
    std::exit(2);
}

inline int parse_number(std::string_view text, int lowest, int highest, std::string_view flag) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < lowest ||
        value > highest) {
        usage_error(std::string(flag) + " needs a whole number from " + std::to_string(lowest) +
                    " to " + std::to_string(highest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

inline Arguments parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--help" || flag == "-h") {
            print_usage(stdout);
            std::exit(0);
        }
        if (flag != "--address" && flag != "--requests" && flag != "--step" &&
            flag != "--timeout") {
            usage_error("unknown option '" + std::string(flag) + "'");
        }
        if (index + 1 >= argc) {
            usage_error(std::string(flag) + " needs a value");
        }
        const std::string_view value = argv[++index];
        if (flag == "--address") {
            const std::size_t colon = value.rfind(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
                usage_error("--address needs HOST:PORT, not '" + std::string(value) + "'");
            }
            arguments.address = value;
            arguments.host = value.substr(0, colon);
            if (arguments.host.size() > 2 && arguments.host.front() == '[' &&
                arguments.host.back() == ']') {  // [::1]:8080, as the delay server prints it
                arguments.host = arguments.host.substr(1, arguments.host.size() - 2);
            }
            arguments.port = value.substr(colon + 1);
            parse_number(arguments.port, 1, 65535, "the port in --address");  // not 0 or 99999
        } else if (flag == "--requests") {
            arguments.requests = parse_number(value, 1, max_requests, flag);
        } else if (flag == "--step") {
            arguments.step_ms = parse_number(value, 0, delay_server_max_delay_ms, flag);
        } else {
            arguments.timeout_ms = parse_number(value, 1, max_timeout_ms, flag);
        }
    }
    // Both bounds above keep this product far from int's limit (1000 * 60000).
    const int longest_delay_ms = arguments.requests * arguments.step_ms;
    if (longest_delay_ms > delay_server_max_delay_ms) {
        usage_error("the longest delay, --requests times --step, is " +
                    std::to_string(longest_delay_ms) + " ms; the delay server accepts at most " +
                    std::to_string(delay_server_max_delay_ms));
    }
    if (arguments.timeout_ms < 0) {
        arguments.timeout_ms = longest_delay_ms + timeout_margin_ms;
    }
    return arguments;
}

// ----------------------------------------------------------------------------------------
// The requests and their answers
// ----------------------------------------------------------------------------------------

// Request i asks the delay server to answer "request-i" after (N - i) * step ms: the first
// sent is the slowest. Every way sends the same requests.
inline std::string request_path(const Arguments& arguments, int index) {
    const int delay_ms = (arguments.requests - index) * arguments.step_ms;
    return '/' + std::to_string(delay_ms) + "/request-" + std::to_string(index);
}

// The right answer to request i: a complete 200 OK (the head up to its empty line, and a
// body of exactly the size its content-length header gives) whose body is "request-i".
// The delay server always sends a content-length (in lower case) and closes the connection
// after the body.
inline bool is_right_answer(std::string_view answer, int index) {
    constexpr std::string_view status_line = "HTTP/1.1 200 OK\r\n";
    const std::size_t head_end = answer.find("\r\n\r\n");
    if (!answer.starts_with(status_line) || head_end == std::string_view::npos) {
        return false;
    }
    const std::string_view head = answer.substr(0, head_end + 2);  // each line ends in \r\n
    const std::string_view body = answer.substr(head_end + 4);
    constexpr std::string_view length_header = "\r\ncontent-length: ";
    const std::size_t length_at = head.find(length_header);
    if (length_at == std::string_view::npos) {
        return false;
    }
    const std::size_t value_at = length_at + length_header.size();
    const std::string_view value = head.substr(value_at, head.find("\r\n", value_at) - value_at);
    std::size_t length = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
    return error == std::errc() && end == value.data() + value.size() && length == body.size() &&
           body == "request-" + std::to_string(index);
}

// ----------------------------------------------------------------------------------------
// The table
// ----------------------------------------------------------------------------------------

// One row: what one way took.
struct WayResult {
    const char* name;           // "busy loop, non-blocking"
    int right_answers = 0;      // of arguments.requests
    Clock::duration wall = {};  // time on the clock, from the first connect to the last answer
    std::chrono::microseconds cpu = {};  // processor time the process used meanwhile
    int threads = 0;                     // threads that waited
    std::int64_t os_calls = 0;           // read and epoll_wait calls made while waiting
};

inline long long milliseconds(auto duration) {
    return std::chrono::round<std::chrono::milliseconds>(duration).count();
}

// The table at the end: one row per way, then what the columns mean.
inline void print_table(const std::vector<WayResult>& results, const Arguments& arguments) {
    std::printf("\n%-34s %8s %8s %8s %8s %10s\n", "way", "answers", "wall ms", "CPU ms", "threads",
                "OS calls");
    for (const WayResult& result : results) {
        const std::string answers =
            std::to_string(result.right_answers) + " of " + std::to_string(arguments.requests);
        std::printf("%-34s %8s %8lld %8.1f %8d %10lld\n", result.name, answers.c_str(),
                    milliseconds(result.wall),
                    std::chrono::duration<double, std::milli>(result.cpu).count(), result.threads,
                    static_cast<long long>(result.os_calls));
    }
    std::printf(
        "\nwall: time on the clock; CPU: processor time the process used meanwhile, all its\n"
        "threads counted (getrusage); OS calls: the read and epoll_wait calls made while\n"
        "waiting.\n");
}
