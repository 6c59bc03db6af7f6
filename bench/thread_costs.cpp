// bench/thread_costs.cpp: what an OS thread costs: to start, to keep, to switch to.
//
// Chapter 2 says OS threads are expensive; this program puts numbers on three costs.
//   spawn   Start a thread that does nothing and join it, many times; the median time
//           of one start-and-join. That is the least a thread-per-task program pays per task.
//   idle    Start N threads that all wait on one condition variable (parked: asleep in
//           the kernel, using no CPU), then read from /proc what the process holds: resident
//           memory (VmRSS) and address space (VmSize), and from /proc/meminfo the kernel
//           stacks of all tasks (KernelStack, one per thread, system-wide). The difference
//           from before, divided by N, is the cost of one waiting thread.
//   switch  Two threads on the same CPU hand a token back and forth, each sleeping until
//           the other wakes it, through a pair of pipes or through a futex. Every hand-over
//           is a context switch: the kernel saves one thread's registers and loads the
//           other's. Time per switch = time / (2 x round trips); it includes the system calls
//           that wake the other thread and put this one to sleep.
//
// Output: what it did, then one line `result name=value ...` that `rows` reads.
// What to watch for: the resident cost of a parked thread is a few pages, whatever its
// stack size; the address space it reserves is its whole stack.
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "measure.h"
#include "options.h"

using Clock = std::chrono::steady_clock;

using measure::check_error_number;  // a pthread call's error number, with the OS's message
using measure::fail;                // the OS's message for errno
using measure::nanoseconds;

// --- spawn: start and join one thread ---------------------------------------------------

void measure_spawn(int count) {
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    // The first threads also pay for things done once (the first stack mapping, the
    // thread-library's first use); 100 unmeasured ones come first.
    for (int round = -100; round < count; ++round) {
        const Clock::time_point before = Clock::now();
        std::thread thread([] {});  // Throws std::system_error if the OS refuses.
        thread.join();
        const Clock::time_point after = Clock::now();
        if (round >= 0) {
            samples.push_back(nanoseconds(after - before));
        }
    }
    std::sort(samples.begin(), samples.end());
    const double median = samples[samples.size() / 2];
    std::printf("start and join one thread: median %.1f us over %d threads (min %.1f, max %.1f)\n",
                median / 1000, count, samples.front() / 1000, samples.back() / 1000);
    std::printf("result spawn_join_ns=%.0f samples=%d\n", median, count);
}

// --- idle: what N parked threads hold ---------------------------------------------------

struct Memory {
    long resident_kib;      // VmRSS: pages of this process in RAM
    long virtual_kib;       // VmSize: address space reserved by this process
    long kernel_stack_kib;  // KernelStack: kernel stacks of every task on the machine
};

Memory read_memory() {
    return Memory{measure::proc_kib("VmRSS"), measure::proc_kib("VmSize"),
                  measure::proc_kib("KernelStack", "/proc/meminfo")};
}

// Where the parked threads wait: each one says it is there, then sleeps until released.
struct ParkingLot {
    std::mutex mutex;
    std::condition_variable changed;
    int parked = 0;
    bool released = false;
};

void* park(void* argument) {
    ParkingLot& lot = *static_cast<ParkingLot*>(argument);
    std::unique_lock lock(lot.mutex);
    ++lot.parked;
    lot.changed.notify_all();
    lot.changed.wait(lock, [&] { return lot.released; });  // asleep in futex_wait
    return nullptr;
}

void measure_idle(int count, int stack_kib) {
    // pthreads directly, for the stack size (std::thread cannot set one).
    pthread_attr_t attributes;
    check_error_number("pthread_attr_init", pthread_attr_init(&attributes));
    if (stack_kib > 0) {
        check_error_number(
            "pthread_attr_setstacksize",
            pthread_attr_setstacksize(&attributes, static_cast<std::size_t>(stack_kib) * 1024));
    }
    std::size_t stack_bytes = 0;
    check_error_number("pthread_attr_getstacksize",
                       pthread_attr_getstacksize(&attributes, &stack_bytes));

    ParkingLot lot;
    std::vector<pthread_t> threads(static_cast<std::size_t>(count));
    const Memory before = read_memory();
    for (pthread_t& thread : threads) {
        check_error_number("pthread_create", pthread_create(&thread, &attributes, park, &lot));
    }
    Memory parked{};
    {
        std::unique_lock lock(lot.mutex);
        lot.changed.wait(lock, [&] { return lot.parked == count; });
        parked = read_memory();  // every thread is asleep now
        lot.released = true;
        lot.changed.notify_all();
    }
    for (pthread_t thread : threads) {
        check_error_number("pthread_join", pthread_join(thread, nullptr));
    }
    check_error_number("pthread_attr_destroy", pthread_attr_destroy(&attributes));

    const double resident = static_cast<double>(parked.resident_kib - before.resident_kib) / count;
    const double reserved = static_cast<double>(parked.virtual_kib - before.virtual_kib) / count;
    const double kernel =
        static_cast<double>(parked.kernel_stack_kib - before.kernel_stack_kib) / count;
    std::printf(
        "%d parked threads with %zu KiB stacks, per thread: %.1f KiB resident, "
        "%.1f KiB of address space, %.1f KiB of kernel stack (machine-wide count)\n",
        count, stack_bytes / 1024, resident, reserved, kernel);
    std::printf(
        "result threads=%d stack_kib=%zu rss_kib=%.2f virtual_kib=%.2f "
        "kernel_stack_kib=%.2f\n",
        count, stack_bytes / 1024, resident, reserved, kernel);
}

// --- switch: two threads on one CPU hand a token back and forth -------------------------

// Both threads on the same CPU: every hand-over must then be a context switch on that
// CPU, not a wake-up of a thread that runs on the other, idle one.
void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    check_error_number("pthread_setaffinity_np",
                       pthread_setaffinity_np(pthread_self(), sizeof set, &set));
}

int first_allowed_cpu() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        fail("sched_getaffinity");
    }
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) {
            return cpu;
        }
    }
    return 0;
}

// The pipe way: each thread sleeps in read() until the other writes a byte.
void write_byte(int fd) {
    const char token = 't';
    while (write(fd, &token, 1) != 1) {
        if (errno != EINTR) {
            fail("write");
        }
    }
}

void read_byte(int fd) {
    char token = 0;
    ssize_t count = 0;
    while ((count = read(fd, &token, 1)) != 1) {
        if (count == 0) {
            std::fprintf(stderr, "%s: read: unexpected end of file\n", measure::program_name);
            std::exit(1);
        }
        if (errno != EINTR) {
            fail("read");
        }
    }
}

// The futex way: `turn` says whose turn it is; a thread whose turn it is not sleeps in
// FUTEX_WAIT (only if `turn` still holds the value it saw, so no wake-up is lost), and the
// other wakes it with FUTEX_WAKE after changing `turn`. A futex is what std::mutex and
// std::condition_variable sleep on in glibc.
void futex_wait(std::atomic<int>& word, int while_value) {
    while (word.load() == while_value) {
        if (syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT_PRIVATE, while_value,
                    nullptr, nullptr, 0) != 0 &&
            errno != EAGAIN && errno != EINTR) {  // EAGAIN: changed already; EINTR: a signal
            fail("futex");
        }
    }
}

void futex_wake(std::atomic<int>& word) {
    if (syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
                0) < 0) {
        fail("futex");
    }
}

void measure_switch(const std::string& mechanism, int round_trips) {
    const int cpu = first_allowed_cpu();
    const bool use_pipe = mechanism == "pipe";
    int ping[2] = {-1, -1};  // main side writes, echo side reads
    int pong[2] = {-1, -1};  // echo side writes, main side reads
    if (use_pipe && (pipe(ping) != 0 || pipe(pong) != 0)) {
        fail("pipe");
    }
    static_assert(sizeof(std::atomic<int>) == sizeof(int));  // the futex word is an int
    std::atomic<int> turn = 0;                               // 0: the main side's, 1: the echo's

    Clock::duration elapsed{};
    std::thread echo([&] {
        pin_to(cpu);
        for (int round = 0; round < round_trips; ++round) {
            if (use_pipe) {
                read_byte(ping[0]);
                write_byte(pong[1]);
            } else {
                futex_wait(turn, 0);
                turn.store(0);
                futex_wake(turn);
            }
        }
    });
    std::thread main_side([&] {
        pin_to(cpu);
        const Clock::time_point start = Clock::now();
        for (int round = 0; round < round_trips; ++round) {
            if (use_pipe) {
                write_byte(ping[1]);
                read_byte(pong[0]);
            } else {
                turn.store(1);
                futex_wake(turn);
                futex_wait(turn, 1);
            }
        }
        elapsed = Clock::now() - start;
    });
    main_side.join();
    echo.join();
    for (const int fd : {ping[0], ping[1], pong[0], pong[1]}) {
        if (use_pipe && close(fd) != 0) {
            fail("close");
        }
    }
    const double per_switch = nanoseconds(elapsed) / (2.0 * round_trips);
    std::printf("%d round trips through %s between two threads on CPU %d: %.0f ns per switch\n",
                round_trips, mechanism.c_str(), cpu, per_switch);
    std::printf("result mechanism=%s switch_ns=%.0f round_trips=%d\n", mechanism.c_str(),
                per_switch, round_trips);
}

// --- main -------------------------------------------------------------------------------

// rows: each measurement R times, each run its own process (this program again), and the
// page's section 1 table rows, "median (min–max)" over the runs.
int print_rows(int runs, int count, int threads, int round_trips) {
    const std::vector<std::vector<std::string>> measurements = {
        {"spawn", "--count", std::to_string(count)},
        {"idle", "--threads", std::to_string(threads)},
        {"idle", "--threads", std::to_string(threads), "--stack-kib", "64"},
        {"switch", "pipe", "--round-trips", std::to_string(round_trips)},
        {"switch", "futex", "--round-trips", std::to_string(round_trips)},
    };
    bool all_succeeded = true;
    const auto outputs = measure::run_rounds(measurements, runs, all_succeeded);
    const std::string parked = measure::with_commas(threads) + " parked threads";
    struct Row {
        std::string label;
        std::size_t measurement;  // which of the above
        const char* value;        // the name in its `result` line
        int decimals;
        double scale;
    };
    const Row rows[] = {
        {"start and join one thread (`std::thread`), µs", 0, "spawn_join_ns", 1, 0.001},
        {"resident memory per thread, " + parked + ", default stack, KiB", 1, "rss_kib", 1, 1},
        {"address space per thread, the same, KiB", 1, "virtual_kib", 0, 1},
        {"resident memory per thread, " + parked + ", 64 KiB stack, KiB", 2, "rss_kib", 1, 1},
        {"address space per thread, the same, KiB", 2, "virtual_kib", 0, 1},
        {"kernel stack per thread (machine-wide `KernelStack`), KiB", 2, "kernel_stack_kib", 1, 1},
        {"context switch between two threads on one CPU, through a pipe, ns", 3, "switch_ns", 0, 1},
        {"context switch, the same, through a futex, ns", 4, "switch_ns", 0, 1},
    };
    for (const Row& row : rows) {
        std::printf(
            "| %s | %s |\n", row.label.c_str(),
            measure::cell(outputs[row.measurement], row.value, row.decimals, row.scale).c_str());
    }
    return all_succeeded ? 0 : 1;
}

int main(int argc, char** argv) {
    measure::program_name = "bench-thread-costs";
    CLI::App app{"What an OS thread costs: to start, to keep parked, to switch to.",
                 "bench-thread-costs"};
    app.require_subcommand(1);
    int count = 2000, threads = 1000, stack_kib = 0, round_trips = 50000, runs = 5;
    std::string mechanism;
    CLI::App* spawn =
        app.add_subcommand("spawn", "start and join N threads one after another; the median");
    add_number(*spawn, "--count", count, "how many", 1, 10000000);
    CLI::App* idle = app.add_subcommand("idle", "park N threads; the memory each holds");
    add_number(*idle, "--threads", threads, "how many", 1, 10000000);
    add_number(*idle, "--stack-kib", stack_kib, "their stack size (0: the default)", 0, 1048576);
    CLI::App* change = app.add_subcommand(
        "switch", "hand a token back and forth N times between two threads on one CPU");
    change->add_option("mechanism", mechanism, "pipe or futex")
        ->required()
        ->check(CLI::IsMember({"pipe", "futex"}));
    add_number(*change, "--round-trips", round_trips, "how many", 1, 10000000);
    CLI::App* rows = app.add_subcommand(
        "rows", "all of them, each R times as its own process: the page's table rows");
    add_number(*rows, "--runs", runs, "runs of each", 1, 100);
    rows->add_option("--count", count, "spawn's count")->capture_default_str();
    rows->add_option("--threads", threads, "idle's threads")->capture_default_str();
    rows->add_option("--round-trips", round_trips, "switch's round trips")->capture_default_str();
    parse_command_line(app, argc, argv);
    if (rows->parsed()) {
        return print_rows(runs, count, threads, round_trips);
    }
    if (spawn->parsed()) {
        measure_spawn(count);
    } else if (idle->parsed()) {
        measure_idle(threads, stack_kib);
    } else {
        measure_switch(mechanism, round_trips);
    }
    return 0;
}
