// bench/options.h: a number option as every program here declares it, on CLI11 (through the
// workspace's command_line.hpp): its default shown in the usage, its range checked.
#pragma once

#include <string>

#include "command_line.hpp"

template <typename Number, typename Bound>
CLI::Option* add_number(CLI::App& app, const std::string& name, Number& value,
                        const std::string& help, Bound from, Bound to) {
    return app.add_option(name, value, help)->capture_default_str()->check(CLI::Range(from, to));
}
