// bench/section_run.cpp: the page's first table: the machine, the build and the run.
//
// Figures: run.date, run.cpu, run.cores, run.kernel, run.memory, run.open_file_limit,
// run.thread_limits, run.build, run.libraries, run.load_at_start, run.load_at_end,
// run.took, run.note, runs.threads, runs.syscalls, runs.scale, runs.scale_large,
// runs.models.
// Choices: run.has_libraries, run.has_note, run.load_high_at_end.
//
// Part of bench-suite (see suite.h). Platform: Linux (/proc).
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "suite.h"

namespace suite {

Machine describe_machine() {
    Machine machine;
    const std::string cpuinfo = read_file("/proc/cpuinfo");
    machine.cpu = line_after(cpuinfo, "model name\t: ");
    if (machine.cpu.empty()) {
        machine.cpu = "unknown (no model name in /proc/cpuinfo)";
    }
    machine.cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (machine.cores < 0) {
        fail("sysconf");
    }
    utsname names{};
    if (uname(&names) != 0) {
        fail("uname");
    }
    machine.kernel = std::string(names.sysname) + " " + names.release + " " + names.machine;
    const long memory_kib =
        std::strtol(line_after(read_file("/proc/meminfo"), "MemTotal:").c_str(), nullptr, 10);
    machine.memory = format("%.1f GiB", memory_kib / 1048576.0);
    // Every process the suite starts inherits this limit. bench/run has raised the soft
    // limit to the hard one; raise it here too, for a suite started by hand.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail("getrlimit");
    }
    const rlim_t inherited = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail("setrlimit");
    }
    machine.open_file_limit =
        with_commas(static_cast<long>(limit.rlim_cur)) +
        (inherited == limit.rlim_cur
             ? " (soft limit = hard limit)"
             : " (soft limit raised from " + std::to_string(inherited) + " to the hard limit)");
    machine.thread_limits =
        "threads-max " + with_commas(std::atol(read_file("/proc/sys/kernel/threads-max").c_str())) +
        ", pid_max " + with_commas(std::atol(read_file("/proc/sys/kernel/pid_max").c_str()));
    machine.load_at_start = first_word(read_file("/proc/loadavg"));
    const std::time_t now = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    machine.date = date;
    return machine;
}

void fill_run(const Options& options, const Machine& machine, const std::string& elapsed,
              const std::string& load_at_end, Figures& figures) {
    figures.text["run.date"] = machine.date;
    figures.text["run.cpu"] = machine.cpu;
    figures.text["run.cores"] = std::to_string(machine.cores);
    figures.text["run.kernel"] = machine.kernel;
    figures.text["run.memory"] = machine.memory;
    figures.text["run.open_file_limit"] = machine.open_file_limit;
    figures.text["run.thread_limits"] = machine.thread_limits;
    // Both from bench/CMakeLists.txt: the compiler, and the libraries' versions.
    figures.text["run.build"] = BENCH_BUILD;
    figures.text["run.libraries"] = BENCH_LIBRARIES;
    figures.choices["run.has_libraries"] = !std::string_view(BENCH_LIBRARIES).empty();
    figures.text["run.load_at_start"] = machine.load_at_start;
    figures.text["run.load_at_end"] = load_at_end;
    // The load average counts runnable threads, and this run makes 10,000 of them at once
    // (section 3's thread per request, section 4's threads): a sample taken then lifts the
    // 1-minute average far above anything other work on a small machine would.
    const double start = std::strtod(machine.load_at_start.c_str(), nullptr);
    const double end = std::strtod(load_at_end.c_str(), nullptr);
    figures.choices["run.load_high_at_end"] =
        end > 4.0 * static_cast<double>(machine.cores) && end > 2 * start;
    figures.text["run.took"] = elapsed;
    figures.text["run.note"] = options.note;
    figures.choices["run.has_note"] = !options.note.empty();
    figures.text["runs.threads"] = count_of(options.thread_runs, "run");
    figures.text["runs.syscalls"] = count_of(syscall_repetitions(options), "repetition");
    figures.text["runs.scale"] = count_of(options.runs, "run");
    figures.text["runs.scale_large"] = count_of(options.runs_large, "run");
    figures.text["runs.models"] = count_of(options.thread_runs, "run");
}

}  // namespace suite
