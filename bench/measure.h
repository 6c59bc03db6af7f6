// bench/measure.h: what the programs that print the page's rows share: reporting a failed
// OS call, reading /proc, running one measurement as its own process, and turning its runs
// into a table cell. The scale clients use the first two (through scale_client.h).
//
// Every measurement runs in a process of its own, so nothing one leaves behind (memory,
// threads, sockets in TIME_WAIT) is counted in the next. A program prints one line
// `result name=value ...` per measurement; the program that runs it R times reads that
// line, takes the CPU time from the kernel's accounting of the whole process (wait4's
// struct rusage), and prints markdown rows whose cells are "median (min–max)".
//
// Platform: Linux (posix_spawn, wait4, /proc).
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace measure {

// The program's name for messages; each program sets it first thing in main.
inline const char* program_name = "bench";

// OS calls set errno; pthread and posix_spawn calls return the error number instead: both
// end up here, with the OS's own message.
[[noreturn]] inline void fail(std::string_view call, int error_number = errno) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 std::strerror(error_number));
    std::exit(1);
}

// A pthread or posix_spawn call's error number: 0 goes on, anything else ends the program.
inline void check_error_number(std::string_view call, int error_number) {
    if (error_number != 0) {
        fail(call, error_number);
    }
}

// One field of a /proc file in KiB ("VmHWM:     1234 kB"), by default of /proc/self/status:
// VmRSS (resident now), VmHWM (the peak so far), VmSize (the address space).
inline long proc_kib(std::string_view field, const char* path = "/proc/self/status") {
    std::ifstream file(path);
    if (!file) {
        fail(std::string("open ") + path);
    }
    for (std::string line; std::getline(file, line);) {
        if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
        }
    }
    std::fprintf(stderr, "%s: no %.*s in %s\n", program_name, static_cast<int>(field.size()),
                 field.data(), path);
    std::exit(1);
}

inline std::string read_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        fail("open " + path);
    }
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// Starts a program with its standard output (and error) going to files. A file, not a
// pipe: a pipe nobody reads fills up (the delay server logs a line per request).
inline pid_t start(const std::vector<std::string>& arguments, const std::string& stdout_path,
                   const std::string& stderr_path) {
    posix_spawn_file_actions_t actions;
    check_error_number("posix_spawn_file_actions_init", posix_spawn_file_actions_init(&actions));
    for (const auto& [descriptor, path] :
         {std::pair{STDOUT_FILENO, &stdout_path}, std::pair{STDERR_FILENO, &stderr_path}}) {
        check_error_number("posix_spawn_file_actions_addopen",
                           posix_spawn_file_actions_addopen(&actions, descriptor, path->c_str(),
                                                            O_WRONLY | O_CREAT | O_TRUNC, 0644));
    }
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t child = 0;
    const int error = posix_spawn(&child, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);  // Cannot fail once init succeeded.
    check_error_number("posix_spawn " + arguments[0], error);
    return child;
}

// A process that has ended: how, what it printed, and the CPU time it used.
struct Finished {
    int status = 0;
    double cpu_ms = 0;  // user + system time, from wait4
    std::string output;
    std::string errors;

    bool succeeded() const {
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    std::string how_it_ended() const {
        if (WIFSIGNALED(status)) {
            return std::string("killed by signal ") + strsignal(WTERMSIG(status));
        }
        const std::string first_error = errors.substr(0, errors.find('\n'));
        return "exit status " + std::to_string(WEXITSTATUS(status)) +
               (first_error.empty() ? "" : ": " + first_error);
    }
};

inline double milliseconds(const timeval& time) {
    return static_cast<double>(time.tv_sec) * 1000.0 + static_cast<double>(time.tv_usec) / 1000.0;
}

inline Finished wait_for(pid_t child) {
    Finished finished;
    rusage usage{};
    while (wait4(child, &finished.status, 0, &usage) < 0) {
        if (errno != EINTR) {
            fail("wait4");
        }
    }
    finished.cpu_ms = milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
    return finished;
}

// Runs a program to its end; `folder` holds its output files.
inline Finished run(const std::vector<std::string>& arguments, const std::string& folder) {
    const std::string out = folder + "/stdout.txt";
    const std::string err = folder + "/stderr.txt";
    Finished finished = wait_for(start(arguments, out, err));
    finished.output = read_file(out);
    finished.errors = read_file(err);
    return finished;
}

// A value of the `result name=value ...` line; NaN if there is none.
inline double result(const std::string& output, const std::string& name) {
    const std::size_t line = output.rfind("result ");
    const std::size_t at = output.find(" " + name + "=", line);
    if (line == std::string::npos || at == std::string::npos) {
        return std::nan("");
    }
    return std::strtod(output.c_str() + at + name.size() + 2, nullptr);
}

inline double nanoseconds(std::chrono::steady_clock::duration duration) {
    return std::chrono::duration<double, std::nano>(duration).count();
}

// A fresh folder under /tmp for the programs' output files.
inline std::string work_folder() {
    char folder[] = "/tmp/bench-XXXXXX";
    if (mkdtemp(folder) == nullptr) {
        fail("mkdtemp");
    }
    return folder;
}

// Removes that folder and what was written into it (best effort: a scratch folder in /tmp).
inline void remove_work_folder(const std::string& folder) {
    std::error_code ignored;
    std::filesystem::remove_all(folder, ignored);
}

// The median, smallest and largest of the runs (NaN runs, which failed, left out).
struct Summary {
    double median = std::nan("");
    double min = std::nan("");
    double max = std::nan("");
    int count = 0;
};

inline Summary summarize(std::vector<double> values) {
    std::erase_if(values, [](double value) { return std::isnan(value); });
    if (values.empty()) {
        return Summary{};
    }
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    return Summary{.median = values.size() % 2 == 1 ? values[middle]
                                                    : (values[middle - 1] + values[middle]) / 2,
                   .min = values.front(),
                   .max = values.back(),
                   .count = static_cast<int>(values.size())};
}

// The runs of a program's `rows`: this program again (/proc/self/exe) with each of the
// argument lists, in `rounds` rounds where they take turns (a burst of other work on the
// machine spreads over all of them), each run its own process. Returns what each argument
// list's runs printed, in order; a run that failed is named on standard error, and
// `all_succeeded` is then false.
inline std::vector<std::vector<std::string>> run_rounds(
    const std::vector<std::vector<std::string>>& argument_lists, int rounds, bool& all_succeeded) {
    const std::string folder = work_folder();
    std::vector<std::vector<std::string>> outputs(argument_lists.size());
    all_succeeded = true;
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t which = 0; which < argument_lists.size(); ++which) {
            std::vector<std::string> arguments = {"/proc/self/exe"};
            arguments.insert(arguments.end(), argument_lists[which].begin(),
                             argument_lists[which].end());
            const Finished finished = run(arguments, folder);
            if (!finished.succeeded()) {
                std::fprintf(stderr, "%s %s: %s\n", program_name, arguments[1].c_str(),
                             finished.how_it_ended().c_str());
                all_succeeded = false;
            }
            outputs[which].push_back(finished.output);
        }
    }
    remove_work_folder(folder);
    return outputs;
}

// printf's formatting, into a string (of the page's rows).
inline std::string format(const char* pattern, auto... values) {
    char text[2048];
    std::snprintf(text, sizeof text, pattern, values...);
    return text;
}

// "1.02 (1.01–1.04)": the median, then the smallest and largest run.
inline std::string cell(const Summary& summary, int decimals, double scale = 1) {
    if (summary.count == 0) {
        return "-";
    }
    if (summary.count == 1) {
        return format("%.*f", decimals, summary.median * scale);
    }
    return format("%.*f (%.*f–%.*f)", decimals, summary.median * scale, decimals,
                  summary.min * scale, decimals, summary.max * scale);
}

// The cell of one value of the runs' `result` lines (what run_rounds returned for one
// argument list).
inline std::string cell(const std::vector<std::string>& outputs, const std::string& name,
                        int decimals, double scale = 1) {
    std::vector<double> values;
    for (const std::string& output : outputs) {
        values.push_back(result(output, name));
    }
    return cell(summarize(values), decimals, scale);
}

// 10000 -> "10,000": the sizes are read by people.
inline std::string with_commas(long value) {
    const std::string digits = std::to_string(value);
    std::string text;
    for (std::size_t at = 0; at < digits.size(); ++at) {
        if (at > 0 && (digits.size() - at) % 3 == 0) {
            text += ',';
        }
        text += digits[at];
    }
    return text;
}

// "a; b; c": the parts of a table cell.
inline std::string join(const std::vector<std::string>& parts) {
    std::string text;
    for (const std::string& part : parts) {
        text += (text.empty() ? "" : "; ") + part;
    }
    return text;
}

// How far a value is from a reference, in percent of the reference.
inline double percent_apart(double value, double reference) {
    return std::fabs(value - reference) / reference * 100;
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path);
    file << text;
    if (!file.flush()) {
        fail("write " + path);
    }
}

}  // namespace measure
