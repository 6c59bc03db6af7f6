// bench/scale.cpp: the scale test, N waiting requests six ways, and the rows it gives the page.
//
// For each N, R times, it starts a delay server on a free port and runs each scale client
// against it (scale_threads.cpp, scale_epoll.cpp, ...: the ways below), each its own
// process; the clients take turns within each round, so a burst of other work on the
// machine spreads over all of them. Each client reports its wall time and peak memory (its
// `result` line); the CPU time of the client and of the server comes from wait4. Then it
// writes, into the folder --parts names, what bench/run puts into the page:
//   scale-rows.md     the scale table's rows (median, smallest and largest run), then why
//                     requests failed, if any did
//   scale-time.md     "where the time goes" at the largest N, then the memory per request
//   scale-targets.md  the rows of the targets table that the scale test decides
//   scale.dat         the chart's data for bench/scale-chart.gp: a block per way
//
// Platform: Linux.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "measure.h"
#include "options.h"

using measure::cell;
using measure::format;
using measure::join;
using measure::percent_apart;
using measure::Summary;
using measure::with_commas;

namespace {

// The ways, in the order of the tables and the chart. A way whose program was not built
// (its library missing) is left out, and the page says so.
struct Way {
    std::string key, program, label;
};
const std::vector<Way> ways = {
    {"threads", "bench-scale-threads", "thread per request"},
    {"epoll", "bench-scale-epoll", "raw epoll"},
    {"poll", "bench-scale-poll", "Poll on epoll"},
    {"io_uring", "bench-scale-io-uring", "raw io_uring"},
    {"asio", "bench-scale-asio", "Asio"},
    {"libuv", "bench-scale-libuv", "libuv"},
};

// One run of one client.
struct Run {
    double wall = std::nan(""), sent_ms = std::nan(""), slowest_ms = std::nan("");
    double peak_mib = std::nan(""), cpu_ms = std::nan(""), server_cpu_ms = std::nan("");
    long failed = 0;
    std::string reasons;  // as the client listed them under "answers:"
};

// The delay server on port 0 prints "listening on HOST:PORT" first: wait for that line.
Run run_client(const std::string& delayserver, const std::string& program, int size, int delay_ms,
               const std::string& folder) {
    const std::string log = folder + "/server.log";
    const pid_t server =
        measure::start({delayserver, "--host", "127.0.0.1", "--port", "0"}, log, log + ".err");
    std::string address;
    for (int tries = 0; address.empty(); ++tries) {
        const std::string text = measure::read_file(log);
        if (text.starts_with("listening on ") && text.find('\n') != std::string::npos) {
            address = text.substr(13, text.find('\n') - 13);
        } else if (tries == 10000) {  // 20 s
            std::fprintf(stderr, "%s: the delay server did not report its port\n",
                         measure::program_name);
            std::exit(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const measure::Finished client =
        measure::run({program, "--address", address, "--requests", std::to_string(size),
                      "--delay-ms", std::to_string(delay_ms)},
                     folder);
    if (kill(server, SIGTERM) != 0) {  // the server's documented way to stop
        measure::fail("kill");
    }
    Run run;
    run.server_cpu_ms = measure::wait_for(server).cpu_ms;
    run.failed = static_cast<long>(measure::result(client.output, "failed"));
    if (client.output.find("result ") == std::string::npos) {  // no summary: all failed
        run.failed = size;
        run.reasons = program + " " + client.how_it_ended();
        return run;
    }
    run.wall = measure::result(client.output, "wall_ms") / delay_ms;
    run.sent_ms = measure::result(client.output, "sent_ms");
    run.slowest_ms = measure::result(client.output, "slowest_ms");
    run.peak_mib = measure::result(client.output, "peak_rss_kib") / 1024;
    run.cpu_ms = client.cpu_ms;
    std::istringstream lines(client.output);  // "  12 x connect: Connection refused"
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("  ") && line.find(" x ") != std::string::npos) {
            run.reasons += (run.reasons.empty() ? "" : "; ") + line.substr(2);
        }
    }
    return run;
}

std::map<std::pair<std::string, int>, std::vector<Run>> runs;  // (way, N) -> its runs

Summary of(const std::string& way, int size, double Run::*field) {
    std::vector<double> values;
    for (const Run& run : runs[{way, size}]) {
        values.push_back(run.*field);
    }
    return measure::summarize(values);
}

double median(const std::string& way, int size, double Run::*field) {
    return of(way, size, field).median;
}

long failed(const std::string& way, int size) {
    long total = 0;
    for (const Run& run : runs[{way, size}]) {
        total += run.failed;
    }
    return total;
}

bool has(const std::string& way, int size) {
    return runs.contains({way, size});
}

std::string label_of(const std::string& key) {
    return std::ranges::find(ways, key, &Way::key)->label;
}

std::string load_at_start;  // the 1-minute load average, from /proc/loadavg

// The targets at N = 10,000; "not measured" where --sizes leaves it out.
constexpr int targets_n = 10000;

// A row of the targets table that lists its misses: the target, what was measured, and
// "met", or "missed: " and the misses; "not measured" where nothing was.
std::string target_row(const std::string& target, const std::string& measured,
                       const std::vector<std::string>& misses) {
    const std::string outcome = measured.empty() ? "not measured"
                                : misses.empty() ? "met"
                                                 : "missed: " + join(misses);
    return "| " + target + " | " + measured + " | " + outcome + " |\n";
}

std::string epoll_at_scale_row(int delay_ms) {
    std::string row =
        "| Raw epoll at N = 10,000, one thread: wall within 1.2x of the delay, zero failures | ";
    if (!has("epoll", targets_n)) {
        return row + " | not measured |\n";
    }
    const Summary wall = of("epoll", targets_n, &Run::wall);
    const long failures = failed("epoll", targets_n);
    row += format("%.2fx (%.2f–%.2f), %s failed | %s", wall.median, wall.min, wall.max,
                  with_commas(failures).c_str(),
                  wall.median <= 1.2 && failures == 0 ? "met" : "missed");
    if (wall.median > 1.2) {
        row += format(
            ": sending all 10,000 requests took %.0f ms, and the slowest answer came %.0f ms "
            "after its request, for a delay of %d ms. The time beyond the delay is work per "
            "connection done in turn: the client's one thread opening 10,000 connections, the "
            "server's one thread accepting, reading and answering them (see \"Where the time "
            "goes\"), on %ld cores whose load average was %s when the scale test began",
            median("epoll", targets_n, &Run::sent_ms), median("epoll", targets_n, &Run::slowest_ms),
            delay_ms, sysconf(_SC_NPROCESSORS_ONLN), load_at_start.c_str());
    }
    return row + (failures > 0 ? "; the failures are listed under the scale table |\n" : " |\n");
}

std::string memory_row() {
    std::string row =
        "| Raw epoll peak memory at N = 10,000 at most 1/10 of thread per request's | ";
    if (!has("epoll", targets_n) || !has("threads", targets_n)) {
        return row + " | not measured |\n";
    }
    const double epoll = median("epoll", targets_n, &Run::peak_mib);
    const double threads = median("threads", targets_n, &Run::peak_mib);
    row += format("%.1f MiB against %.1f MiB: 1/%.0f | ", epoll, threads, threads / epoll);
    if (epoll * 10 <= threads) {
        return row + "met |\n";
    }
    return row + "missed: each thread touched only a few pages of its 64 KiB stack, and the " +
           "kernel's share of a thread (section 1) is in no process's resident memory" +
           (failed("threads", targets_n) > 0 ? "; and some threads were never created (see the "
                                               "failures) |\n"
                                             : " |\n");
}

// ch03-poll's Poll on epoll against raw epoll at N = 1,000 and 10,000. Where raw epoll's own
// runs spread wider than 5%, a miss within that spread is named as such: the runs cannot
// tell a difference smaller than their own noise.
std::string poll_row() {
    std::vector<std::string> values, misses;
    for (const int size : {1000, 10000}) {
        if (!has("epoll", size) || !has("poll", size)) {
            continue;
        }
        const std::string n = "N = " + with_commas(size);
        const Summary epoll_wall = of("epoll", size, &Run::wall);
        const double poll_wall = median("poll", size, &Run::wall);
        const double epoll_mib = median("epoll", size, &Run::peak_mib);
        const double poll_mib = median("poll", size, &Run::peak_mib);
        const double wall_apart = percent_apart(poll_wall, epoll_wall.median);
        const double memory_apart = percent_apart(poll_mib, epoll_mib);
        const double spread = percent_apart(epoll_wall.max, epoll_wall.min);
        values.push_back(
            format("%s: wall %.2fx vs %.2fx (%.1f%% apart; raw epoll's runs spread "
                   "%.1f%%), peak %.1f vs %.1f MiB (%.1f%% apart)",
                   n.c_str(), poll_wall, epoll_wall.median, wall_apart, spread, poll_mib, epoll_mib,
                   memory_apart));
        if (wall_apart > 5 && poll_wall > epoll_wall.median) {
            misses.push_back(format(
                "at %s Poll's wall time was %.1f%% above raw epoll's%s", n.c_str(), wall_apart,
                spread > 5 && wall_apart <= spread ? ", within the spread of raw epoll's own runs"
                                                   : ""));
        }
        if (memory_apart > 5 && poll_mib > epoll_mib) {
            misses.push_back(
                format("at %s Poll's peak memory was %.1f%% above raw epoll's (its "
                       "table of registrations)",
                       n.c_str(), memory_apart));
        }
    }
    return target_row(
        "ch03-poll's Poll on epoll: wall and peak memory within 5% of raw epoll's at N = 1,000 "
        "and 10,000",
        values.empty() ? "" : "Poll vs raw epoll: " + join(values), misses);
}

// Raw epoll beside another one-thread way at every N. For a library on the same epoll the
// target is raw epoll's wall within 10% of the library's, and its memory not above it; for
// raw io_uring, the newer queue's wall within 10% of raw epoll's (memory shown beside it).
std::string beside_epoll_rows(const std::string& other, const std::vector<int>& sizes) {
    const bool io_uring = other == "io_uring";
    const std::string measured = io_uring ? other : "epoll";
    const std::string reference = io_uring ? "epoll" : other;
    std::vector<std::string> walls, wall_misses, memories, memory_misses;
    for (const int size : sizes) {
        if (!has("epoll", size) || !has(other, size)) {
            continue;
        }
        const std::string n = "N = " + with_commas(size);
        const Summary mine = of(measured, size, &Run::wall);
        const Summary theirs = of(reference, size, &Run::wall);
        walls.push_back(format("%s: %.2fx vs %.2fx", n.c_str(), median("epoll", size, &Run::wall),
                               median(other, size, &Run::wall)));
        const double apart = percent_apart(mine.median, theirs.median);
        if (apart > 10) {
            const bool overlap = mine.min <= theirs.max && theirs.min <= mine.max;
            wall_misses.push_back(format(
                "at %s %s was %.0f%% %s; its requests were all sent after %.0f ms, %s's after "
                "%.0f ms%s",
                n.c_str(), label_of(measured).c_str(), apart,
                mine.median > theirs.median ? "slower" : "faster",
                median(measured, size, &Run::sent_ms), label_of(reference).c_str(),
                median(reference, size, &Run::sent_ms),
                overlap ? "; the runs' ranges overlap, so this is within the run-to-run noise"
                        : ""));
        }
        const double epoll_mib = median("epoll", size, &Run::peak_mib);
        const double other_mib = median(other, size, &Run::peak_mib);
        memories.push_back(format("%s: %.1f vs %.1f MiB", n.c_str(), epoll_mib, other_mib));
        if (epoll_mib > other_mib) {
            memory_misses.push_back(
                format("at %s raw epoll held %.2f MiB more", n.c_str(), epoll_mib - other_mib));
        }
    }
    if (io_uring) {
        return target_row(
            "Raw io_uring wall within 10% of raw epoll's at every N (peak memory beside it)",
            walls.empty() ? ""
                          : "wall / delay, raw epoll vs raw io_uring: " + join(walls) +
                                "; peak memory: " + join(memories),
            wall_misses);
    }
    const std::string name = label_of(other);
    return target_row("Raw epoll wall within 10% of " + name + "'s at every N", join(walls),
                      wall_misses) +
           target_row("Raw epoll peak memory not above " + name + "'s at every N", join(memories),
                      memory_misses);
}

}  // namespace

int main(int argc, char** argv) {
    measure::program_name = "bench-scale";
    CLI::App app{
        "The scale test: N delayed requests, one client per way, each run its own "
        "process; writes the page's rows.",
        "bench-scale"};
    std::string programs, delayserver, parts;
    int delay_ms = 1000, runs_per_n = 5, runs_large = 3;
    std::vector<int> sizes = {5, 100, 1000, 10000};
    app.add_option("--programs", programs, "the folder holding the bench-scale-* clients")
        ->required();
    app.add_option("--delayserver", delayserver, "the delay server program")->required();
    app.add_option("--parts", parts, "the folder to write the page's parts into")->required();
    add_number(app, "--delay-ms", delay_ms, "how long every request waits in the server", 1, 60000);
    app.add_option("--sizes", sizes, "the numbers of requests N")
        ->delimiter(',')
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    add_number(app, "--runs", runs_per_n, "runs per N below 10,000", 1, 100);
    add_number(app, "--runs-large", runs_large, "runs at N >= 10,000", 1, 100);
    parse_command_line(app, argc, argv);
    std::sort(sizes.begin(), sizes.end());
    load_at_start = measure::read_file("/proc/loadavg");
    load_at_start = load_at_start.substr(0, load_at_start.find(' '));

    std::vector<Way> built;
    std::string skipped;
    for (const Way& way : ways) {
        if (access((programs + "/" + way.program).c_str(), X_OK) == 0) {
            built.push_back(way);
        } else {
            skipped += "\nNot measured: " + way.label + " (" + way.program + " was not built).\n";
        }
    }
    const std::string folder = measure::work_folder();
    bool any_failed = false;
    for (const int size : sizes) {
        const int round_count = size >= 10000 ? runs_large : runs_per_n;
        for (int round = 1; round <= round_count; ++round) {
            std::printf("  N = %s, run %d of %d:", with_commas(size).c_str(), round, round_count);
            for (const Way& way : built) {
                const Run run =
                    run_client(delayserver, programs + "/" + way.program, size, delay_ms, folder);
                runs[{way.key, size}].push_back(run);
                std::printf("  %s %.2fx %.1f MiB", way.key.c_str(), run.wall, run.peak_mib);
                if (run.failed > 0) {
                    std::printf(" (%ld failed)", run.failed);
                    any_failed = true;  // The page still shows them; the smoke test fails on them.
                }
                std::fflush(stdout);
            }
            std::printf("\n");
        }
    }

    // The scale table, then why requests failed, as the clients reported it.
    std::string rows, failures, data;
    for (const int size : sizes) {
        for (const Way& way : built) {
            const std::vector<Run>& way_runs = runs[{way.key, size}];
            const long lost = failed(way.key, size);
            const long requests = size * static_cast<long>(way_runs.size());
            rows += "| " + with_commas(size) + " | " + way.label + " | " +
                    cell(of(way.key, size, &Run::wall), 2) + " | " +
                    cell(of(way.key, size, &Run::peak_mib), 1) + " | " +
                    cell(of(way.key, size, &Run::cpu_ms), 0) + " | " +
                    (lost == 0 ? "0" : with_commas(lost) + " of " + with_commas(requests)) + " |\n";
            for (std::size_t run = 0; run < way_runs.size(); ++run) {
                if (way_runs[run].failed > 0) {
                    failures +=
                        format("- %s, N = %s, run %zu: %s\n", way.label.c_str(),
                               with_commas(size).c_str(), run + 1, way_runs[run].reasons.c_str());
                }
            }
        }
    }
    if (!failures.empty()) {
        failures = "\nWhy requests failed, as the clients reported it:\n\n" + failures;
    }
    measure::write_file(parts + "/scale-rows.md", rows + failures + skipped);

    // Where the time goes at the largest N, and the memory per waiting request: the peak
    // at the largest N beyond the peak at the smallest, divided by the requests added.
    const int largest = sizes.back(), smallest = sizes.front();
    std::string time_rows;
    std::vector<std::string> per_request;
    for (const Way& way : built) {
        time_rows += "| " + way.label + " | " + cell(of(way.key, largest, &Run::sent_ms), 0) +
                     " | " + cell(of(way.key, largest, &Run::slowest_ms), 0) + " | " +
                     cell(of(way.key, largest, &Run::cpu_ms), 0) + " | " +
                     cell(of(way.key, largest, &Run::server_cpu_ms), 0) + " |\n";
        if (largest > smallest) {
            per_request.push_back(format("%s %.2f KiB", way.label.c_str(),
                                         (median(way.key, largest, &Run::peak_mib) -
                                          median(way.key, smallest, &Run::peak_mib)) *
                                             1024 / (largest - smallest)));
        }
        data += "\"" + way.label + "\"\n";
        for (const int size : sizes) {
            data += format("%d %.3f %.2f\n", size, median(way.key, size, &Run::wall),
                           median(way.key, size, &Run::peak_mib));
        }
        data += "\n\n";
    }
    if (!per_request.empty()) {
        time_rows += "\nMemory per waiting request (peak at N = " + with_commas(largest) +
                     " minus peak at N = " + with_commas(smallest) +
                     ", divided by the requests added): " + join(per_request) + ".\n";
    }
    measure::write_file(parts + "/scale-time.md", time_rows);
    measure::write_file(parts + "/scale.dat", data);
    measure::write_file(parts + "/scale-targets.md",
                        epoll_at_scale_row(delay_ms) + memory_row() + poll_row() +
                            beside_epoll_rows("io_uring", sizes) +
                            beside_epoll_rows("asio", sizes) + beside_epoll_rows("libuv", sizes));
    measure::remove_work_folder(folder);
    return any_failed ? 1 : 0;
}
