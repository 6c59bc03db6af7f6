// support/arguments_and_report.hpp: what every event-queue example needs around its queue,
// and the same on every OS. A first reading may skip this file: main.cpp is the lesson.
//
// It holds the command line (the arguments, --help and the usage error), the record each
// stream keeps whatever the OS (what it asked, what it received, and when), the RECEIVED
// lines, the check that an answer is a complete 200 OK, the summary line and the --timeline
// drawing. None of it calls the OS, so it is written once, here, as TLPI keeps its
// tlpi_hdr.h once for all its programs: each event-queue example (ch03-epoll, ch03-kqueue,
// ch03-iocp, ch03-io-uring, ch03-wepoll, ch03-poll) finds it through the include path its
// CMakeLists.txt gives it (target_include_directories ... support).
//
// main.cpp defines program_name and program_purpose (below) and includes this file first.
// ch03-why-an-event-queue, which waits four ways, shares the command line and the answer
// check, in the shape it asks for (CommandLineShape).
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include "delay_server_client.hpp"  // build_request, fail_to_connect

using Clock = std::chrono::steady_clock;

// Defined in main.cpp: the program's name, which starts every message it prints, and what
// it does, for --help ("answered through epoll").
extern const char program_name[];
extern const char program_purpose[];

// ----------------------------------------------------------------------------------------
// The arguments
// ----------------------------------------------------------------------------------------

// One connection per request: 1000 stays below the 1024 open descriptors that Linux and
// macOS allow a process by default.
constexpr int max_requests = 1000;
// The delay server refuses a delay above its --max-delay-ms, 60000 ms unless it is started
// with another (delayserver/main.cpp). The longest delay asked for, requests * step, must
// stay within it, or the slowest request would get a 400 instead of its answer.
constexpr int delay_server_max_delay_ms = 60000;
// The default --timeout is the longest delay plus this much, for the connections and the
// last answer to arrive.
constexpr int timeout_margin_ms = 10000;
// An hour: long enough for any run the arguments allow, short enough that a typo cannot
// keep a test waiting for days.
constexpr int max_timeout_ms = 3600000;

struct Arguments {
    std::string address = "localhost:8080";  // as given, for the messages
    std::string host = "localhost";          // for getaddrinfo: no brackets around ::1
    std::string port = "8080";
    int requests = 5;
    int step_ms = 1000;
    int timeout_ms = -1;  // -1: the longest delay plus timeout_margin_ms
    bool timeline = false;
};

// What differs between the programs sharing this command line: the event-queue examples
// take the defaults; ch03-why-an-event-queue asks for a shorter step, no --timeline, and a
// timeout that counts from the last answer (its blocking ways wait on one socket at a time).
struct CommandLineShape {
    int default_step_ms = 1000;
    bool takes_timeline = true;
    bool timeout_from_last_answer = false;
};
inline CommandLineShape command_line_shape;  // parse_arguments sets it, for the usage

inline void print_usage(std::FILE* to) {
    const CommandLineShape& shape = command_line_shape;
    std::fprintf(
        to,
        "usage: %s [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]%s\n"
        "Five slow requests to the delay server, %s.\n"
        "  --address HOST:PORT  the delay server (default localhost:8080)\n"
        "  --requests N         how many requests, 1 to %d (default 5)\n"
        "  --step MS            request i asks for a delay of (N - i) * MS ms (default\n"
        "                       %d); the longest, N * MS, at most %d\n"
        "%s%d)\n"
        "%s"
        "  --help               this text\n",
        program_name, shape.takes_timeline ? " [--timeline]" : "", program_purpose, max_requests,
        shape.default_step_ms, delay_server_max_delay_ms,
        shape.timeout_from_last_answer
            ? "  --timeout MS         give up when nothing arrives for MS ms (default: the\n"
              "                       longest delay + "
            : "  --timeout MS         give up after MS ms (default: the longest delay + ",
        timeout_margin_ms,
        shape.takes_timeline
            ? "  --timeline           after the summary, one bar per request over time\n"
            : "");
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

inline Arguments parse_arguments(int argc, char** argv, const CommandLineShape& shape = {}) {
    command_line_shape = shape;
    Arguments arguments;
    arguments.step_ms = shape.default_step_ms;
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--help" || flag == "-h") {
            print_usage(stdout);
            std::exit(0);
        }
        if (flag == "--timeline" && shape.takes_timeline) {
            arguments.timeline = true;
            continue;
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
// The record of a stream
// ----------------------------------------------------------------------------------------

// What every example keeps about one stream, whatever its OS: each main.cpp's Stream is a
// StreamRecord plus what the OS needs (a socket; where the OS does the reading, IOCP and
// io_uring, also the buffer it fills).
struct StreamRecord {
    std::string request_path;            // "/5000/request-0"
    std::string received;                // every byte the server sent, as it came
    bool finished = false;               // read to end of file
    Clock::time_point sent_at = {};      // for the timeline
    Clock::time_point answered_at = {};  // for the timeline
};

// ----------------------------------------------------------------------------------------
// The RECEIVED lines
// ----------------------------------------------------------------------------------------

// One bit of an OS's flag word and the name its header gives it, for bit_names.
struct BitName {
    std::uint64_t bit;
    const char* name;
};

// The bits set in `value` by their names, joined by '|' as in C ("EPOLLIN|EPOLLRDHUP"); a bit
// the table does not name is shown as a number, so nothing the OS set goes unseen.
inline std::string bit_names(std::uint64_t value, std::initializer_list<BitName> names) {
    std::string text;
    for (const BitName& name : names) {
        if ((value & name.bit) != 0) {
            text.append(text.empty() ? "" : "|").append(name.name);
            value &= ~name.bit;
        }
    }
    if (value != 0 || text.empty()) {
        text.append(text.empty() ? "" : "|").append(std::to_string(value));
    }
    return text;
}

// The stream that just finished, after what the OS handed back for its last event (`event`,
// in the OS's own terms, as the book prints its raw Event), then the answer as it came.
inline void print_response(std::size_t token, const StreamRecord& stream, std::string_view event) {
    std::printf("RECEIVED: stream %zu, %s, after %.*s\n%s\n------\n", token,
                stream.request_path.c_str(), static_cast<int>(event.size()), event.data(),
                stream.received.c_str());
    std::fflush(stdout);
}

// ----------------------------------------------------------------------------------------
// The summary
// ----------------------------------------------------------------------------------------

// A complete 200 OK answer: the status line, the head up to its empty line, and a body of
// exactly the size its content-length header gives. The delay server always sends that
// header and closes the connection after the body, so a shorter body means the connection
// ended early, and a missing head means the server sent something that is not HTTP at all.
// Header names are case-insensitive (RFC 9110 section 5.1).
inline bool is_complete_ok_answer(std::string_view answer) {
    constexpr std::string_view status_line = "HTTP/1.1 200 OK\r\n";
    const std::size_t head_end = answer.find("\r\n\r\n");
    if (!answer.starts_with(status_line) || head_end == std::string_view::npos) {
        return false;
    }
    const std::size_t body_size = answer.size() - (head_end + 4);
    // The header lines, each ending in "\r\n": from after the status line to the empty line.
    std::string_view headers = answer.substr(status_line.size(), head_end + 2 - status_line.size());
    while (!headers.empty()) {
        const std::size_t line_end = headers.find("\r\n");
        const std::string_view line = headers.substr(0, line_end);
        headers.remove_prefix(line_end + 2);
        const std::string_view wanted = "content-length:";
        const bool is_content_length =
            line.size() > wanted.size() &&
            std::equal(wanted.begin(), wanted.end(), line.begin(), [](char lower, char got) {
                return lower == (got >= 'A' && got <= 'Z' ? got - 'A' + 'a' : got);
            });
        if (!is_content_length) {
            continue;
        }
        std::string_view value = line.substr(wanted.size());
        while (value.starts_with(' ') || value.starts_with('\t')) {
            value.remove_prefix(1);  // optional white space around the value
        }
        while (value.ends_with(' ') || value.ends_with('\t')) {
            value.remove_suffix(1);
        }
        std::size_t length = 0;
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), length);
        return error == std::errc() && end == value.data() + value.size() && length == body_size;
    }
    return false;  // no content-length: there is no telling whether the body is complete
}

// Each answer must be a complete 200 OK; the run took about the longest delay, not the sum.
// StreamList is the example's own std::vector<Stream>; only the StreamRecord part is read.
template <typename StreamList>
int print_summary(const StreamList& streams, const Arguments& arguments, Clock::duration elapsed) {
    int failed = 0;
    std::size_t token = 0;
    for (const StreamRecord& stream : streams) {
        if (!is_complete_ok_answer(stream.received)) {
            std::fprintf(stderr, "%s: stream %zu got no complete 200 OK answer\n", program_name,
                         token);
            ++failed;
        }
        ++token;
    }
    // In 64 bits: one at a time takes 1 + 2 + ... + N steps, up to 1000 * 1001 / 2 of them.
    const std::int64_t requests = arguments.requests;
    const std::int64_t step_ms = arguments.step_ms;
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const double longest = static_cast<double>(requests * step_ms) / 1000.0;
    const double one_at_a_time =
        static_cast<double>(requests * (requests + 1) / 2 * step_ms) / 1000.0;
    std::printf(
        "FINISHED: %zu responses in %.2f s; the longest delay is %.2f s, "
        "one at a time would take %.2f s\n",
        streams.size(), seconds, longest, one_at_a_time);
    return failed == 0 ? 0 : 1;
}

// One line per stream: a bar from when its request was sent to when its answer arrived,
// on one time scale, so the overlap of the waits can be seen.
template <typename StreamList>
void print_timeline(const StreamList& streams, Clock::time_point start) {
    constexpr int columns = 50;  // the bars' width: fits an 80-column terminal with the labels
    Clock::duration end = Clock::duration::zero();
    for (const StreamRecord& stream : streams) {
        end = std::max(end, stream.answered_at - start);
    }
    const double seconds_per_column =
        std::max(std::chrono::duration<double>(end).count() / columns, 0.001);
    auto column = [&](Clock::time_point time) {
        return static_cast<int>(std::chrono::duration<double>(time - start).count() /
                                seconds_per_column);
    };
    std::printf("\nTimeline: from request sent (|) to answer (>); one column is %.0f ms\n",
                seconds_per_column * 1000);
    std::size_t token = 0;
    for (const StreamRecord& stream : streams) {
        const int sent = column(stream.sent_at);
        const int answered = std::max(column(stream.answered_at), sent + 1);
        const std::string bar = std::string(sent, ' ') + "|" +
                                std::string(answered - sent - 1, '=') + ">" +
                                std::string(std::max(columns - answered, 0), ' ');
        std::printf("  stream %zu %s %5.2f s\n", token++, bar.c_str(),
                    std::chrono::duration<double>(stream.answered_at - stream.sent_at).count());
    }
}
