// bench/section_scale.cpp: section 3 of the page, N waiting requests, one client per way
// (scale_ways.h). For each N (5, 100, 1,000, 10,000), R times, it starts a delay server
// on a free port and runs each client against it. The clients take turns within each
// round, so a burst of other work on the machine spreads over all of them instead of
// hitting one. Failed requests are measurements too, reported in the tables, even when a
// client crashed.
//
// Figures: scale.delay_ms, scale.way_count ("five"), scale.clients (the ways' sources, for
// "How the numbers are made"), scale.skipped_because, scale.skipped_ways, scale.rows and
// scale.time_rows (table rows), scale.failures (a list), scale.chart (the chart's file
// name), scale.largest, scale.smallest, scale.per_request, scale.kernel_stacks_mib,
// scale.beyond_delay_ms (raw epoll's slowest answer less the delay); and for every way
// measured at the largest N, scale.KEY.wall, .failed, .peak_mib, .cpu_ms, .sent_ms and
// .slowest_ms (medians).
// Choices: scale.measured, scale.has_skipped_ways, scale.has_failures, scale.has_chart,
// scale.has_per_request, scale.has_kernel_stack, scale.has_epoll_libraries_at_largest, and
// scale.KEY.at_largest for every way.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include <unistd.h>

#include <sstream>

#include "scale_ways.h"
#include "suite.h"

namespace suite {

Summary ScaleResults::summary(const std::string& way, int size, double ScaleRun::*field) const {
    std::vector<double> collected;
    const auto found = runs.find({way, size});
    if (found != runs.end()) {
        for (const ScaleRun& run : found->second) {
            collected.push_back(run.*field);
        }
    }
    return summarize(collected);
}

long ScaleResults::failed(const std::string& way, int size) const {
    long total = 0;
    const auto found = runs.find({way, size});
    if (found != runs.end()) {
        for (const ScaleRun& run : found->second) {
            total += run.failed;
        }
    }
    return total;
}

bool ScaleResults::all_requests_succeeded() const {
    for (const auto& [key, way_runs] : runs) {
        for (const ScaleRun& run : way_runs) {
            if (run.failed > 0) {
                return false;
            }
        }
    }
    return true;
}

namespace {

ScaleRun run_client(const Options& options, const Way& way, int size) {
    DelayServer server(options.delayserver);
    const Finished finished = run_program(
        {options.programs + "/" + way.program, "--address", server.address(), "--requests",
         std::to_string(size), "--delay-ms", std::to_string(options.delay_ms)},
        std::chrono::seconds(options.delay_ms / 1000 + 90));
    ScaleRun run;
    run.server_cpu_ms = server.stop();
    const auto result = parse_result(finished.output);
    if (result.empty()) {  // It never got to its summary: every request counts as failed.
        run.failed = size;
        run.failure_reasons = way.program + " " + finished.how_it_ended();
        return run;
    }
    run.wall_ratio = number(result, "wall_ms") / options.delay_ms;
    run.sent_ms = number(result, "sent_ms");
    run.slowest_ms = number(result, "slowest_ms");
    run.peak_mib = number(result, "peak_rss_kib") / 1024;
    run.cpu_ms = finished.cpu_ms();
    run.failed = static_cast<long>(number(result, "failed"));
    // The lines "  12 x connect: Connection refused" under "answers:".
    std::istringstream lines(finished.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("  ") && line.find(" x ") != std::string::npos) {
            run.failure_reasons += (run.failure_reasons.empty() ? "" : "; ") + line.substr(2);
        }
    }
    return run;
}

// "four": the page says how many ways it compares.
std::string in_words(std::size_t count) {
    const char* const words[] = {"no",  "one",   "two",   "three", "four", "five",
                                 "six", "seven", "eight", "nine",  "ten"};
    return count < std::size(words) ? words[count] : std::to_string(count);
}

}  // namespace

ScaleResults measure_scale(const Options& options) {
    ScaleResults results;
    if (access(options.delayserver.c_str(), X_OK) != 0) {
        results.skipped_because = "the delay server " + options.delayserver + " was not built";
        return results;
    }
    for (const Way& way : scale_ways) {
        if (access((options.programs + "/" + way.program).c_str(), X_OK) == 0) {
            results.ways.push_back(way);
        } else {
            results.skipped_ways.push_back(way.label + " (" + way.program + " was not built)");
        }
    }
    for (const int size : options.sizes) {
        const int runs = size >= 10000 ? options.runs_large : options.runs;
        for (int run = 1; run <= runs; ++run) {
            std::printf("  N = %s, run %d of %d:", with_commas(size).c_str(), run, runs);
            std::fflush(stdout);
            for (const Way& way : results.ways) {
                const ScaleRun measured = run_client(options, way, size);
                results.runs[{way.key, size}].push_back(measured);
                std::printf(
                    "  %s %.2fx %.1f MiB%s", way.key.c_str(), measured.wall_ratio,
                    measured.peak_mib,
                    measured.failed > 0 ? format(" (%ld failed)", measured.failed).c_str() : "");
                std::fflush(stdout);
            }
            std::printf("\n");
        }
    }
    results.measured = true;
    return results;
}

void fill_scale(const Options& options, const Results& results, Figures& figures) {
    const ScaleResults& scale = results.scale;
    figures.choices["scale.measured"] = scale.measured;
    figures.text["scale.skipped_because"] = scale.skipped_because;
    figures.text["scale.delay_ms"] = std::to_string(options.delay_ms);
    figures.text["scale.way_count"] = in_words(scale_ways.size());
    std::vector<std::string> clients;
    for (const Way& way : scale_ways) {
        clients.push_back(way.description);
    }
    figures.text["scale.clients"] = join(clients, ", ");
    figures.choices["scale.has_skipped_ways"] = !scale.skipped_ways.empty();
    figures.text["scale.skipped_ways"] = join(scale.skipped_ways);
    figures.choices["scale.has_chart"] = !options.chart.empty();
    figures.text["scale.chart"] = options.chart.substr(options.chart.rfind('/') + 1);

    // The scale table: one row per N and way.
    std::string rows;
    for (const int size : options.sizes) {
        for (const Way& way : scale.ways) {
            if (!scale.has(way.key, size)) {
                continue;
            }
            const long failed = scale.failed(way.key, size);
            const long sent = size * static_cast<long>(scale.runs.at({way.key, size}).size());
            rows += "| " + with_commas(size) + " | " + way.label + " | " +
                    cell(scale.summary(way.key, size, &ScaleRun::wall_ratio), 2) + " | " +
                    cell(scale.summary(way.key, size, &ScaleRun::peak_mib), 1) + " | " +
                    cell(scale.summary(way.key, size, &ScaleRun::cpu_ms), 0) + " | " +
                    (failed == 0 ? std::string("0")
                                 : with_commas(failed) + " of " + with_commas(sent)) +
                    " |\n";
        }
    }
    figures.text["scale.rows"] = rows.substr(0, rows.empty() ? 0 : rows.size() - 1);

    // Why requests failed, as the clients reported it: one list item per failed run.
    std::vector<std::string> failures;
    for (const auto& [key, runs] : scale.runs) {
        for (std::size_t run = 0; run < runs.size(); ++run) {
            if (runs[run].failed > 0) {
                failures.push_back("- " + label_of(key.first) + ", N = " + with_commas(key.second) +
                                   format(", run %zu: ", run + 1) + runs[run].failure_reasons);
            }
        }
    }
    figures.choices["scale.has_failures"] = !failures.empty();
    figures.text["scale.failures"] = join(failures, "\n");

    if (!scale.measured || options.sizes.empty()) {
        return;
    }
    const int largest = options.sizes.back();
    const int smallest = options.sizes.front();
    figures.text["scale.largest"] = with_commas(largest);
    figures.text["scale.smallest"] = with_commas(smallest);

    // Every way's medians at the largest N, for the prose; the "where the time goes" rows.
    std::string time_rows;
    std::vector<std::string> per_request;
    bool libraries = false;
    for (const Way& way : scale_ways) {
        const std::string name = "scale." + way.key;
        const bool measured = scale.has(way.key, largest);
        figures.choices[name + ".at_largest"] = measured;
        if (!measured) {
            continue;
        }
        libraries = libraries || way.key == "asio" || way.key == "libuv";
        figures.text[name + ".wall"] =
            format("%.2f", scale.median(way.key, largest, &ScaleRun::wall_ratio));
        figures.text[name + ".failed"] = with_commas(scale.failed(way.key, largest));
        figures.text[name + ".peak_mib"] =
            format("%.1f", scale.median(way.key, largest, &ScaleRun::peak_mib));
        for (const auto& [field, member] :
             {std::pair{".cpu_ms", &ScaleRun::cpu_ms}, std::pair{".sent_ms", &ScaleRun::sent_ms},
              std::pair{".slowest_ms", &ScaleRun::slowest_ms}}) {
            figures.text[name + field] = format("%.0f", scale.median(way.key, largest, member));
        }
        time_rows += "| " + way.label + " | " +
                     cell(scale.summary(way.key, largest, &ScaleRun::sent_ms), 0) + " | " +
                     cell(scale.summary(way.key, largest, &ScaleRun::slowest_ms), 0) + " | " +
                     cell(scale.summary(way.key, largest, &ScaleRun::cpu_ms), 0) + " | " +
                     cell(scale.summary(way.key, largest, &ScaleRun::server_cpu_ms), 0) + " |\n";
        // Memory per waiting request: what the client holds at the largest N beyond what
        // it holds at the smallest, divided by the requests added.
        if (largest > smallest && scale.has(way.key, smallest)) {
            const double kib = (scale.median(way.key, largest, &ScaleRun::peak_mib) -
                                scale.median(way.key, smallest, &ScaleRun::peak_mib)) *
                               1024 / (largest - smallest);
            per_request.push_back(format("%s %.2f KiB", way.label.c_str(), kib));
        }
    }
    figures.text["scale.time_rows"] =
        time_rows.substr(0, time_rows.empty() ? 0 : time_rows.size() - 1);
    figures.choices["scale.has_per_request"] = !per_request.empty();
    figures.text["scale.per_request"] = join(per_request);
    figures.choices["scale.has_epoll_libraries_at_largest"] = libraries;
    if (scale.has("epoll", largest)) {
        figures.text["scale.beyond_delay_ms"] = format(
            "%.0f", scale.median("epoll", largest, &ScaleRun::slowest_ms) - options.delay_ms);
    }
    // The kernel stacks of the threads, which no process's resident memory shows.
    const Summary kernel = results.threads.value("idle default kernel");
    figures.choices["scale.has_kernel_stack"] = kernel.count > 0;
    figures.text["scale.kernel_stacks_mib"] = format("%.0f", kernel.median * largest / 1024);
}

}  // namespace suite
