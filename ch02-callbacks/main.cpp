// ch02-callbacks: the ch02-os-threads program as callbacks on a one-thread timer loop.
//
// Chapter 2's third model: no task has a thread or a stack of its own. A "task" is a
// function handed to the loop with set_timeout, to be called when its timer fires; the
// loop keeps the timers in deadline order, sleeps until the earliest one is due, calls its
// callback, and repeats until none is left. Every callback runs to the end before the next
// one starts, on the one thread the program has, so a callback that blocked would stop all
// of them.
//
// The chained task shows what the chapter warns about: to do something after a wait, a
// callback registers the next callback from inside its own body. Each step of a sequence is
// one level deeper in the source ("callback hell"), and what a step needs from the one
// before it (here nothing; in real programs a socket, a buffer, a count) must be captured
// by the next lambda, because the stack the first callback ran on is gone by then.
//
// Usage:    ch02-callbacks            (takes no arguments; --help prints the usage)
// Platform: any OS with a C++20 compiler.
//
// What to watch for: the same five lines as ch02-os-threads, in the same order, from the
// same sleeps (200, 100, then 50 ms), with one thread and no sleep that overlaps another:
// the loop waits for whichever timer is due first.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <string_view>
#include <thread>
#include <utility>

#include "one_option.hpp"  // refuse_arguments: --help, and no arguments

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------------
// The timer loop
// ----------------------------------------------------------------------------------------

// What a browser's or Node's event loop does with setTimeout, reduced to timers alone:
// callbacks wait in a map ordered by deadline (a multimap keeps two equal deadlines in the
// order they were set), and the loop runs them one at a time, earliest first.
class TimerLoop {
  public:
    using Callback = std::function<void()>;

    // Registers `callback` to run once, `delay` from now. Returns at once: nothing waits.
    void set_timeout(Clock::duration delay, Callback callback) {
        waiting_timers.emplace(Clock::now() + delay, std::move(callback));
    }

    // Runs callbacks until no timer is left. A callback may set new timers while it runs.
    void run() {
        while (!waiting_timers.empty()) {
            const auto earliest = waiting_timers.begin();
            // The only wait in the program: one sleep until the earliest deadline. A timer
            // set while we sleep could only come from another thread, and there is none.
            std::this_thread::sleep_until(earliest->first);
            Callback callback = std::move(earliest->second);
            waiting_timers.erase(earliest);  // before the call: the callback may add timers
            callback();
        }
    }

  private:
    std::multimap<Clock::time_point, Callback> waiting_timers;
};

// ----------------------------------------------------------------------------------------
// The program: the same five lines as ch02-os-threads
// ----------------------------------------------------------------------------------------

// One thread prints, so no line can interleave with another; std::endl flushes each line
// so it appears when it happens, also when the output is a pipe.
void print_line(std::string_view line) {
    std::cout << line << std::endl;
}

void run() {
    TimerLoop loop;
    print_line("So, we start the program here!");

    loop.set_timeout(200ms, [] { print_line("The long running tasks finish last!"); });

    loop.set_timeout(100ms, [&loop] {
        print_line("We can chain callbacks...");
        // The next step of this task is a new callback, registered from inside this one.
        loop.set_timeout(50ms, [] { print_line("...like this!"); });
    });

    print_line("The tasks run concurrently!");

    // Nothing has waited yet: the three sleeps are timers in the loop. Only now does the
    // program wait, in one place, for whichever timer is due first.
    loop.run();
}

// ----------------------------------------------------------------------------------------
// The arguments: none, but --help and a wrong argument are answered as everywhere
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch02-callbacks\n"
    "Prints five lines from three timer callbacks on one thread.\n"
    "Takes no arguments; --help or -h prints this text.\n";

int main(int argc, char** argv) {
    refuse_arguments(argc, argv, "ch02-callbacks", usage_text);  // support/one_option.hpp
    run();
    return 0;
}
