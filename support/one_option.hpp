// support/one_option.hpp: the command line of a program that takes no arguments, or at most
// one of a few options: the workspace's convention for every program, --help answered and
// anything else refused. A first reading may skip this file: the program's main.cpp holds
// its own usage text.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

// --help (or -h) prints the usage and exits 0. Otherwise the program may be given one of
// `options`: returns its place in the list, counted from 1, or 0 when none was given. Any
// other argument, or a second one, is refused: exit code 2, with the program's name first
// and the usage after.
inline int parse_one_option(int argc, char** argv, const char* program, const char* usage,
                            std::initializer_list<std::string_view> options) {
    int chosen = 0;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        }
        const auto found = std::find(options.begin(), options.end(), argument);
        if (found == options.end() || chosen != 0) {
            std::fprintf(stderr,
                         options.size() == 0 ? "%s: takes no arguments, not '%s'\n%s"
                                             : "%s: unknown option, or more than one: '%s'\n%s",
                         program, argv[index], usage);
            std::exit(2);
        }
        chosen = static_cast<int>(found - options.begin()) + 1;
    }
    return chosen;
}

// A program that takes no arguments: --help answered, anything else refused.
inline void refuse_arguments(int argc, char** argv, const char* program, const char* usage) {
    parse_one_option(argc, argv, program, usage, {});
}
