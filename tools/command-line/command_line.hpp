// tools/command-line/command_line.hpp: the workspace's command-line convention (CONTRIBUTING.md)
// on CLI11, for the tools, the delay server and bench (the examples parse their own, on the
// standard library alone). Declare the options on a CLI::App, then call
// parse_command_line(app, argc, argv): it returns only when the command line was good.
//
// An option takes one value each time it is given, also when the value looks like an option
// (`--stderr "--requests ..."`, `--server-arg --fault=reset`); a repeatable one is a
// std::vector, given once per value. A program that runs a command takes it as a
// std::vector positional after `--`: everything after the `--` is the command's own,
// `-- prog --help` included.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

inline void parse_command_line(CLI::App& app, int argc, char** argv) {
    // CLI11 lets a std::vector option take values up to the next option, and then swallows a
    // `--` after them: `--stderr REGEX -- prog --help` would read --help as ours. Here each
    // use takes one value, and the uses add up.
    for (CLI::Option* option : app.get_options()) {
        if (option->nonpositional() && option->get_expected_max() > 1) {
            option->expected(1)->take_all()->allow_extra_args(false);
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        std::exit(0);
    } catch (const CLI::ParseError& error) {
        // CLI11 looks for missing required options before unknown ones; an unknown option (a
        // typo, say) explains the other, so it is the one named. Named in the order given, and
        // without the `--` that CLI11 keeps among them (its ExtrasError lists them last first).
        std::vector<std::string> unknown;
        for (const std::string& argument : app.remaining()) {
            if (argument != "--") {
                unknown.insert(unknown.begin(), argument);
            }
        }
        const std::string what = unknown.empty() ? error.what() : CLI::ExtrasError(unknown).what();
        std::cerr << app.get_name() << ": " << what << "\n\n" << app.help();
        std::exit(2);
    }
}
