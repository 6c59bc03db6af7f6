// ch02-fibers/arguments.h: the command line of ch02-fibers: --help, the options, the usage
// error.
//
// Not part of the lesson: main.cpp asks parse_mode which of its three things to do. As in
// every program of the workspace, --help (or -h) prints the usage to standard output and
// exits 0; anything else unknown prints what was wrong and the usage to standard error and
// exits 2.
#pragma once

#include <cstdlib>
#include <iostream>
#include <string_view>

constexpr std::string_view usage_text =
    "usage: ch02-fibers [--show-threads | --overflow]\n"
    "Prints five lines from three fibers on one OS thread.\n"
    "  --show-threads  also print how many threads the process had when main started\n"
    "                  and after the fibers ran\n"
    "  --overflow      instead, run one fiber that overflows its stack: it dies on the\n"
    "                  guard page below the stack (SIGSEGV; SIGBUS on macOS; on Windows\n"
    "                  an access violation)\n"
    "  --help          this text\n";

// What main runs: the five lines; the five lines and the thread counts; or, instead, the
// fiber that overflows its stack.
enum class Mode { five_lines, show_threads, overflow };

inline Mode parse_mode(int argc, char** argv) {
    Mode mode = Mode::five_lines;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::cout << usage_text;
            std::exit(0);
        } else if (argument == "--show-threads" && mode == Mode::five_lines) {
            mode = Mode::show_threads;
        } else if (argument == "--overflow" && mode == Mode::five_lines) {
            mode = Mode::overflow;
        } else {
            std::cerr << "ch02-fibers: unknown option, or more than one: '" << argument << "'\n"
                      << usage_text;
            std::exit(2);
        }
    }
    return mode;
}
