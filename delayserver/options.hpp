// delayserver/options.hpp: the delay server's command line.
//
// What it holds: the settings main.cpp runs with, read from the options, and the help
// text. The workspace's convention: --help (or -h) prints the help to standard output and
// exits 0; an unknown option or a bad value prints one line saying what was wrong, then
// the usage, to standard error, and exits 2.
//
// Usage: #include "options.hpp"; link options.cpp and faults.cpp. Portable C++20.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "faults.hpp"

namespace delayserver {

struct Settings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::chrono::milliseconds max_delay{60000};
    std::chrono::milliseconds idle_timeout{10000};
    Fault fault = Fault::none;
};

// Reads the options; exits (0 after --help, 2 after a bad option) when there is nothing
// to run.
Settings parse_settings(int argc, char** argv);

}  // namespace delayserver
