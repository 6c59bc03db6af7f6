// bench/syscall_cost.cpp: one write(2) of one byte to /dev/null, three ways, per call.
//
// Chapter 3 reaches the OS three ways; this measures what one call costs each way:
//   raw_syscall_write   ch03-raw-syscalls' raw_write: the `syscall` (x86-64) or `svc #0`
//                       (ARM64) instruction in inline assembly. The build compiles that
//                       example's own raw_write_linux_<cpu>.cpp into this program, so this
//                       is the book's code, not a copy.
//   libc_write          libc's write, through ch03-ffi's hand-written declaration
//                       (foreign_unix.h, included as it is): a call into the shared library,
//                       which makes the same system call.
//   fwrite_fflush       std::fwrite of the byte into stdio's buffer, then std::fflush, which
//                       hands the buffer to write(2): the C library's buffered path, forced
//                       to make one system call per byte.
// /dev/null accepts every byte and does nothing with it, so what is left is the cost of
// getting into the kernel and back. Google Benchmark picks the number of calls and reports
// the time per call.
//
// Platform: Linux x86-64 and ARM64 (the raw variants that exist for Linux).
//
// What to watch for: raw_syscall_write and libc_write within a few percent of each other
// (libc wraps the same instruction in a function call, with its errno convention and its
// thread-cancellation check); fwrite_fflush above both (stdio's bookkeeping, then the
// same write).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "command_line.hpp"
#include "foreign_unix.h"  // ch03-ffi: `long write(int, const void*, unsigned long)`, by hand
#include "measure.h"
#include "raw_write.h"  // ch03-raw-syscalls: `long raw_write(int, const char*, unsigned long)`

namespace {

const char byte = 'x';

int open_dev_null() {
    const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        measure::fail("open /dev/null");
    }
    return fd;
}

void close_or_fail(int fd) {
    if (close(fd) != 0) {
        measure::fail("close");
    }
}

void raw_syscall_write(benchmark::State& state) {
    const int fd = open_dev_null();
    for (auto _ : state) {
        const long result = raw_write(fd, &byte, 1);
        if (result != 1) {  // The kernel's error comes back as -errno in the result.
            state.SkipWithError(std::strerror(static_cast<int>(-result)));
            break;
        }
    }
    close_or_fail(fd);
}
BENCHMARK(raw_syscall_write);

void libc_write(benchmark::State& state) {
    const int fd = open_dev_null();
    for (auto _ : state) {
        if (write(fd, &byte, 1) != 1) {  // -1, with the reason in errno
            state.SkipWithError(std::strerror(errno));
            break;
        }
    }
    close_or_fail(fd);
}
BENCHMARK(libc_write);

void fwrite_fflush(benchmark::State& state) {
    std::FILE* file = std::fopen("/dev/null", "w");
    if (file == nullptr) {
        measure::fail("fopen /dev/null");
    }
    for (auto _ : state) {
        if (std::fwrite(&byte, 1, 1, file) != 1 || std::fflush(file) != 0) {
            state.SkipWithError(std::strerror(errno));
            break;
        }
    }
    if (std::fclose(file) != 0) {
        measure::fail("fclose");
    }
}
BENCHMARK(fwrite_fflush);

// --parts DIR: the page's rows, from every repetition's CPU time per call (Google Benchmark's
// console output is shown as well). The repetitions of the three run in random order
// (--benchmark_enable_random_interleaving, which bench/run gives), so a burst of other work
// on the machine does not land on one of them only.
class RowsReporter : public benchmark::ConsoleReporter {
  public:
    RowsReporter() : ConsoleReporter(OO_Tabular) {}  // no colours: the output is often a file
    std::map<std::string, std::vector<double>> nanoseconds;  // benchmark -> per repetition

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
                nanoseconds[run.run_name.function_name].push_back(
                    run.GetAdjustedCPUTime() * 1e9 /
                    benchmark::GetTimeUnitMultiplier(run.time_unit));
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

// syscall-rows.md: section 2's table; syscall-target.md: the row of the targets table.
void write_rows(RowsReporter& reporter, const std::string& parts) {
    const measure::Summary raw = measure::summarize(reporter.nanoseconds["raw_syscall_write"]);
    const measure::Summary libc = measure::summarize(reporter.nanoseconds["libc_write"]);
    const measure::Summary stdio = measure::summarize(reporter.nanoseconds["fwrite_fflush"]);
    measure::write_file(
        parts + "/syscall-rows.md",
        measure::format(
            "| raw `syscall` instruction (ch03-raw-syscalls' `raw_write`) | %s | 1.00x |\n"
            "| libc `write`, declared by hand (ch03-ffi's `foreign_unix.h`) | %s | %.2fx |\n"
            "| `std::fwrite` + `std::fflush` | %s | %.2fx |\n",
            measure::cell(raw, 1).c_str(), measure::cell(libc, 1).c_str(), libc.median / raw.median,
            measure::cell(stdio, 1).c_str(), stdio.median / raw.median));
    const double apart = measure::percent_apart(raw.median, libc.median);
    const double wrapper = std::fabs(libc.median - raw.median);
    std::string outcome = "met";
    if (apart > 10 && libc.median >= raw.median) {
        outcome = measure::format("missed: libc's wrapper added %.1f ns to each call", wrapper);
    } else if (apart > 10) {
        outcome = measure::format(
            "missed: libc's `write` came out %.1f ns faster, although it runs the same "
            "instruction inside a wrapper; the difference comes from the measurement (other work "
            "on the machine, where the code sits in memory), not from work libc saves",
            wrapper);
    }
    measure::write_file(
        parts + "/syscall-target.md",
        measure::format("| Raw system call and libc `write` within 10%% of each "
                        "other per call | %.1f ns vs %.1f ns (%.1f%% apart) | %s |\n",
                        raw.median, libc.median, apart, outcome.c_str()));
}

}  // namespace

// Google Benchmark's own main (BENCHMARK_MAIN) answers an unknown option with exit 1 and
// knows no -h. This one follows the workspace's convention: --help (or -h) prints the
// usage and Google Benchmark's options to standard output and exits 0; an option that
// Google Benchmark did not take (unknown, or a bad value) is named on standard error with
// the usage, and the exit status is 2.
int main(int argc, char** argv) {
    measure::program_name = "bench-syscall-cost";
    CLI::App app{
        "One write(2) of one byte to /dev/null, three ways, timed by Google Benchmark "
        "(bench-syscall-cost --help lists its options too).",
        "bench-syscall-cost"};
    std::string parts;
    app.add_option("--parts", parts,
                   "also write the page's rows into this folder (syscall-rows.md, "
                   "syscall-target.md)")
        ->type_name("DIR");
    for (int index = 1; index < argc; ++index) {
        if (std::string_view(argv[index]) == "--help" || std::string_view(argv[index]) == "-h") {
            std::cout << app.help() << std::flush;
            benchmark::PrintDefaultHelp();  // Google Benchmark's options
            return 0;
        }
    }
    benchmark::Initialize(&argc, argv);   // Removes the options it took.
    parse_command_line(app, argc, argv);  // What Google Benchmark left: ours, or a bad one.
    RowsReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    if (!parts.empty()) {
        write_rows(reporter, parts);
    }
    return 0;
}
