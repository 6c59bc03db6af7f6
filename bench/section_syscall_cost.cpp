// bench/section_syscall_cost.cpp: section 2 of the page, one system call three ways. Runs
// bench-syscall-cost (syscall_cost.cpp, Google Benchmark) once, with many short repetitions.
//
// Figures (each with a `.median` beside the "median (min–max)" cell): syscalls.raw,
// syscalls.libc, syscalls.stdio; and syscalls.libc_ratio, syscalls.stdio_ratio (against the
// raw call), syscalls.apart (percent), syscalls.wrapper_ns (libc against raw, either way),
// syscalls.stdio_over_libc (percent), syscalls.skipped_because.
// Choices: syscalls.measured, syscalls.libc_slower (libc's median above the raw call's).
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "suite.h"

namespace suite {

Summary SyscallCosts::median_of(const std::string& benchmark) const {
    const auto found = nanoseconds.find(benchmark);
    return found == nanoseconds.end() ? Summary{} : summarize(found->second);
}

// Many short repetitions in random order, as Google Benchmark's guide to random
// interleaving suggests, give a steadier median than a few long ones on a busy machine.
int syscall_repetitions(const Options& options) {
    return 2 * options.thread_runs - 1;
}

SyscallCosts measure_syscall_cost(const Options& options) {
    SyscallCosts costs;
    const std::string program = options.programs + "/bench-syscall-cost";
    if (access(program.c_str(), X_OK) != 0) {
        costs.built = false;
        costs.skipped_because = "bench-syscall-cost was not built (Google Benchmark missing?)";
        return costs;
    }
    // The repetitions of the three benchmarks run in random order (random interleaving),
    // so a burst of other work on the machine does not land on one of them only.
    // CSV on stdout: name,iterations,real_time,cpu_time,time_unit,... one row per
    // repetition, then the aggregates (name_mean, name_median, ...), which we skip: the
    // median, min and max are taken from the repetitions like everywhere else here.
    const Finished finished = run_program(
        {program, "--benchmark_format=csv", "--benchmark_enable_random_interleaving=true",
         "--benchmark_repetitions=" + std::to_string(syscall_repetitions(options)),
         std::string("--benchmark_min_time=") + (options.smoke ? "0.01" : "0.1")},
        std::chrono::seconds(300));
    if (!finished.succeeded()) {
        costs.skipped_because = "bench-syscall-cost: " + finished.how_it_ended();
        return costs;
    }
    std::istringstream lines(finished.output);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> fields;
        std::istringstream columns(line);
        for (std::string field; std::getline(columns, field, ',');) {
            std::erase(field, '"');
            fields.push_back(field);
        }
        if (fields.size() < 5 || fields[0] == "name" || fields[0].find('_') == std::string::npos) {
            continue;
        }
        const std::string& name = fields[0];
        if (name.ends_with("_mean") || name.ends_with("_median") || name.ends_with("_stddev") ||
            name.ends_with("_cv")) {
            continue;
        }
        if (fields[4] != "ns") {
            costs.skipped_because = "unexpected time unit " + fields[4];
            return costs;
        }
        costs.nanoseconds[name].push_back(std::strtod(fields[3].c_str(), nullptr));  // CPU time
    }
    costs.measured = costs.nanoseconds.size() == 3;
    if (!costs.measured) {
        costs.skipped_because = "bench-syscall-cost printed no results";
    }
    return costs;
}

void fill_syscall_cost(const Options&, const Results& results, Figures& figures) {
    const SyscallCosts& syscalls = results.syscalls;
    figures.choices["syscalls.measured"] = syscalls.measured;
    figures.text["syscalls.skipped_because"] = syscalls.skipped_because;
    if (!syscalls.measured) {
        return;
    }
    const Summary raw = syscalls.median_of("raw_syscall_write");
    const Summary libc = syscalls.median_of("libc_write");
    const Summary stdio = syscalls.median_of("fwrite_fflush");
    for (const auto& [name, summary] :
         {std::pair{"syscalls.raw", raw}, std::pair{"syscalls.libc", libc},
          std::pair{"syscalls.stdio", stdio}}) {
        figures.text[name] = cell(summary, 1);
        figures.text[std::string(name) + ".median"] = format("%.1f", summary.median);
    }
    figures.text["syscalls.libc_ratio"] = format("%.2f", libc.median / raw.median);
    figures.text["syscalls.stdio_ratio"] = format("%.2f", stdio.median / raw.median);
    figures.text["syscalls.apart"] = format("%.1f", percent_apart(raw.median, libc.median));
    figures.choices["syscalls.libc_slower"] = libc.median >= raw.median;
    figures.text["syscalls.wrapper_ns"] = format("%.1f", std::fabs(libc.median - raw.median));
    figures.text["syscalls.stdio_over_libc"] =
        format("%.0f", (stdio.median / libc.median - 1) * 100);
}

}  // namespace suite
