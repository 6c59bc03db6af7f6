// tools/command-line/command_line.hpp: the workspace's command-line convention on CLI11,
// for the tools, the delay server and bench (the examples parse their own, on the standard
// library alone).
//
//   --help, -h        the usage on standard output, exit 0
//   a bad option or   what was wrong, then the usage, on standard error, exit 2
//   a bad value
//
// Declare the options on a CLI::App, then call parse_command_line(app, argc, argv): it
// returns only when the command line was good.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

inline void parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        std::exit(0);
    } catch (const CLI::ParseError& error) {
        std::cerr << app.get_name() << ": " << error.what() << "\n\n" << app.help();
        std::exit(2);
    }
}
