// ch09-coroutine-frames/arguments.h: the command line of ch09-coroutine-frames: --help, the
// two options, the usage error.
//
// Not part of the lesson: main.cpp asks parse_mode which of its three things to do. As in
// every program of the workspace, --help (or -h) prints the usage to standard output and
// exits 0; anything else unknown prints what was wrong and the usage to standard error and
// exits 2.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

constexpr char usage_text[] =
    "usage: ch09-coroutine-frames [--move-unpinned | --dangling]\n"
    "Shows where a coroutine keeps its locals, why moving its owner moves nothing else,\n"
    "and what breaks when a state machine that points into itself moves.\n"
    "  (no option)       the three steps, with the fixes: every address checked\n"
    "  --move-unpinned   step 2 unfixed: the moved state machine writes through a pointer\n"
    "                    into a place that has ended\n"
    "  --dangling        step 3 unfixed: a coroutine reads a reference parameter whose\n"
    "                    argument has ended\n"
    "  --help            this text\n"
    "The two options are undefined behaviour, for an AddressSanitizer build (the asan\n"
    "preset), which stops at the bad access and names it.\n";

// What main runs: the three steps, or one of the two undefined behaviours.
enum class Mode { three_steps, move_unpinned, dangling };

inline Mode parse_mode(int argc, char** argv) {
    Mode mode = Mode::three_steps;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        } else if (argument == "--move-unpinned" && mode == Mode::three_steps) {
            mode = Mode::move_unpinned;
        } else if (argument == "--dangling" && mode == Mode::three_steps) {
            mode = Mode::dangling;
        } else {
            std::fprintf(stderr,
                         "ch09-coroutine-frames: unknown option, or more than one: '%s'\n%s",
                         argv[index], usage_text);
            std::exit(2);
        }
    }
    return mode;
}
