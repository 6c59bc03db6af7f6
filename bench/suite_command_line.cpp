// bench/suite_command_line.cpp: bench-suite's options and its usage.
//
// The workspace's convention: --help (or -h) prints the usage to standard output and
// exits 0; an unknown option or a bad value prints one line saying what was wrong, then
// the usage, to standard error, and exits 2.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "suite.h"

namespace suite {

namespace {

const char* const usage =
    "usage: bench-suite --programs DIR --delayserver PATH --template FILE.md.in\n"
    "                   --output FILE.md [--chart FILE.svg --chart-script FILE.gp]\n"
    "                   [--note TEXT] [--delay-ms MS] [--sizes N,N,...] [--runs R]\n"
    "                   [--runs-large R] [--thread-runs R] [--smoke]\n"
    "Runs every measurement of bench/ and writes the page from its template.\n"
    "  --programs      the folder holding the bench-* programs (build/bench/bench)\n"
    "  --delayserver   the delay server program (build/bench/delayserver/delayserver)\n"
    "  --template      the page's prose, with places for the figures (bench/benchmarks.md.in)\n"
    "  --output        the page to write (docs/benchmarks.md)\n"
    "  --chart         the scale test's chart to write, drawn by gnuplot from --chart-script\n"
    "  --note          a sentence for the page, e.g. that the machine was busy\n"
    "  --delay-ms      how long every request of the scale test waits in the server (1000)\n"
    "  --sizes         the numbers of requests N of the scale test (5,100,1000,10000)\n"
    "  --runs          runs per N below 10,000 (5); --runs-large at N >= 10,000 (3)\n"
    "  --thread-runs   runs of each thread measurement and each of chapter 2's models (5);\n"
    "                  the system call benchmarks get twice as many short repetitions, less\n"
    "                  one (9)\n"
    "  --smoke         a check that everything runs, in seconds: N = 5 and 50, a 200 ms\n"
    "                  delay, one run each, small counts; exits 1 if anything failed\n"
    "  --help          this text\n";

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "bench-suite: %s\n%s", message.c_str(), usage);
    std::exit(2);
}

int parse_number(std::string_view text, std::string_view what, int lowest, int highest) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        value < lowest || value > highest) {
        usage_error(std::string(what) + " needs a whole number from " + std::to_string(lowest) +
                    " to " + std::to_string(highest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options options;
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--help" || flag == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        }
        if (flag == "--smoke") {
            options.smoke = true;
            options.sizes = {5, 50};
            options.delay_ms = 200;
            options.runs = options.runs_large = options.thread_runs = 1;
            continue;
        }
        std::string* const text_option = flag == "--programs"       ? &options.programs
                                         : flag == "--delayserver"  ? &options.delayserver
                                         : flag == "--template"     ? &options.template_path
                                         : flag == "--output"       ? &options.output
                                         : flag == "--chart"        ? &options.chart
                                         : flag == "--chart-script" ? &options.chart_script
                                         : flag == "--note"         ? &options.note
                                                                    : nullptr;
        int* const number_option = flag == "--delay-ms"      ? &options.delay_ms
                                   : flag == "--runs"        ? &options.runs
                                   : flag == "--runs-large"  ? &options.runs_large
                                   : flag == "--thread-runs" ? &options.thread_runs
                                                             : nullptr;
        if (text_option == nullptr && number_option == nullptr && flag != "--sizes") {
            usage_error("unknown option '" + std::string(flag) + "'");
        }
        if (index + 1 >= argc) {
            usage_error(std::string(flag) + " needs a value");
        }
        const std::string value = argv[++index];
        if (text_option != nullptr) {
            *text_option = value;
        } else if (number_option != nullptr) {
            const int highest = flag == "--delay-ms" ? 60000 : 100;
            *number_option = parse_number(value, flag, 1, highest);
        } else {
            options.sizes.clear();
            std::istringstream list(value);
            for (std::string size; std::getline(list, size, ',');) {
                options.sizes.push_back(parse_number(size, "--sizes", 1, 100000));
            }
            if (options.sizes.empty()) {
                usage_error("--sizes needs at least one N");
            }
        }
    }
    if (options.programs.empty() || options.delayserver.empty() || options.template_path.empty() ||
        options.output.empty()) {
        usage_error("--programs, --delayserver, --template and --output are required");
    }
    if (options.chart.empty() != options.chart_script.empty()) {
        usage_error("--chart and --chart-script go together");
    }
    std::sort(options.sizes.begin(), options.sizes.end());
    return options;
}

}  // namespace suite
