// bench/suite.h: what the parts of bench-suite share. Read this first: it is the suite's
// table of contents.
//
// bench-suite measures, then writes docs/benchmarks.md from the template
// bench/benchmarks.md.in. The work is split by what each file holds:
//   suite.cpp                 main: the order of the steps
//   suite_command_line.cpp    the options and the usage
//   text_and_numbers.cpp      errors, files, "10,000", medians and table cells
//   run_program.cpp           starting a measuring program, with a time limit, and reading
//                             its `result name=value ...` line; the delay server of a run
//   section_run.cpp           the machine and the run (the page's first table)
//   section_thread_costs.cpp  1. what an OS thread costs (runs bench-thread-costs)
//   section_syscall_cost.cpp  2. one system call three ways (runs bench-syscall-cost)
//   section_scale.cpp         3. N waiting requests, one client per way (scale_ways.h)
//   section_concurrency_models.cpp
//                             4. chapter 2's four models, 10,000 sleeping tasks each (runs
//                             bench-concurrency-models)
//   section_targets.cpp       the targets: met or missed, from the three sections' results
//   chart.cpp                 the scale test's chart, drawn by gnuplot
//   report_template.cpp       fills the template: {{name}} and {{if name}}...{{end}}
// Each section file has a `measure_...` function that runs programs and returns what they
// measured, and a `fill_...` function that turns the results into the template's figures
// (numbers, as text) and choices (true or false: which sentences the page says).
//
// Platform: Linux (pidfd, /proc).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace suite {

using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------------
// Errors, text and numbers (text_and_numbers.cpp)
// ----------------------------------------------------------------------------------------

// An OS call that failed: its name and the OS's message, then exit 1.
[[noreturn]] void fail(const std::string& call, int error_number = errno);

// printf into a std::string (GCC 12 has no std::format yet).
template <typename... Values>
std::string format(const char* pattern, Values... values) {
    const int size = std::snprintf(nullptr, 0, pattern, values...);
    std::string text(static_cast<std::size_t>(std::max(size, 0)), '\0');
    std::snprintf(text.data(), text.size() + 1, pattern, values...);
    return text;
}

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
// The first line of `text` that starts with `prefix`, without the prefix; "" if none.
std::string line_after(const std::string& text, std::string_view prefix);
std::string first_word(const std::string& text);
// 10000 -> "10,000": the sizes are read by people.
std::string with_commas(long value);
// "a; b; c"
std::string join(const std::vector<std::string>& parts, const std::string& separator = "; ");
// "5 runs", "1 run".
std::string count_of(int count, const char* noun);
// How far `value` is from `reference`, either way, in percent.
double percent_apart(double value, double reference);

// The median, min and max over the runs.
struct Summary {
    double median = std::nan("");
    double min = std::nan("");
    double max = std::nan("");
    int count = 0;
};
Summary summarize(std::vector<double> values);
// "1.02 (1.01–1.04)": the median, then the smallest and largest run, with `decimals`.
std::string cell(const Summary& summary, int decimals);

// ----------------------------------------------------------------------------------------
// The command line (suite_command_line.cpp)
// ----------------------------------------------------------------------------------------

struct Options {
    std::string programs;       // the folder holding the bench-* programs
    std::string delayserver;    // the delay server program
    std::string template_path;  // bench/benchmarks.md.in
    std::string output;         // docs/benchmarks.md
    std::string chart;          // docs/benchmarks-scale.svg, or "" for none
    std::string chart_script;   // bench/scale-chart.gp
    std::string note;           // a sentence for the page
    int delay_ms = 1000;        // every request of the scale test waits this long
    std::vector<int> sizes = {5, 100, 1000, 10000};
    int runs = 5;
    int runs_large = 3;  // at N >= 10,000
    int thread_runs = 5;
    bool smoke = false;
};

Options parse_options(int argc, char** argv);

// ----------------------------------------------------------------------------------------
// Running one program (run_program.cpp)
// ----------------------------------------------------------------------------------------

// Where the programs' output goes (a fresh folder under /tmp), and the delay server that
// is running, to be stopped if the suite ends early.
extern std::string work_folder;
extern pid_t running_server;

struct Finished {
    int status = 0;  // from wait4
    bool timed_out = false;
    rusage usage{};
    std::string output;  // what it wrote to stdout
    std::string errors;  // and to stderr

    bool succeeded() const;
    double cpu_ms() const;
    std::string how_it_ended() const;
};

// Runs a program to its end, or kills it after `limit`.
Finished run_program(const std::vector<std::string>& arguments, std::chrono::seconds limit);

// The `result name=value ...` line the bench programs end with.
std::map<std::string, std::string> parse_result(const std::string& output);
double number(const std::map<std::string, std::string>& values, const std::string& name);

// A delay server on a free port, for one run of one client.
class DelayServer {
  public:
    explicit DelayServer(const std::string& program);
    DelayServer(const DelayServer&) = delete;
    DelayServer& operator=(const DelayServer&) = delete;
    ~DelayServer();
    // Stops it (SIGTERM) and returns the CPU time it used, in ms.
    double stop();
    const std::string& address() const {
        return address_;
    }

  private:
    pid_t pid_ = 0;
    std::string address_;
};

// ----------------------------------------------------------------------------------------
// What the template is filled with (report_template.cpp)
// ----------------------------------------------------------------------------------------

struct Figures {
    std::map<std::string, std::string> text;  // {{name}}: a number or a list, as text
    std::map<std::string, bool> choices;      // {{if name}}...{{else}}...{{end}}
};

// Fills the template (see bench/benchmarks.md.in for its three rules). A name the
// template uses that the suite did not set, or an {{if}} without {{end}}, ends the suite
// with the template's file name and line.
std::string fill_template(const std::string& template_text, const std::string& template_name,
                          const Figures& figures);

// ----------------------------------------------------------------------------------------
// The sections: measure, then fill
// ----------------------------------------------------------------------------------------

// The machine and the run: section_run.cpp.
struct Machine {
    std::string cpu;
    long cores = 0;
    std::string kernel;
    std::string memory;
    std::string open_file_limit;
    std::string thread_limits;
    std::string load_at_start;
    std::string date;
};
Machine describe_machine();
void fill_run(const Options& options, const Machine& machine, const std::string& elapsed,
              const std::string& load_at_end, Figures& figures);

// 1. Thread costs: section_thread_costs.cpp.
struct ThreadCosts {
    std::map<std::string, std::vector<double>> values;  // measurement -> one value per run
    std::string default_stack_kib;
    std::string small_stack_kib;
    int idle_threads = 0;
    std::vector<std::string> problems;
    Summary value(const std::string& name) const;
};
ThreadCosts measure_thread_costs(const Options& options);

// 2. System call cost: section_syscall_cost.cpp.
struct SyscallCosts {
    bool measured = false;
    bool built = true;  // false: skipped because the program is not there
    std::string skipped_because;
    std::map<std::string, std::vector<double>> nanoseconds;  // benchmark -> one per repetition
    Summary median_of(const std::string& benchmark) const;
};
int syscall_repetitions(const Options& options);
SyscallCosts measure_syscall_cost(const Options& options);

// 3. The scale test: section_scale.cpp; its ways are listed in scale_ways.h.
struct Way {
    std::string key;          // in the progress lines and the template's names
    std::string program;      // in --programs
    std::string label;        // in the page's tables and the chart
    std::string description;  // in "How the numbers are made": the source, and how it waits
};

struct ScaleRun {
    double wall_ratio = std::nan("");  // wall time / delay
    double sent_ms = std::nan("");
    double slowest_ms = std::nan("");
    double peak_mib = std::nan("");
    double cpu_ms = std::nan("");
    double server_cpu_ms = std::nan("");
    long failed = 0;
    std::string failure_reasons;  // as the client listed them, "" if none
};

struct ScaleResults {
    bool measured = false;
    std::string skipped_because;
    std::vector<Way> ways;                                              // those that were built
    std::map<std::pair<std::string, int>, std::vector<ScaleRun>> runs;  // (way, N) -> runs
    std::vector<std::string> skipped_ways;

    Summary summary(const std::string& way, int size, double ScaleRun::*field) const;
    double median(const std::string& way, int size, double ScaleRun::*field) const {
        return summary(way, size, field).median;
    }
    long failed(const std::string& way, int size) const;
    bool has(const std::string& way, int size) const {
        return runs.contains({way, size});
    }
    bool all_requests_succeeded() const;
};
ScaleResults measure_scale(const Options& options);

// 4. Chapter 2's models: section_concurrency_models.cpp.
struct ModelCosts {
    bool built = true;  // false: skipped because the program is not there
    std::string skipped_because;
    int tasks = 0;
    int sleep_ms = 0;
    // (model, result name) -> one value per run: create_ns, peak_kib, bytes_per_task,
    // switch_ns.
    std::map<std::pair<std::string, std::string>, std::vector<double>> values;
    std::vector<std::string> problems;
    Summary value(const std::string& model, const std::string& name) const;
};
ModelCosts measure_concurrency_models(const Options& options);

// Everything measured, for the fill functions that compare one section with another.
struct Results {
    Machine machine;
    ThreadCosts threads;
    SyscallCosts syscalls;
    ScaleResults scale;
    ModelCosts models;
};

void fill_thread_costs(const Options& options, const Results& results, Figures& figures);
void fill_syscall_cost(const Options& options, const Results& results, Figures& figures);
void fill_scale(const Options& options, const Results& results, Figures& figures);
void fill_concurrency_models(const Options& options, const Results& results, Figures& figures);
void fill_targets(const Options& options, const Results& results, Figures& figures);

// The chart: chart.cpp. Runs gnuplot; returns "" or what went wrong.
std::string draw_chart(const Options& options, const ScaleResults& scale);

}  // namespace suite
