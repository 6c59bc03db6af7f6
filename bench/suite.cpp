// bench/suite.cpp: run every measurement of bench/ and write docs/benchmarks.md.
//
// bench/run builds the benchmarks and starts this program, which
//   1. runs bench-thread-costs (start/join, parked threads, context switches) R times;
//   2. runs bench-syscall-cost (Google Benchmark) with R repetitions;
//   3. for each N (5, 100, 1,000, 10,000), R times, starts a delay server on a free port and
//      runs each scale client against it (the ways of scale_ways.h), taking turns;
//   4. runs bench-concurrency-models for each of chapter 2's four models, R times;
//   5. draws the scale test's chart with gnuplot (bench/scale-chart.gp);
//   6. fills the page's template (bench/benchmarks.md.in) with this run's figures, and
//      with the sentences its results call for (a target met or missed), and writes it.
// suite.h says which file holds which part. Every measurement is its own process, so
// nothing one leaves behind is counted in the next. The suite fails (exit 1) when the
// thread, system call or model measurements or gnuplot could not run, or, with --smoke, when
// anything at all failed.
//
// Usage: bench-suite --programs DIR --delayserver PATH --template FILE.md.in
//                    --output FILE.md [--chart FILE.svg --chart-script FILE.gp]
//                    [--note TEXT] [--delay-ms MS] [--sizes N,N,...] [--runs R]
//                    [--runs-large R] [--thread-runs R] [--smoke]
//        (bench-suite --help says what each option is; bench/run passes the paths.)
// Platform: Linux (pidfd, /proc).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "suite.h"

namespace {

// Runs at every exit, also an early one (a failed OS call): the delay server of the
// current run stops too, and the work folder goes.
void clean_up() {
    using suite::work_folder;
    if (suite::running_server > 0) {
        kill(suite::running_server, SIGTERM);  // Best effort: the suite is ending anyway.
    }
    for (const char* name :
         {"stdout.txt", "stderr.txt", "server.log", "server-errors.log", "scale.dat"}) {
        unlink((work_folder + "/" + name).c_str());  // Some were never made: not an error.
    }
    if (rmdir(work_folder.c_str()) != 0) {
        std::fprintf(stderr, "bench-suite: rmdir %s: %s\n", work_folder.c_str(),
                     std::strerror(errno));
    }
}

void progress(const char* step) {
    std::printf("%s\n", step);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace suite;
    const Options options = parse_options(argc, argv);
    const std::string page_template = read_file(options.template_path);
    if (page_template.empty()) {
        std::fprintf(stderr, "bench-suite: cannot read the template %s\n",
                     options.template_path.c_str());
        return 1;
    }
    const Clock::time_point start = Clock::now();
    char folder[] = "/tmp/bench-suite-XXXXXX";
    if (mkdtemp(folder) == nullptr) {
        fail("mkdtemp");
    }
    work_folder = folder;
    if (std::atexit(clean_up) != 0) {
        fail("atexit", ENOMEM);  // atexit sets no errno; the only reason is no room.
    }

    Results results;
    results.machine = describe_machine();
    std::printf("bench-suite: %s, %ld cores, %s; open-file limit %s\n", results.machine.cpu.c_str(),
                results.machine.cores, results.machine.kernel.c_str(),
                results.machine.open_file_limit.c_str());

    progress("1. thread costs");
    results.threads = measure_thread_costs(options);
    progress("2. system call cost (Google Benchmark)");
    results.syscalls = measure_syscall_cost(options);
    if (!results.syscalls.measured) {
        std::printf("  skipped: %s\n", results.syscalls.skipped_because.c_str());
    }
    std::printf("3. scale test, delay %d ms\n", options.delay_ms);
    std::fflush(stdout);
    results.scale = measure_scale(options);
    if (!results.scale.measured) {
        std::printf("  skipped: %s\n", results.scale.skipped_because.c_str());
    }
    for (const std::string& skipped : results.scale.skipped_ways) {
        std::printf("  skipped: %s\n", skipped.c_str());
    }
    progress("4. chapter 2's concurrency models");
    results.models = measure_concurrency_models(options);
    if (!results.models.built) {
        std::printf("  skipped: %s\n", results.models.skipped_because.c_str());
    }

    bool problems = !results.threads.problems.empty() ||
                    (results.syscalls.built && !results.syscalls.measured) ||
                    !results.models.problems.empty();
    Options page_options = options;  // without the chart, if there is none to show
    if (!options.chart.empty() && results.scale.measured) {
        const std::string chart_problem = draw_chart(options, results.scale);
        if (!chart_problem.empty()) {
            std::fprintf(stderr, "bench-suite: no chart: %s\n", chart_problem.c_str());
            page_options.chart.clear();
            problems = true;
        }
    } else {
        page_options.chart.clear();
    }

    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start);
    const std::string elapsed = format("%ld min %ld s", static_cast<long>(seconds.count() / 60),
                                       static_cast<long>(seconds.count() % 60));
    Figures figures;
    fill_run(page_options, results.machine, elapsed, first_word(read_file("/proc/loadavg")),
             figures);
    fill_targets(page_options, results, figures);
    fill_thread_costs(page_options, results, figures);
    fill_syscall_cost(page_options, results, figures);
    fill_scale(page_options, results, figures);
    fill_concurrency_models(page_options, results, figures);
    write_file(options.output, fill_template(page_template, options.template_path, figures));
    std::printf("wrote %s%s in %s\n", options.output.c_str(),
                page_options.chart.empty() ? "" : (" and " + options.chart).c_str(),
                elapsed.c_str());
    for (const auto* problems_of : {&results.threads.problems, &results.models.problems}) {
        for (const std::string& problem : *problems_of) {
            std::fprintf(stderr, "bench-suite: %s\n", problem.c_str());
        }
    }
    if (options.smoke) {
        // The smoke test: every part that was built ran, and no request failed.
        const bool complete =
            (results.syscalls.measured || !results.syscalls.built) && results.scale.measured;
        return !problems && complete && results.scale.all_requests_succeeded() ? 0 : 1;
    }
    return problems ? 1 : 0;
}
