// ch02-os-threads: three OS threads that sleep, print, and are joined.
//
// The book's first look at concurrency: each std::thread is a real thread the OS creates
// and schedules. Thread 1 sleeps 200 ms; thread 2 sleeps 100 ms and then starts thread 3,
// which sleeps 50 ms; thread 2 joins thread 3 and the main thread joins threads 1 and 2.
// Because they sleep at the same time, the program ends after about 200 ms, not 350 ms,
// and the lines come out in the order the sleeps end, not the order the code is written.
//
// Usage:    ch02-os-threads
// Platform: any OS with threads (Linux, macOS, Windows).
//
// What to watch for: "The long running tasks finish last!" is written first in the code
// but printed last.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

using namespace std::chrono_literals;

// Each line goes out whole, even when two threads print at once: one thread at a time
// holds the mutex while it writes its line. (C++20's synchronized output streams would do
// the same, but libc++, the standard library of every Mac, keeps them experimental.)
std::mutex print_mutex;

void print_line(std::string_view line) {
    const std::lock_guard<std::mutex> one_at_a_time(print_mutex);
    std::cout << line << std::endl;
}

int run() {
    print_line("So, we start the program here!");

    std::thread long_running([] {
        std::this_thread::sleep_for(200ms);
        print_line("The long running tasks finish last!");
    });

    std::thread chained([] {
        std::this_thread::sleep_for(100ms);
        print_line("We can chain callbacks...");
        std::thread next([] {
            std::this_thread::sleep_for(50ms);
            print_line("...like this!");
        });
        next.join();  // A thread can wait for a thread it started.
    });

    print_line("The tasks run concurrently!");

    // Joining waits for each thread to end; a std::thread still joinable when it is
    // destroyed ends the whole program (std::terminate).
    long_running.join();
    chained.join();
    return 0;
}

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch02-os-threads\n"
    "Starts three OS threads and prints five lines in the order their sleeps end.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch02-os-threads", usage_text);  // support/one_option.hpp

    try {
        return run();
    } catch (const std::system_error& error) {
        // std::thread reports an OS failure (no more threads, no memory) by throwing.
        std::cerr << "cannot start a thread: " << error.what() << '\n';
        return 1;
    }
}
