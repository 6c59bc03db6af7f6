// ch07-coroutine-by-hand/arguments.hpp: the command line of both programs: --help, the
// options, the usage error. Not part of the lesson.
//
// As in every program of the workspace, --help (or -h) prints the usage to standard output
// and exits 0; anything else unknown prints what was wrong and the usage to standard error
// and exits 2.
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

#include "http.hpp"  // delay_server, which --address sets

struct Arguments {
    int timeout_ms = 30000;  // both parts take about 5 s; a stalled server is given up on
    bool show_frames = false;
    bool poll_once_more = false;
};

// with_frames: the program has coroutine frames to show (with_co_await.cpp).
inline void print_usage(std::FILE* to, bool with_frames) {
    std::fprintf(
        to,
        "usage: %s [--address HOST:PORT] [--timeout MS] [--poll-once-more]%s\n"
        "The book's chapter 7: two requests one after the other, then five at once,\n"
        "each answer printed as it arrives; %s.\n"
        "  --address HOST:PORT  the delay server (default localhost:8080)\n"
        "  --timeout MS         give up after MS ms (default 30000)\n"
        "%s"
        "  --poll-once-more     at the end, poll the finished future once more: it\n"
        "                       refuses (the book's panic)\n"
        "  --help               this text\n",
        program_name, with_frames ? "\n       [--show-frames]" : "",
        with_frames ? "coroutines written with co_await" : "state machines written by hand",
        with_frames ? "  --show-frames        also print each coroutine frame the program "
                      "allocates,\n"
                      "                       what lives in it, and that all are freed\n"
                    : "");
}

[[noreturn]] inline void usage_error(const std::string& message, bool with_frames) {
    std::fprintf(stderr, "%s: %s\n", program_name, message.c_str());
    print_usage(stderr, with_frames);
    std::exit(2);
}

inline int parse_number(std::string_view text, int lowest, int highest, const std::string& what,
                        bool with_frames) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < lowest ||
        value > highest) {
        usage_error(what + " needs a whole number from " + std::to_string(lowest) + " to " +
                        std::to_string(highest) + ", not '" + std::string(text) + "'",
                    with_frames);
    }
    return value;
}

inline Arguments parse_arguments(int argc, char** argv, bool with_frames) {
    Arguments arguments;
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--help" || flag == "-h") {
            print_usage(stdout, with_frames);
            std::exit(0);
        } else if (flag == "--show-frames" && with_frames) {
            arguments.show_frames = true;
        } else if (flag == "--poll-once-more") {
            arguments.poll_once_more = true;
        } else if (flag != "--address" && flag != "--timeout") {
            usage_error("unknown option '" + std::string(flag) + "'", with_frames);
        } else if (index + 1 >= argc) {
            usage_error(std::string(flag) + " needs a value", with_frames);
        } else if (const std::string_view value = argv[++index]; flag == "--timeout") {
            arguments.timeout_ms = parse_number(value, 1, 3600000, "--timeout", with_frames);
        } else {
            const std::size_t colon = value.rfind(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
                usage_error("--address needs HOST:PORT, not '" + std::string(value) + "'",
                            with_frames);
            }
            delay_server.address = value;
            delay_server.host = value.substr(0, colon);
            if (delay_server.host.size() > 2 && delay_server.host.front() == '[') {
                delay_server.host = delay_server.host.substr(1, delay_server.host.size() - 2);
            }
            delay_server.port = value.substr(colon + 1);
            parse_number(delay_server.port, 1, 65535, "the port in --address", with_frames);
        }
    }
    return arguments;
}
