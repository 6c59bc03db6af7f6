// bench/section_targets.cpp: the page's table of targets, what the project set out to show,
// each met or missed by this run's medians. The targets' words, and what the page says
// when one is missed, are in the template; this file decides which, and gives the numbers.
//
// At N = 10,000 (the targets' N; not measured if --sizes leaves it out):
//   raw epoll's wall time within 1.2x of the delay, zero failures
//     target.epoll_scale.met, .slow, .failures, .measured (choices);
//     target.epoll_scale.wall, .failed, .sent_ms, .slowest_ms (figures)
//   raw epoll's peak memory at most 1/10 of thread per request's
//     target.memory.met, .threads_failed, .measured; target.memory.epoll_mib,
//     .threads_mib, .ratio
// At every N, for every way that is not raw epoll, thread per request or Poll (raw io_uring, and
// the libraries built on epoll: asio, libuv), raw epoll's wall time within 10% of it, and
// its peak memory not above it (a target for the libraries only; for io_uring the page
// shows the memory beside the wall time):
//   target.KEY.measured, .wall_met, .memory_met; target.KEY.wall_values, .wall_misses,
//   .memory_values, .memory_misses (lists, one item per N)
// At N = 1,000 and 10,000: ch03-poll's Poll on epoll, wall time and peak memory within 5% of
// raw epoll's: target.poll.measured, .met; target.poll.values, .misses.
// The raw system call and libc's write within 10% of each other: target.syscall.met.
//
// Part of bench-suite (see suite.h). Platform: Linux.
#include "scale_ways.h"
#include "suite.h"

namespace suite {

namespace {

constexpr int targets_n = 10000;

void fill_epoll_at_scale(const ScaleResults& scale, Figures& figures) {
    const bool measured = scale.has("epoll", targets_n);
    figures.choices["target.epoll_scale.measured"] = measured;
    if (!measured) {
        return;
    }
    const Summary wall = scale.summary("epoll", targets_n, &ScaleRun::wall_ratio);
    const long failed = scale.failed("epoll", targets_n);
    figures.text["target.epoll_scale.wall"] =
        format("%.2fx (%.2f–%.2f)", wall.median, wall.min, wall.max);
    figures.text["target.epoll_scale.failed"] = with_commas(failed);
    figures.text["target.epoll_scale.sent_ms"] =
        format("%.0f", scale.median("epoll", targets_n, &ScaleRun::sent_ms));
    figures.text["target.epoll_scale.slowest_ms"] =
        format("%.0f", scale.median("epoll", targets_n, &ScaleRun::slowest_ms));
    figures.choices["target.epoll_scale.slow"] = wall.median > 1.2;
    figures.choices["target.epoll_scale.failures"] = failed > 0;
    figures.choices["target.epoll_scale.met"] = wall.median <= 1.2 && failed == 0;
}

void fill_memory_ratio(const ScaleResults& scale, Figures& figures) {
    const bool measured = scale.has("epoll", targets_n) && scale.has("threads", targets_n);
    figures.choices["target.memory.measured"] = measured;
    if (!measured) {
        return;
    }
    const double epoll = scale.median("epoll", targets_n, &ScaleRun::peak_mib);
    const double threads = scale.median("threads", targets_n, &ScaleRun::peak_mib);
    figures.text["target.memory.epoll_mib"] = format("%.1f", epoll);
    figures.text["target.memory.threads_mib"] = format("%.1f", threads);
    figures.text["target.memory.ratio"] = format("%.0f", threads / epoll);
    figures.choices["target.memory.met"] = epoll * 10 <= threads;
    figures.choices["target.memory.threads_failed"] = scale.failed("threads", targets_n) > 0;
}

// Raw epoll against another single-threaded way, at every N. For a library built on the
// same epoll the target is raw epoll's wall time within 10% of the library's; for raw
// io_uring, the newer queue's wall time within 10% of raw epoll's. The first named is the
// one measured against the second.
void fill_beside_epoll(const Options& options, const ScaleResults& scale, const Way& other,
                       Figures& figures) {
    const std::string name = "target." + other.key;
    const bool epoll_is_reference = other.key == "io_uring";
    const std::string measured_key = epoll_is_reference ? other.key : "epoll";
    const std::string reference_key = epoll_is_reference ? "epoll" : other.key;
    std::vector<std::string> wall_values, wall_misses, memory_values, memory_misses;
    for (const int size : options.sizes) {
        if (!scale.has("epoll", size) || !scale.has(other.key, size)) {
            continue;
        }
        const std::string n = "N = " + with_commas(size);
        const Summary epoll_wall = scale.summary("epoll", size, &ScaleRun::wall_ratio);
        const Summary other_wall = scale.summary(other.key, size, &ScaleRun::wall_ratio);
        const Summary measured = scale.summary(measured_key, size, &ScaleRun::wall_ratio);
        const Summary reference = scale.summary(reference_key, size, &ScaleRun::wall_ratio);
        const double apart = percent_apart(measured.median, reference.median);
        wall_values.push_back(
            format("%s: %.2fx vs %.2fx", n.c_str(), epoll_wall.median, other_wall.median));
        if (apart > 10) {
            const bool overlap = measured.min <= reference.max && reference.min <= measured.max;
            wall_misses.push_back(format(
                "at %s %s was %.0f%% %s; its requests were all sent after %.0f ms, "
                "%s's after %.0f ms%s",
                n.c_str(), label_of(measured_key).c_str(), apart,
                measured.median > reference.median ? "slower" : "faster",
                scale.median(measured_key, size, &ScaleRun::sent_ms),
                label_of(reference_key).c_str(),
                scale.median(reference_key, size, &ScaleRun::sent_ms),
                overlap ? "; the runs' ranges overlap, so this is within the run-to-run noise"
                        : ""));
        }
        const double epoll_mib = scale.median("epoll", size, &ScaleRun::peak_mib);
        const double other_mib = scale.median(other.key, size, &ScaleRun::peak_mib);
        memory_values.push_back(format("%s: %.1f vs %.1f MiB", n.c_str(), epoll_mib, other_mib));
        if (epoll_mib > other_mib) {
            memory_misses.push_back(
                format("at %s raw epoll held %.2f MiB more", n.c_str(), epoll_mib - other_mib));
        }
    }
    figures.choices[name + ".measured"] = !wall_values.empty();
    figures.text[name + ".wall_values"] = join(wall_values);
    figures.choices[name + ".wall_met"] = wall_misses.empty();
    figures.text[name + ".wall_misses"] = join(wall_misses);
    figures.text[name + ".memory_values"] = join(memory_values);
    figures.choices[name + ".memory_met"] = memory_misses.empty();
    figures.text[name + ".memory_misses"] = join(memory_misses);
}

// ch03-poll's Poll on epoll against raw epoll, at N = 1,000 and 10,000: wall time and peak
// memory within 5% of raw epoll's. Where the spread of raw epoll's own runs (max against
// min) is wider than 5%, a miss within that spread is named as such: the runs cannot tell
// a difference smaller than their own noise.
void fill_poll_cost(const ScaleResults& scale, Figures& figures) {
    std::vector<std::string> values, misses;
    for (const int size : {1000, 10000}) {
        if (!scale.has("epoll", size) || !scale.has("poll", size)) {
            continue;
        }
        const std::string n = "N = " + with_commas(size);
        const Summary epoll_wall = scale.summary("epoll", size, &ScaleRun::wall_ratio);
        const Summary poll_wall = scale.summary("poll", size, &ScaleRun::wall_ratio);
        const Summary epoll_mib = scale.summary("epoll", size, &ScaleRun::peak_mib);
        const Summary poll_mib = scale.summary("poll", size, &ScaleRun::peak_mib);
        const double wall_apart = percent_apart(poll_wall.median, epoll_wall.median);
        const double memory_apart = percent_apart(poll_mib.median, epoll_mib.median);
        const double wall_spread = percent_apart(epoll_wall.max, epoll_wall.min);
        values.push_back(
            format("%s: wall %.2fx vs %.2fx (%.1f%% apart; raw epoll's runs spread "
                   "%.1f%%), peak %.1f vs %.1f MiB (%.1f%% apart)",
                   n.c_str(), poll_wall.median, epoll_wall.median, wall_apart, wall_spread,
                   poll_mib.median, epoll_mib.median, memory_apart));
        if (wall_apart > 5 && poll_wall.median > epoll_wall.median) {
            misses.push_back(format("at %s Poll's wall time was %.1f%% above raw epoll's%s",
                                    n.c_str(), wall_apart,
                                    wall_spread > 5 && wall_apart <= wall_spread
                                        ? ", within the spread of raw epoll's own runs"
                                        : ""));
        }
        if (memory_apart > 5 && poll_mib.median > epoll_mib.median) {
            misses.push_back(
                format("at %s Poll's peak memory was %.1f%% above raw epoll's "
                       "(its table of registrations)",
                       n.c_str(), memory_apart));
        }
    }
    figures.choices["target.poll.measured"] = !values.empty();
    figures.text["target.poll.values"] = join(values);
    figures.choices["target.poll.met"] = misses.empty();
    figures.text["target.poll.misses"] = join(misses);
}

}  // namespace

void fill_targets(const Options& options, const Results& results, Figures& figures) {
    fill_epoll_at_scale(results.scale, figures);
    fill_memory_ratio(results.scale, figures);
    fill_poll_cost(results.scale, figures);
    for (const Way& way : scale_ways) {
        if (way.key != "epoll" && way.key != "threads" && way.key != "poll") {
            fill_beside_epoll(options, results.scale, way, figures);
        }
    }
    const SyscallCosts& syscalls = results.syscalls;
    figures.choices["target.syscall.met"] =
        syscalls.measured && percent_apart(syscalls.median_of("raw_syscall_write").median,
                                           syscalls.median_of("libc_write").median) <= 10;
}

}  // namespace suite
