// bench/suite.cpp: run every measurement of bench/ and write docs/benchmarks.md.
//
// bench/run builds the benchmarks and starts this program, which
//   1. runs bench-thread-costs (start/join, parked threads, context switches) R times;
//   2. runs bench-syscall-cost (Google Benchmark) with R repetitions;
//   3. for each N (5, 100, 1,000, 10,000), R times, starts a delay server on a free port and
//      runs each scale client against it: thread per request, raw epoll, Asio, libuv. The
//      clients take turns within each round, so a burst of other work on the machine
//      spreads over all four instead of hitting one;
//   4. writes the report: machine, date, a table per measurement with the median, min and
//      max over the runs, a reading of each table, the targets met or missed; and the data
//      for the chart, which gnuplot draws as SVG (bench/scale-chart.gp).
// Every measurement is its own process, so nothing one leaves behind (memory, threads, the
// previous server's sockets in TIME_WAIT) is counted in the next. Failed requests are
// measurements too, reported in the tables, even when a client crashed; the suite itself
// fails (exit 1) when the thread or system call measurements or gnuplot could not run, or,
// with --smoke, when anything at all failed.
//
// Usage: bench-suite --programs DIR --server PATH --output FILE.md
//                    [--chart FILE.svg --chart-script bench/scale-chart.gp] [--note TEXT]
//                    [--delay-ms MS] [--sizes N,N,...] [--runs R] [--runs-large R]
//                    [--thread-runs R] [--smoke]
//   --programs     the folder holding the bench-* programs (build/bench/bench)
//   --server       the delay server (build/bench/delayserver/delayserver)
//   --runs         runs per N below 10,000 (default 5); --runs-large at N >= 10,000 (3)
//   --thread-runs  runs of each thread measurement (5); the system call benchmarks get
//                  twice as many short repetitions, less one (9)
//   --note         a sentence for the report, e.g. that the machine was busy
//   --smoke        a check that everything runs, in seconds: N = 5 and 50, a 200 ms delay,
//                  one run each, small counts; exits 1 if anything failed
// Platform: Linux (pidfd, /proc).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------------
// Reporting errors, and small helpers
// ----------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& call, int error_number = errno) {
    std::fprintf(stderr, "bench-suite: %s: %s\n", call.c_str(), std::strerror(error_number));
    std::exit(1);
}

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr,
                 "bench-suite: %s\n"
                 "usage: bench-suite --programs DIR --server PATH --output FILE.md\n"
                 "                   [--chart FILE.svg --chart-script FILE.gp] [--note TEXT]\n"
                 "                   [--delay-ms MS] [--sizes N,N,...] [--runs R]\n"
                 "                   [--runs-large R] [--thread-runs R] [--smoke]\n",
                 message.c_str());
    std::exit(2);
}

// printf into a std::string (GCC 12 has no std::format yet).
template <typename... Values>
std::string format(const char* pattern, Values... values) {
    const int size = std::snprintf(nullptr, 0, pattern, values...);
    std::string text(static_cast<std::size_t>(std::max(size, 0)), '\0');
    std::snprintf(text.data(), text.size() + 1, pattern, values...);
    return text;
}

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        fail("write " + path);
    }
}

// The first line of `text` that starts with `prefix`, without the prefix; "" if none.
std::string line_after(const std::string& text, std::string_view prefix) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(prefix)) {
            return line.substr(prefix.size());
        }
    }
    return "";
}

// 10000 -> "10,000": the sizes are read by people.
std::string with_commas(long value) {
    const std::string digits = std::to_string(value);
    std::string text;
    for (std::size_t index = 0; index < digits.size(); ++index) {
        if (index > 0 && digits[index - 1] != '-' && (digits.size() - index) % 3 == 0) {
            text += ',';
        }
        text += digits[index];
    }
    return text;
}

// ----------------------------------------------------------------------------------------
// The command line
// ----------------------------------------------------------------------------------------

struct Options {
    std::string programs;
    std::string server;
    std::string output;
    std::string chart;
    std::string chart_script;
    std::string note;
    int delay_ms = 1000;
    std::vector<int> sizes = {5, 100, 1000, 10000};
    int runs = 5;
    int runs_large = 3;
    int thread_runs = 5;
    bool smoke = false;
};

int parse_number(std::string_view text, std::string_view what, int lowest, int highest) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        value < lowest || value > highest) {
        usage_error(std::string(what) + " needs a whole number from " + std::to_string(lowest) +
                    " to " + std::to_string(highest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--smoke") {
            options.smoke = true;
            options.sizes = {5, 50};
            options.delay_ms = 200;
            options.runs = options.runs_large = options.thread_runs = 1;
            continue;
        }
        if (index + 1 >= argc) {
            usage_error("unknown option or missing value: '" + std::string(flag) + "'");
        }
        const std::string value = argv[++index];
        if (flag == "--programs") {
            options.programs = value;
        } else if (flag == "--server") {
            options.server = value;
        } else if (flag == "--output") {
            options.output = value;
        } else if (flag == "--chart") {
            options.chart = value;
        } else if (flag == "--chart-script") {
            options.chart_script = value;
        } else if (flag == "--note") {
            options.note = value;
        } else if (flag == "--delay-ms") {
            options.delay_ms = parse_number(value, flag, 1, 60000);
        } else if (flag == "--runs") {
            options.runs = parse_number(value, flag, 1, 100);
        } else if (flag == "--runs-large") {
            options.runs_large = parse_number(value, flag, 1, 100);
        } else if (flag == "--thread-runs") {
            options.thread_runs = parse_number(value, flag, 1, 100);
        } else if (flag == "--sizes") {
            options.sizes.clear();
            std::istringstream list(value);
            for (std::string size; std::getline(list, size, ',');) {
                options.sizes.push_back(parse_number(size, "--sizes", 1, 100000));
            }
        } else {
            usage_error("unknown option '" + std::string(flag) + "'");
        }
    }
    if (options.programs.empty() || options.server.empty() || options.output.empty()) {
        usage_error("--programs, --server and --output are required");
    }
    if (options.chart.empty() != options.chart_script.empty()) {
        usage_error("--chart and --chart-script go together");
    }
    std::sort(options.sizes.begin(), options.sizes.end());
    return options;
}

// ----------------------------------------------------------------------------------------
// Running one program
// ----------------------------------------------------------------------------------------

// Where the programs' output goes (a fresh folder under /tmp), and the server that is
// running, to be stopped if the suite ends early.
std::string work_folder;
pid_t running_server = 0;

double milliseconds(const timeval& time) {
    return static_cast<double>(time.tv_sec) * 1000.0 + static_cast<double>(time.tv_usec) / 1000.0;
}

struct Finished {
    int status = 0;  // from wait4
    bool timed_out = false;
    rusage usage{};
    std::string output;  // what it wrote to stdout
    std::string errors;  // and to stderr

    bool succeeded() const {
        return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    double cpu_ms() const {
        return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
    }
    std::string how_it_ended() const {
        if (timed_out) {
            return "killed after the time limit";
        }
        if (WIFSIGNALED(status)) {
            return std::string("killed by signal ") + strsignal(WTERMSIG(status));
        }
        std::string text = format("exit status %d", WEXITSTATUS(status));
        const std::string first_error = errors.substr(0, errors.find('\n'));
        return first_error.empty() ? text : text + ": " + first_error;
    }
};

pid_t spawn(const std::vector<std::string>& arguments, const std::string& stdout_path,
            const std::string& stderr_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t child = 0;
    // posix_spawnp returns an error number instead of setting errno.
    const int error = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
        fail("cannot start " + arguments[0], error);
    }
    return child;
}

// Runs a program to its end, or kills it after `limit`; returns how it ended and what the
// kernel counted for it (CPU time in struct rusage).
Finished run_program(const std::vector<std::string>& arguments, std::chrono::seconds limit) {
    const std::string stdout_path = work_folder + "/stdout.txt";
    const std::string stderr_path = work_folder + "/stderr.txt";
    const pid_t child = spawn(arguments, stdout_path, stderr_path);
    // A pidfd becomes readable when the process ends: poll() on it waits with a time limit,
    // which waitpid() cannot. (pidfd_open: Linux 5.3; glibc wraps it only since 2.36.)
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
    if (pidfd < 0) {
        fail("pidfd_open");
    }
    Finished finished;
    const Clock::time_point deadline = Clock::now() + limit;
    while (true) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd ended = {pidfd, POLLIN, 0};
        const int ready = poll(&ended, 1, static_cast<int>(std::max<long>(left.count(), 0)));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            fail("poll");
        }
        if (ready == 0) {
            finished.timed_out = true;
            if (kill(child, SIGKILL) != 0) {
                fail("kill");
            }
        }
        break;
    }
    if (close(pidfd) != 0) {
        fail("close");
    }
    while (wait4(child, &finished.status, 0, &finished.usage) < 0) {
        if (errno != EINTR) {
            fail("wait4");
        }
    }
    finished.output = read_file(stdout_path);
    finished.errors = read_file(stderr_path);
    return finished;
}

// The `result name=value ...` line the bench programs end with.
std::map<std::string, std::string> parse_result(const std::string& output) {
    std::map<std::string, std::string> values;
    std::istringstream words(line_after(output, "result "));
    for (std::string word; words >> word;) {
        const std::size_t equals = word.find('=');
        if (equals != std::string::npos) {
            values[word.substr(0, equals)] = word.substr(equals + 1);
        }
    }
    return values;
}

double number(const std::map<std::string, std::string>& values, const std::string& name) {
    const auto found = values.find(name);
    return found == values.end() ? std::nan("") : std::strtod(found->second.c_str(), nullptr);
}

// ----------------------------------------------------------------------------------------
// Statistics: the median, min and max over the runs
// ----------------------------------------------------------------------------------------

struct Summary {
    double median = std::nan("");
    double min = std::nan("");
    double max = std::nan("");
    int count = 0;
};

Summary summarize(std::vector<double> values) {
    std::erase_if(values, [](double value) { return std::isnan(value); });
    Summary summary;
    summary.count = static_cast<int>(values.size());
    if (values.empty()) {
        return summary;
    }
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    summary.median =
        values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    summary.min = values.front();
    summary.max = values.back();
    return summary;
}

// "1.02 (1.01–1.04)": the median, then the smallest and largest run, with `decimals`.
std::string cell(const Summary& summary, int decimals) {
    if (summary.count == 0) {
        return "-";
    }
    if (summary.count == 1) {
        return format("%.*f", decimals, summary.median);
    }
    return format("%.*f (%.*f–%.*f)", decimals, summary.median, decimals, summary.min, decimals,
                  summary.max);
}

// "3%" for how far `value` is from `reference`, either way.
double percent_apart(double value, double reference) {
    return std::fabs(value - reference) / reference * 100;
}

// ----------------------------------------------------------------------------------------
// The machine
// ----------------------------------------------------------------------------------------

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

std::string first_word(const std::string& text) {
    return text.substr(0, text.find_first_of(" \n"));
}

Machine describe_machine() {
    Machine machine;
    const std::string cpuinfo = read_file("/proc/cpuinfo");
    machine.cpu = line_after(cpuinfo, "model name\t: ");
    if (machine.cpu.empty()) {
        machine.cpu = "unknown (no model name in /proc/cpuinfo)";
    }
    machine.cores = sysconf(_SC_NPROCESSORS_ONLN);
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

// ----------------------------------------------------------------------------------------
// 1. Thread costs
// ----------------------------------------------------------------------------------------

struct ThreadCosts {
    std::map<std::string, std::vector<double>> values;  // measurement -> one value per run
    std::string default_stack_kib;
    std::string small_stack_kib;
    int idle_threads = 0;
    std::vector<std::string> problems;
};

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
    costs.default_stack_kib = format("%.0f", summarize(costs.values["default stack"]).median);
    costs.small_stack_kib = format("%.0f", summarize(costs.values["small stack"]).median);
    return costs;
}

// ----------------------------------------------------------------------------------------
// 2. System call cost
// ----------------------------------------------------------------------------------------

struct SyscallCosts {
    bool measured = false;
    bool built = true;  // false: skipped because the program is not there
    std::string skipped_because;
    std::map<std::string, std::vector<double>> nanoseconds;  // benchmark -> one per repetition
};

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

// ----------------------------------------------------------------------------------------
// 3. The scale test: the delay server, and the four clients
// ----------------------------------------------------------------------------------------

// A delay server on a free port, for one run of one client.
class DelayServer {
  public:
    explicit DelayServer(const std::string& program) {
        log_path_ = work_folder + "/server.log";
        pid_ = spawn({program, "--host", "127.0.0.1", "--port", "0"}, log_path_,
                     work_folder + "/server-errors.log");
        running_server = pid_;
        // Port 0: the OS picks a free port, and the server's first line says which one.
        // Its standard output is a file (a pipe nobody reads would fill up at N = 10,000
        // log lines and stop the server), so read the file until the line is there.
        const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);
        while (address_.empty()) {
            const std::string log = read_file(log_path_);
            const std::size_t end = log.find('\n');
            if (end != std::string::npos && log.starts_with("listening on ")) {
                address_ = log.substr(13, end - 13);
                break;
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                running_server = 0;
                std::fprintf(stderr, "bench-suite: the delay server ended before listening:\n%s",
                             read_file(work_folder + "/server-errors.log").c_str());
                std::exit(1);
            }
            if (Clock::now() > deadline) {
                std::fprintf(stderr, "bench-suite: the delay server did not report its port\n");
                std::exit(1);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    DelayServer(const DelayServer&) = delete;
    DelayServer& operator=(const DelayServer&) = delete;

    ~DelayServer() {
        if (pid_ != 0) {
            stop();
        }
    }

    // SIGTERM: the server's documented way to stop (exit status 0). Returns the CPU time
    // (user + system) the server used, from wait4.
    double stop() {
        if (kill(pid_, SIGTERM) != 0) {
            fail("kill");
        }
        int status = 0;
        rusage usage{};
        while (wait4(pid_, &status, 0, &usage) < 0) {
            if (errno != EINTR) {
                fail("wait4");
            }
        }
        pid_ = 0;
        running_server = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "bench-suite: warning: the delay server ended badly (%d)\n",
                         status);
        }
        return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
    }

    const std::string& address() const {
        return address_;
    }

  private:
    pid_t pid_ = 0;
    std::string log_path_;
    std::string address_;
};

struct Way {
    std::string key;      // in the chart data
    std::string program;  // in --programs
    std::string label;    // in the report
};

const std::vector<Way> all_ways = {
    {"threads", "bench-scale-threads", "thread per request"},
    {"epoll", "bench-scale-epoll", "raw epoll"},
    {"asio", "bench-scale-asio", "Asio"},
    {"libuv", "bench-scale-libuv", "libuv"},
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

    std::vector<double> values(const std::string& way, int size, double ScaleRun::*field) const {
        std::vector<double> collected;
        const auto found = runs.find({way, size});
        if (found != runs.end()) {
            for (const ScaleRun& run : found->second) {
                collected.push_back(run.*field);
            }
        }
        return collected;
    }
    Summary summary(const std::string& way, int size, double ScaleRun::*field) const {
        return summarize(values(way, size, field));
    }
    long failed(const std::string& way, int size) const {
        long total = 0;
        const auto found = runs.find({way, size});
        if (found != runs.end()) {
            for (const ScaleRun& run : found->second) {
                total += run.failed;
            }
        }
        return total;
    }
    bool has(const std::string& way, int size) const {
        return runs.contains({way, size});
    }
};

ScaleRun run_client(const Options& options, const Way& way, int size) {
    DelayServer server(options.server);
    const Finished finished =
        run_program({options.programs + "/" + way.program, server.address(), "--requests",
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

ScaleResults measure_scale(const Options& options) {
    ScaleResults results;
    if (access(options.server.c_str(), X_OK) != 0) {
        results.skipped_because = "the delay server " + options.server + " was not built";
        return results;
    }
    for (const Way& way : all_ways) {
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

// ----------------------------------------------------------------------------------------
// 4. The report
// ----------------------------------------------------------------------------------------

// A paragraph of prose, wrapped at 96 columns (Markdown joins the lines again).
std::string paragraph(const std::string& text) {
    std::string wrapped;
    std::size_t line_length = 0;
    std::istringstream words(text);
    for (std::string word; words >> word;) {
        if (line_length > 0 && line_length + 1 + word.size() > 96) {
            wrapped += '\n';
            line_length = 0;
        } else if (line_length > 0) {
            wrapped += ' ';
            ++line_length;
        }
        wrapped += word;
        line_length += word.size();
    }
    return wrapped + "\n\n";
}

std::string join(const std::vector<std::string>& parts) {
    std::string text;
    for (const std::string& part : parts) {
        text += (text.empty() ? "" : "; ") + part;
    }
    return text;
}

// "5 runs", "1 run".
std::string count_of(int count, const char* noun) {
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

struct Verdict {
    std::string target;
    std::string measured;
    std::string outcome;  // "met", "missed: why", "not measured"
};

// Builds docs/benchmarks.md from the three sets of results. Every number in it comes from
// this run; the sentences around the numbers are chosen by what was measured (a target met
// or missed, a library skipped).
class Report {
  public:
    Report(const Options& options, const Machine& machine, const ThreadCosts& threads,
           const SyscallCosts& syscalls, const ScaleResults& scale)
        : options_(options),
          machine_(machine),
          threads_(threads),
          syscalls_(syscalls),
          scale_(scale) {}

    std::string write(const std::string& elapsed, const std::string& load_at_end) const {
        return header(elapsed, load_at_end) + targets_section() + thread_section() +
               syscall_section() + scale_section() + methods_section();
    }

    bool all_requests_succeeded() const {
        for (const auto& [key, runs] : scale_.runs) {
            for (const ScaleRun& run : runs) {
                if (run.failed > 0) {
                    return false;
                }
            }
        }
        return true;
    }

  private:
    std::string header(const std::string& elapsed, const std::string& load_at_end) const {
        std::string text =
            "# Benchmarks: the chapter's claims, measured\n\n"
            "<!-- Written by bench/run (bench/suite.cpp). Run it again rather than edit this "
            "file. -->\n\n";
        text += paragraph(
            "The book's chapters 2 and 3 make three claims: OS threads cost memory and time to "
            "create and to switch between; an OS event queue lets one thread wait on thousands "
            "of sockets; and libraries such as Asio and libuv are built on those same queues. "
            "This page puts numbers on them, measured on one machine by one command:");
        text += "```sh\nbench/run\n```\n\n";
        text += paragraph(
            "It installs what is missing, builds [bench/](../bench/README.md) in Release mode, "
            "runs every measurement as its own process and rewrites this page and its chart. "
            "Everything below is from one run on the machine described here; on yours the "
            "absolute numbers will differ.");
        text += "| the run | |\n|---|---|\n";
        text += "| date | " + machine_.date + " |\n";
        text += format("| CPU | %s, %ld cores online |\n", machine_.cpu.c_str(), machine_.cores);
        text += "| kernel | " + machine_.kernel + " |\n";
        text += "| memory | " + machine_.memory + " |\n";
        text += "| open-file limit | " + machine_.open_file_limit + " |\n";
        text += "| thread limits | " + machine_.thread_limits + " |\n";
        text += std::string("| build | ") + BENCH_BUILD + " |\n";
        if (std::string_view(BENCH_LIBRARIES).size() > 0) {
            text +=
                std::string("| libraries | ") + BENCH_LIBRARIES + " (the system's packages) |\n";
        }
        text += "| load average (1 min) | " + machine_.load_at_start + " at the start, " +
                load_at_end + " at the end |\n";
        text += "| the measurements took | " + elapsed + " |\n";
        if (!options_.note.empty()) {
            text += "| note | " + options_.note + " |\n";
        }
        text += "\n" + paragraph(
                           "Each cell is the median of the runs, with the smallest and "
                           "largest run in brackets, as in 1.02 (1.01–1.04). Thread "
                           "measurements: " +
                           count_of(options_.thread_runs, "run") +
                           " each. System call "
                           "benchmarks: " +
                           count_of(syscall_repetitions(options_), "repetition") +
                           " each. Scale test: " + count_of(options_.runs, "run") + " per N, " +
                           count_of(options_.runs_large, "run") + " at N = 10,000 and above.");
        return text;
    }

    // ---- the targets ----

    std::string targets_section() const {
        std::string text =
            "## The targets\n\n" +
            paragraph(
                "What the project set out to show, and what this run measured (medians). "
                "Where a target is missed, the last column says why, from the same run's "
                "numbers.") +
            "| target | measured | outcome |\n|---|---|---|\n";
        for (const Verdict& verdict : verdicts()) {
            text +=
                "| " + verdict.target + " | " + verdict.measured + " | " + verdict.outcome + " |\n";
        }
        return text + "\n";
    }

    std::vector<Verdict> verdicts() const {
        std::vector<Verdict> verdicts;
        verdicts.push_back(epoll_at_scale_verdict());
        verdicts.push_back(memory_ratio_verdict());
        for (const std::string library : {"asio", "libuv"}) {
            const auto [wall, memory] = library_verdicts(library);
            verdicts.push_back(wall);
            verdicts.push_back(memory);
        }
        verdicts.push_back(syscall_verdict());
        return verdicts;
    }

    static constexpr int large = 10000;

    // Raw epoll at N = 10,000: within 1.2x of the delay, no failures.
    Verdict epoll_at_scale_verdict() const {
        Verdict verdict{
            "Raw epoll at N = 10,000, one thread: wall within 1.2x of the delay, "
            "zero failures",
            "", "not measured"};
        if (!scale_.has("epoll", large)) {
            return verdict;
        }
        const Summary wall = scale_.summary("epoll", large, &ScaleRun::wall_ratio);
        const long failed = scale_.failed("epoll", large);
        verdict.measured = format("%.2fx (%.2f–%.2f), ", wall.median, wall.min, wall.max) +
                           with_commas(failed) + " failed";
        if (wall.median <= 1.2 && failed == 0) {
            verdict.outcome = "met";
            return verdict;
        }
        verdict.outcome = "missed";
        if (wall.median > 1.2) {
            verdict.outcome += format(
                ": sending all 10,000 requests took %.0f ms, and the slowest answer came %.0f ms "
                "after its request, for a delay of %d ms. The time beyond the delay is work per "
                "connection done in turn: the client's one thread opening 10,000 connections, "
                "the server's one thread accepting, reading and answering them (see \"Where the "
                "time goes\"), on %ld cores whose load average was %s when the run began",
                median("epoll", large, &ScaleRun::sent_ms),
                median("epoll", large, &ScaleRun::slowest_ms), options_.delay_ms, machine_.cores,
                machine_.load_at_start.c_str());
        }
        if (failed > 0) {
            verdict.outcome += "; the failures are listed under the scale table";
        }
        return verdict;
    }

    // Raw epoll's peak memory at most a tenth of thread per request's.
    Verdict memory_ratio_verdict() const {
        Verdict verdict{
            "Raw epoll peak memory at N = 10,000 at most 1/10 of thread per "
            "request's",
            "", "not measured"};
        if (!scale_.has("epoll", large) || !scale_.has("threads", large)) {
            return verdict;
        }
        const double epoll = median("epoll", large, &ScaleRun::peak_mib);
        const double threads = median("threads", large, &ScaleRun::peak_mib);
        verdict.measured =
            format("%.1f MiB against %.1f MiB: 1/%.0f", epoll, threads, threads / epoll);
        verdict.outcome = epoll * 10 <= threads ? "met" : "missed";
        if (epoll * 10 > threads) {
            verdict.outcome += ": each thread touched only a few pages of its " +
                               threads_.small_stack_kib +
                               " KiB stack, and the kernel's share of a thread (section 1) is "
                               "in no process's resident memory";
            if (scale_.failed("threads", large) > 0) {
                verdict.outcome += "; and some threads were never created (see the failures)";
            }
        }
        return verdict;
    }

    // Raw epoll within 10% of the library's wall time at every N, and not more memory.
    std::pair<Verdict, Verdict> library_verdicts(const std::string& library) const {
        Verdict wall{"Raw epoll wall within 10% of " + label(library) + "'s at every N", "",
                     "not measured"};
        Verdict memory{"Raw epoll peak memory not above " + label(library) + "'s at every N", "",
                       "not measured"};
        std::vector<std::string> wall_values, wall_misses, memory_values, memory_misses;
        for (const int size : options_.sizes) {
            if (!scale_.has("epoll", size) || !scale_.has(library, size)) {
                continue;
            }
            const std::string n = "N = " + with_commas(size);
            const Summary epoll_wall = scale_.summary("epoll", size, &ScaleRun::wall_ratio);
            const Summary library_wall = scale_.summary(library, size, &ScaleRun::wall_ratio);
            const double apart = percent_apart(epoll_wall.median, library_wall.median);
            wall_values.push_back(
                format("%s: %.2fx vs %.2fx", n.c_str(), epoll_wall.median, library_wall.median));
            if (apart > 10) {
                const bool overlap =
                    epoll_wall.min <= library_wall.max && library_wall.min <= epoll_wall.max;
                wall_misses.push_back(format(
                    "at %s raw epoll was %.0f%% %s; its requests were all sent after %.0f ms, "
                    "%s's after %.0f ms%s",
                    n.c_str(), apart, epoll_wall.median > library_wall.median ? "slower" : "faster",
                    median("epoll", size, &ScaleRun::sent_ms), label(library).c_str(),
                    median(library, size, &ScaleRun::sent_ms),
                    overlap ? "; the runs' ranges overlap, so this is within the run-to-run noise"
                            : ""));
            }
            const double epoll_mib = median("epoll", size, &ScaleRun::peak_mib);
            const double library_mib = median(library, size, &ScaleRun::peak_mib);
            memory_values.push_back(
                format("%s: %.1f vs %.1f MiB", n.c_str(), epoll_mib, library_mib));
            if (epoll_mib > library_mib) {
                memory_misses.push_back(format("at %s raw epoll held %.2f MiB more", n.c_str(),
                                               epoll_mib - library_mib));
            }
        }
        if (!wall_values.empty()) {
            wall.measured = join(wall_values);
            wall.outcome = wall_misses.empty() ? "met" : "missed: " + join(wall_misses);
            memory.measured = join(memory_values);
            memory.outcome = memory_misses.empty() ? "met" : "missed: " + join(memory_misses);
        }
        return {wall, memory};
    }

    // The raw system call and libc's write within 10% of each other.
    Verdict syscall_verdict() const {
        Verdict verdict{"Raw system call and libc `write` within 10% of each other per call", "",
                        "not measured"};
        if (!syscalls_.measured) {
            return verdict;
        }
        const double raw = summarize(syscalls_.nanoseconds.at("raw_syscall_write")).median;
        const double libc = summarize(syscalls_.nanoseconds.at("libc_write")).median;
        verdict.measured =
            format("%.1f ns vs %.1f ns (%.1f%% apart)", raw, libc, percent_apart(raw, libc));
        if (percent_apart(raw, libc) <= 10) {
            verdict.outcome = "met";
        } else if (libc > raw) {
            verdict.outcome =
                format("missed: libc's wrapper added %.1f ns to each call", libc - raw);
        } else {
            // libc runs the same instruction and more: a faster libc is not work it saves.
            verdict.outcome = format(
                "missed: libc's `write` came out %.1f ns faster, although it runs the same "
                "instruction inside a wrapper; the difference comes from the measurement "
                "(other work on the machine, where the code sits in memory), not from work "
                "libc saves",
                raw - libc);
        }
        return verdict;
    }

    // ---- 1. threads ----

    Summary thread_value(const std::string& name) const {
        const auto found = threads_.values.find(name);
        return found == threads_.values.end() ? Summary{} : summarize(found->second);
    }

    std::string thread_section() const {
        std::string text = "## 1. What an OS thread costs\n\n";
        const Summary spawn = thread_value("spawn");
        if (spawn.count == 0) {
            return text + paragraph("Not measured: " + join(threads_.problems));
        }
        Summary spawn_us = spawn;
        spawn_us.median /= 1000;
        spawn_us.min /= 1000;
        spawn_us.max /= 1000;
        const Summary rss_default = thread_value("idle default rss");
        const Summary virtual_default = thread_value("idle default virtual");
        const Summary kernel = thread_value("idle default kernel");
        const Summary rss_small = thread_value("idle small rss");
        const Summary virtual_small = thread_value("idle small virtual");
        const Summary pipe = thread_value("switch pipe");
        const Summary futex = thread_value("switch futex");
        const std::string parked = with_commas(threads_.idle_threads) + " parked threads";
        text += "[Source](../bench/thread_costs.cpp).\n\n";
        text += "| measurement | median (min–max) |\n|---|---|\n";
        text += "| start and join one thread (`std::thread`), µs | " + cell(spawn_us, 1) + " |\n";
        text += "| resident memory per thread, " + parked + ", default stack (" +
                threads_.default_stack_kib + " KiB), KiB | " + cell(rss_default, 1) + " |\n";
        text += "| address space per thread, the same, KiB | " + cell(virtual_default, 0) + " |\n";
        text += "| resident memory per thread, " + parked + ", " + threads_.small_stack_kib +
                " KiB stack, KiB | " + cell(rss_small, 1) + " |\n";
        text += "| address space per thread, the same, KiB | " + cell(virtual_small, 0) + " |\n";
        text += "| kernel stack per thread (machine-wide `KernelStack`), KiB | " + cell(kernel, 1) +
                " |\n";
        text += "| context switch between two threads on one CPU, through a pipe, ns | " +
                cell(pipe, 0) + " |\n";
        text += "| context switch, the same, through a futex, ns | " + cell(futex, 0) + " |\n\n";
        if (!threads_.problems.empty()) {
            text += paragraph("Runs that failed: " + join(threads_.problems) + ".");
        }
        std::string reading = format(
            "**Reading.** Starting and joining one thread that does nothing took %.1f µs. A "
            "parked thread held %.1f KiB of resident memory with the default stack and %.1f KiB "
            "with a %s KiB stack: only the pages it touched. But it reserved its whole stack as "
            "address space (%.0f KiB by default), and the kernel's own stacks grew by %.1f KiB "
            "per thread, memory that no process's resident size shows. Handing control from one "
            "thread to another on the same CPU took %.0f ns through a pipe and %.0f ns through a "
            "futex, including the system calls that wake one thread and put the other to sleep.",
            spawn_us.median, rss_default.median, rss_small.median, threads_.small_stack_kib.c_str(),
            virtual_default.median, kernel.median, pipe.median, futex.median);
        if (syscalls_.measured) {
            const double syscall_ns =
                summarize(syscalls_.nanoseconds.at("raw_syscall_write")).median;
            reading += format(
                " For scale: one bare system call took %.0f ns (section 2), so starting a thread "
                "cost as much as about %.0f system calls, and one switch about %.0f.",
                syscall_ns, spawn.median / syscall_ns, futex.median / syscall_ns);
        }
        return text + paragraph(reading);
    }

    // ---- 2. system calls ----

    std::string syscall_section() const {
        std::string text = "## 2. One system call, three ways\n\n";
        if (!syscalls_.measured) {
            return text + paragraph("Not measured: " + syscalls_.skipped_because + ".");
        }
        const Summary raw = summarize(syscalls_.nanoseconds.at("raw_syscall_write"));
        const Summary libc = summarize(syscalls_.nanoseconds.at("libc_write"));
        const Summary stdio = summarize(syscalls_.nanoseconds.at("fwrite_fflush"));
        text += paragraph(
            "`write` of one byte to /dev/null, CPU time per call, as Google Benchmark measures "
            "it ([source](../bench/syscall_cost.cpp)).");
        text +=
            "| path | ns per call, median (min–max) | compared with the raw system call |\n"
            "|---|---|---|\n";
        text += "| raw `syscall` instruction (ch03-raw-syscalls' `raw_write`) | " + cell(raw, 1) +
                " | 1.00x |\n";
        text += "| libc `write`, declared by hand (ch03-ffi's `foreign_unix.h`) | " +
                cell(libc, 1) + format(" | %.2fx |\n", libc.median / raw.median);
        text += "| `std::fwrite` + `std::fflush` | " + cell(stdio, 1) +
                format(" | %.2fx |\n\n", stdio.median / raw.median);
        const std::string wrapper =
            libc.median >= raw.median
                ? format("libc's wrapper around it added %.1f ns", libc.median - raw.median)
                : format(
                      "libc's wrapper around it added nothing measurable (libc came out "
                      "%.1f ns faster)",
                      raw.median - libc.median);
        text += paragraph(format(
            "**Reading.** The raw system call and libc's `write` took %.1f and %.1f ns per call, "
            "%.1f%% apart: almost all of the time is the trip into the kernel and back, which "
            "both make with the same instruction; %s. `fwrite` + `fflush` took %.1f ns, %.0f%% "
            "more than libc's `write`: stdio's bookkeeping, then the same system call.",
            raw.median, libc.median, percent_apart(raw.median, libc.median), wrapper.c_str(),
            stdio.median, (stdio.median / libc.median - 1) * 100));
        return text;
    }

    // ---- 3. scale ----

    std::string scale_section() const {
        std::string text = "## 3. N waiting requests, four ways\n\n";
        if (!scale_.measured) {
            return text + paragraph("Not measured: " + scale_.skipped_because + ".");
        }
        text += paragraph(format(
            "Each client sends N requests `GET /%d/bench-{i}` to the [delay "
            "server](../delayserver/README.md) at once (every request waits %d ms in the "
            "server) and waits for all N answers. Wall time is from just before the first "
            "connect to the last answer, divided by the delay: 1.00 means all N waited at the "
            "same time. Peak memory is the client's VmHWM (the most resident memory it ever "
            "held); CPU time is user + system time of the whole client process. Thread per "
            "request gives each thread a %s KiB stack.",
            options_.delay_ms, options_.delay_ms, threads_.small_stack_kib.c_str()));
        if (!scale_.skipped_ways.empty()) {
            text += paragraph("Skipped: " + join(scale_.skipped_ways) + ".");
        }
        text +=
            "| N | way | wall / delay | peak memory, MiB | CPU time, ms | failed requests "
            "|\n|---|---|---|---|---|---|\n";
        for (const int size : options_.sizes) {
            for (const Way& way : scale_.ways) {
                if (!scale_.has(way.key, size)) {
                    continue;
                }
                const long failed = scale_.failed(way.key, size);
                const long sent = size * static_cast<long>(scale_.runs.at({way.key, size}).size());
                text += "| " + with_commas(size) + " | " + way.label + " | " +
                        cell(scale_.summary(way.key, size, &ScaleRun::wall_ratio), 2) + " | " +
                        cell(scale_.summary(way.key, size, &ScaleRun::peak_mib), 1) + " | " +
                        cell(scale_.summary(way.key, size, &ScaleRun::cpu_ms), 0) + " | " +
                        (failed == 0 ? std::string("0")
                                     : with_commas(failed) + " of " + with_commas(sent)) +
                        " |\n";
            }
        }
        text += "\n" + failure_notes();
        if (!options_.chart.empty()) {
            const std::string name = options_.chart.substr(options_.chart.rfind('/') + 1);
            text += "![Peak memory and wall time against N for the four ways](" + name + ")\n\n";
        }
        text += scale_reading();
        text += time_section();
        return text;
    }

    std::string failure_notes() const {
        std::string text;
        for (const auto& [key, runs] : scale_.runs) {
            for (std::size_t run = 0; run < runs.size(); ++run) {
                if (runs[run].failed > 0) {
                    text += "- " + label(key.first) + ", N = " + with_commas(key.second) +
                            format(", run %zu: ", run + 1) + runs[run].failure_reasons + "\n";
                }
            }
        }
        return text.empty() ? ""
                            : "Why requests failed, as the clients reported it:\n\n" + text + "\n";
    }

    std::string scale_reading() const {
        const int largest = options_.sizes.back();
        const int smallest = options_.sizes.front();
        const std::string n = with_commas(largest);
        std::string reading = "**Reading.**";
        if (scale_.has("epoll", largest)) {
            reading += format(
                " At N = %s one thread waiting on epoll got every answer in %.2fx the delay, "
                "with %s failed requests.",
                n.c_str(), median("epoll", largest, &ScaleRun::wall_ratio),
                with_commas(scale_.failed("epoll", largest)).c_str());
        }
        if (scale_.has("threads", largest)) {
            reading += format(
                " %s threads, one per request, took %.2fx with %s failed; their process "
                "peaked at %.1f MiB and used %.0f ms of CPU time",
                n.c_str(), median("threads", largest, &ScaleRun::wall_ratio),
                with_commas(scale_.failed("threads", largest)).c_str(),
                median("threads", largest, &ScaleRun::peak_mib),
                median("threads", largest, &ScaleRun::cpu_ms));
            reading += scale_.has("epoll", largest)
                           ? format(", raw epoll's %.1f MiB and %.0f ms.",
                                    median("epoll", largest, &ScaleRun::peak_mib),
                                    median("epoll", largest, &ScaleRun::cpu_ms))
                           : ".";
            const Summary kernel = thread_value("idle default kernel");
            if (kernel.count > 0) {
                reading += format(
                    " Not in those figures: the kernel stack of every thread, %.1f KiB each in "
                    "section 1, about %.0f MiB more for %s threads.",
                    kernel.median, kernel.median * largest / 1024, n.c_str());
            }
        }
        // Per request: what each client holds at the largest N beyond what it holds at the
        // smallest, divided by the requests added.
        std::vector<std::string> per_request;
        for (const Way& way : scale_.ways) {
            if (largest > smallest && scale_.has(way.key, largest) &&
                scale_.has(way.key, smallest)) {
                const double kib = (median(way.key, largest, &ScaleRun::peak_mib) -
                                    median(way.key, smallest, &ScaleRun::peak_mib)) *
                                   1024 / (largest - smallest);
                per_request.push_back(format("%s %.2f KiB", way.label.c_str(), kib));
            }
        }
        if (!per_request.empty()) {
            reading += format(
                " Memory per waiting request (peak at N = %s minus peak at N = %s, divided by "
                "the requests added): %s.",
                n.c_str(), with_commas(smallest).c_str(), join(per_request).c_str());
        }
        if (scale_.has("asio", largest) || scale_.has("libuv", largest)) {
            reading +=
                " Asio and libuv wait on the same epoll as the raw loop; the targets "
                "above compare them with it at every N.";
        }
        return paragraph(reading);
    }

    // Where the time beyond the delay goes, at the largest N: opening the connections (the
    // client) and working through them (the server, one thread).
    std::string time_section() const {
        const int largest = options_.sizes.back();
        std::string text = "### Where the time goes at N = " + with_commas(largest) + "\n\n";
        text +=
            "| way | all requests sent after, ms | slowest answer after its request, ms | "
            "client CPU, ms | server CPU, ms |\n|---|---|---|---|---|\n";
        for (const Way& way : scale_.ways) {
            if (!scale_.has(way.key, largest)) {
                continue;
            }
            text += "| " + way.label + " | " +
                    cell(scale_.summary(way.key, largest, &ScaleRun::sent_ms), 0) + " | " +
                    cell(scale_.summary(way.key, largest, &ScaleRun::slowest_ms), 0) + " | " +
                    cell(scale_.summary(way.key, largest, &ScaleRun::cpu_ms), 0) + " | " +
                    cell(scale_.summary(way.key, largest, &ScaleRun::server_cpu_ms), 0) + " |\n";
        }
        text += "\n";
        if (scale_.has("epoll", largest)) {
            const double sent = median("epoll", largest, &ScaleRun::sent_ms);
            const double slowest = median("epoll", largest, &ScaleRun::slowest_ms);
            text += paragraph(format(
                "**Reading.** The wall time is about the time to send the last request plus that "
                "request's wait. For raw epoll: %.0f ms to open %s connections and send on each, "
                "one after another on the client's one thread, and at most %.0f ms from a "
                "request to its answer, %.0f ms more than the delay: time a request spent queued "
                "behind the others, in the server's one thread (accepting, reading, answering) "
                "or in the client's (reading answers). Both are work per connection done in "
                "turn; they grow with N, the delay does not.",
                sent, with_commas(largest).c_str(), slowest, slowest - options_.delay_ms));
        }
        return text;
    }

    // ---- how it is measured ----

    std::string methods_section() const {
        std::string text = "## How the numbers are made\n\n";
        const std::vector<std::string> items = {
            "Every measurement is a separate process started by "
            "[bench-suite](../bench/suite.cpp), so each has its own peak memory and nothing is "
            "left over from the one before.",
            "Thread costs ([thread_costs.cpp](../bench/thread_costs.cpp)): start and join 2,000 "
            "threads one after another and take the median; park 1,000 threads on a condition "
            "variable and divide the growth of VmRSS, VmSize (/proc/self/status) and "
            "KernelStack (/proc/meminfo, machine-wide, so other work on the machine can move "
            "it) by 1,000; pin two threads to one CPU and hand a token back and forth 50,000 "
            "times.",
            "System calls ([syscall_cost.cpp](../bench/syscall_cost.cpp)): compiled with "
            "[raw_write_linux_x86_64.cpp](../ch03-raw-syscalls/raw_write_linux_x86_64.cpp) (or "
            "the aarch64 file) and [foreign_unix.h](../ch03-ffi/foreign_unix.h) as they are; "
            "Google Benchmark chooses the number of calls (at least 0.1 s per repetition) and "
            "runs the repetitions of the three in random order "
            "(`--benchmark_enable_random_interleaving`), so a change in the machine's load "
            "hits all three alike. "
            "Debian's libbenchmark warns that it was built as DEBUG; the timed loop is compiled "
            "into the Release program, only the harness around it is the library's.",
            format("Scale test: for each N and run, a fresh delay server on a free port, then "
                   "one client: [scale_threads.cpp](../bench/scale_threads.cpp) (blocking "
                   "sockets, one pthread per request), [scale_epoll.cpp](../bench/scale_epoll.cpp) "
                   "(non-blocking sockets, one edge-triggered epoll loop, as in ch03-epoll), "
                   "[scale_asio.cpp](../bench/scale_asio.cpp) (standalone Asio, one "
                   "io_context), [scale_libuv.cpp](../bench/scale_libuv.cpp) (one uv_loop). "
                   "The four take turns within each round, so a burst of other work hits all of "
                   "them alike. Each client reports its wall time and VmHWM; the suite adds the "
                   "CPU time from wait4. The delay is %d ms.",
                   options_.delay_ms),
            "Peak memory is the client's VmHWM, not wait4's `ru_maxrss`: a process started with "
            "fork or posix_spawn keeps its parent's peak in `ru_maxrss` across exec, so a small "
            "client would show the suite's size.",
            "The machine may be doing other work: compare the load average above. Ratios "
            "between the ways are steadier than the absolute values."};
        for (const std::string& item : items) {
            const std::string wrapped = paragraph(item);
            text += "- ";
            for (const char character : wrapped.substr(0, wrapped.size() - 2)) {
                text += character;
                if (character == '\n') {
                    text += "  ";  // continuation lines of a list item are indented
                }
            }
            text += "\n";
        }
        return text;
    }

    // ---- helpers ----

    double median(const std::string& way, int size, double ScaleRun::*field) const {
        return scale_.summary(way, size, field).median;
    }

    static std::string label(const std::string& key) {
        for (const Way& way : all_ways) {
            if (way.key == key) {
                return way.label;
            }
        }
        return key;
    }

    const Options& options_;
    const Machine& machine_;
    const ThreadCosts& threads_;
    const SyscallCosts& syscalls_;
    const ScaleResults& scale_;
};

// ----------------------------------------------------------------------------------------
// 5. The chart
// ----------------------------------------------------------------------------------------

// One block per way (gnuplot's "index"): a title line, then N, wall / delay, peak MiB.
std::string chart_data(const Options& options, const ScaleResults& scale) {
    std::string data;
    for (const Way& way : scale.ways) {
        data += "\"" + way.label + "\"\n";
        for (const int size : options.sizes) {
            if (scale.has(way.key, size)) {
                data += format("%d %.3f %.2f\n", size,
                               scale.summary(way.key, size, &ScaleRun::wall_ratio).median,
                               scale.summary(way.key, size, &ScaleRun::peak_mib).median);
            }
        }
        data += "\n\n";
    }
    return data;
}

// Runs gnuplot on bench/scale-chart.gp; returns "" or what went wrong.
std::string draw_chart(const Options& options, const ScaleResults& scale) {
    const std::string data_path = work_folder + "/scale.dat";
    write_file(data_path, chart_data(options, scale));
    const std::string variables = "datafile='" + data_path + "'; outputfile='" + options.chart +
                                  "'; delay_ms=" + std::to_string(options.delay_ms) +
                                  "; ways=" + std::to_string(scale.ways.size());
    const Finished finished =
        run_program({"gnuplot", "-e", variables, options.chart_script}, std::chrono::seconds(60));
    if (!finished.succeeded()) {
        return "gnuplot: " + finished.how_it_ended();
    }
    return "";
}

void remove_work_folder() {
    for (const char* name :
         {"stdout.txt", "stderr.txt", "server.log", "server-errors.log", "scale.dat"}) {
        unlink((work_folder + "/" + name).c_str());  // Some were never made: not an error.
    }
    if (rmdir(work_folder.c_str()) != 0) {
        std::fprintf(stderr, "bench-suite: rmdir %s: %s\n", work_folder.c_str(),
                     std::strerror(errno));
    }
}

// Runs at every exit, also an early one (a failed OS call): the delay server of the
// current run stops too, and the work folder goes.
void clean_up() {
    if (running_server > 0) {
        kill(running_server, SIGTERM);
    }
    remove_work_folder();
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    const Clock::time_point start = Clock::now();
    char folder[] = "/tmp/bench-suite-XXXXXX";
    if (mkdtemp(folder) == nullptr) {
        fail("mkdtemp");
    }
    work_folder = folder;
    std::atexit(clean_up);

    const Machine machine = describe_machine();
    std::printf("bench-suite: %s, %ld cores, %s; open-file limit %s\n", machine.cpu.c_str(),
                machine.cores, machine.kernel.c_str(), machine.open_file_limit.c_str());

    std::printf("1. thread costs\n");
    std::fflush(stdout);
    const ThreadCosts threads = measure_thread_costs(options);

    std::printf("2. system call cost (Google Benchmark)\n");
    std::fflush(stdout);
    const SyscallCosts syscalls = measure_syscall_cost(options);
    if (!syscalls.measured) {
        std::printf("  skipped: %s\n", syscalls.skipped_because.c_str());
    }

    std::printf("3. scale test, delay %d ms\n", options.delay_ms);
    std::fflush(stdout);
    const ScaleResults scale = measure_scale(options);
    if (!scale.measured) {
        std::printf("  skipped: %s\n", scale.skipped_because.c_str());
    }
    for (const std::string& skipped : scale.skipped_ways) {
        std::printf("  skipped: %s\n", skipped.c_str());
    }

    bool problems = !threads.problems.empty() || (syscalls.built && !syscalls.measured);
    Options report_options = options;
    if (!options.chart.empty() && scale.measured) {
        const std::string chart_problem = draw_chart(options, scale);
        if (!chart_problem.empty()) {
            std::fprintf(stderr, "bench-suite: no chart: %s\n", chart_problem.c_str());
            report_options.chart.clear();
            problems = true;
        }
    } else {
        report_options.chart.clear();
    }

    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start);
    const std::string elapsed = format("%ld min %ld s", static_cast<long>(seconds.count() / 60),
                                       static_cast<long>(seconds.count() % 60));
    const Report report(report_options, machine, threads, syscalls, scale);
    write_file(options.output, report.write(elapsed, first_word(read_file("/proc/loadavg"))));
    std::printf("wrote %s%s in %s\n", options.output.c_str(),
                report_options.chart.empty() ? "" : (" and " + options.chart).c_str(),
                elapsed.c_str());
    for (const std::string& problem : threads.problems) {
        std::fprintf(stderr, "bench-suite: %s\n", problem.c_str());
    }
    if (options.smoke) {
        // The smoke test: every part that was built ran, and no request failed.
        const bool complete = (syscalls.measured || !syscalls.built) && scale.measured;
        return !problems && complete && report.all_requests_succeeded() ? 0 : 1;
    }
    return problems ? 1 : 0;
}
