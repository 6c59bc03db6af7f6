// support/no_arguments.hpp: the command line of a program that takes no arguments, the
// workspace's convention for every program: --help answered, anything else refused. A
// first reading may skip this file: the program's main.cpp holds its own usage text.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

// --help (or -h) prints the usage and exits 0; any other argument is refused, exit code 2,
// with the program's name first and the usage after.
inline void refuse_arguments(int argc, char** argv, const char* program, const char* usage) {
    if (argc < 2) {
        return;
    }
    const std::string_view argument = argv[1];
    if (argument == "--help" || argument == "-h") {
        std::fputs(usage, stdout);
        std::exit(0);
    }
    std::fprintf(stderr, "%s: takes no arguments, not '%s'\n%s", program, argv[1], usage);
    std::exit(2);
}
