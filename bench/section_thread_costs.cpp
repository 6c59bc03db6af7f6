// bench/section_thread_costs.cpp: section 1 of the page, what an OS thread costs. Runs
// bench-thread-costs (thread_costs.cpp) for each measurement, --thread-runs times.
//
// Figures (each with a `.median` beside the "median (min–max)" cell): threads.spawn_us,
// threads.rss_default, threads.virtual_default, threads.rss_small, threads.virtual_small,
// threads.kernel_stack, threads.switch_pipe, threads.switch_futex; and threads.parked,
// threads.default_stack_kib, threads.small_stack_kib, threads.problems,
// threads.syscall_ns, threads.spawn_in_syscalls, threads.switch_in_syscalls.
// Choices: threads.measured, threads.has_problems.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include <cstdlib>

#include "suite.h"

namespace suite {

Summary ThreadCosts::value(const std::string& name) const {
    const auto found = values.find(name);
    return found == values.end() ? Summary{} : summarize(found->second);
}

ThreadCosts measure_thread_costs(const Options& options) {
    ThreadCosts costs;
    const std::string program = options.programs + "/bench-thread-costs";
    const std::string spawn_count = options.smoke ? "200" : "2000";
    const std::string idle_threads = options.smoke ? "100" : "1000";
    const std::string round_trips = options.smoke ? "2000" : "50000";
    costs.idle_threads = std::atoi(idle_threads.c_str());
    struct Step {
        std::vector<std::string> arguments;
        std::vector<std::pair<std::string, std::string>> keep;  // result name -> our name
    };
    const std::vector<Step> steps = {
        {{"spawn", "--count", spawn_count}, {{"spawn_join_ns", "spawn"}}},
        {{"idle", "--threads", idle_threads},
         {{"rss_kib", "idle default rss"},
          {"virtual_kib", "idle default virtual"},
          {"kernel_stack_kib", "idle default kernel"},
          {"stack_kib", "default stack"}}},
        {{"idle", "--threads", idle_threads, "--stack-kib", "64"},
         {{"rss_kib", "idle small rss"},
          {"virtual_kib", "idle small virtual"},
          {"kernel_stack_kib", "idle small kernel"},
          {"stack_kib", "small stack"}}},
        {{"switch", "pipe", "--round-trips", round_trips}, {{"switch_ns", "switch pipe"}}},
        {{"switch", "futex", "--round-trips", round_trips}, {{"switch_ns", "switch futex"}}},
    };
    for (int run = 1; run <= options.thread_runs; ++run) {
        for (const Step& step : steps) {
            std::vector<std::string> arguments = {program};
            arguments.insert(arguments.end(), step.arguments.begin(), step.arguments.end());
            const Finished finished = run_program(arguments, std::chrono::seconds(120));
            if (!finished.succeeded()) {
                costs.problems.push_back("bench-thread-costs " + step.arguments[0] + ": " +
                                         finished.how_it_ended());
                continue;
            }
            const auto result = parse_result(finished.output);
            for (const auto& [name, ours] : step.keep) {
                costs.values[ours].push_back(number(result, name));
            }
        }
        const auto latest = [&](const char* name) {
            const std::vector<double>& values = costs.values[name];
            return values.empty() ? std::nan("") : values.back();
        };
        std::printf("  thread costs, run %d of %d: start+join %.1f us, switch (futex) %.0f ns\n",
                    run, options.thread_runs, latest("spawn") / 1000, latest("switch futex"));
        std::fflush(stdout);
    }
    costs.default_stack_kib = format("%.0f", costs.value("default stack").median);
    costs.small_stack_kib = format("%.0f", costs.value("small stack").median);
    return costs;
}

void fill_thread_costs(const Options&, const Results& results, Figures& figures) {
    const ThreadCosts& threads = results.threads;
    Summary spawn_us = threads.value("spawn");
    figures.choices["threads.measured"] = spawn_us.count > 0;
    figures.text["threads.problems"] = join(threads.problems);
    figures.choices["threads.has_problems"] = !threads.problems.empty();
    spawn_us.median /= 1000;
    spawn_us.min /= 1000;
    spawn_us.max /= 1000;
    // The cell "median (min–max)", and the median alone for the prose, to the same digits.
    const auto put = [&](const std::string& name, const Summary& summary, int decimals) {
        figures.text[name] = cell(summary, decimals);
        figures.text[name + ".median"] = format("%.*f", decimals, summary.median);
    };
    put("threads.spawn_us", spawn_us, 1);
    put("threads.rss_default", threads.value("idle default rss"), 1);
    put("threads.virtual_default", threads.value("idle default virtual"), 0);
    put("threads.rss_small", threads.value("idle small rss"), 1);
    put("threads.virtual_small", threads.value("idle small virtual"), 0);
    put("threads.kernel_stack", threads.value("idle default kernel"), 1);
    put("threads.switch_pipe", threads.value("switch pipe"), 0);
    put("threads.switch_futex", threads.value("switch futex"), 0);
    figures.text["threads.parked"] = with_commas(threads.idle_threads) + " parked threads";
    figures.text["threads.default_stack_kib"] = threads.default_stack_kib;
    figures.text["threads.small_stack_kib"] = threads.small_stack_kib;
    // For scale: a thread's start, and one switch, in bare system calls (section 2).
    if (results.syscalls.measured) {
        const double syscall_ns = results.syscalls.median_of("raw_syscall_write").median;
        figures.text["threads.syscall_ns"] = format("%.0f", syscall_ns);
        figures.text["threads.spawn_in_syscalls"] =
            format("%.0f", spawn_us.median * 1000 / syscall_ns);
        figures.text["threads.switch_in_syscalls"] =
            format("%.0f", threads.value("switch futex").median / syscall_ns);
    }
}

}  // namespace suite
