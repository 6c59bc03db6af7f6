// ch07-coroutine-by-hand: the book's chapter 7 coroutines as the state machines the compiler
// would write, by hand.
//
// A coroutine is a function that can stop at a wait and be continued later. Written by
// hand, it is a struct: a state saying where it stopped (the book's State: Start, Wait1,
// Wait2, Resolved), the future it waits on now, the locals that live across a wait as
// members, and a poll() that runs from one wait to the next and answers "not ready" or the
// result. main polls the outermost one in a loop, as the book's ch07/a-coroutine does.
//
// Two parts, the book's two programs: ch07/a-coroutine (two requests, one after the other)
// and ch07/c-async-await as corofy rewrites it (five requests at once, joined). The same
// program written with co_await is with_co_await.cpp: the same output, line for line.
//
// Usage:    ch07-coroutine-by-hand [--address HOST:PORT] [--timeout MS] [--poll-once-more]
//           The delay server must be running: ./run-example ch07-coroutine-by-hand starts one.
// Platform: any OS with BSD sockets or Winsock; no event queue.
//
// What to watch for: "Schedule other tasks" once per poll that found nothing ready: the
// coroutine gave the thread back at each wait. The five requests of the second part take
// about as long as the longest, not the sum.
#include <chrono>
#include <thread>

#include "arguments.hpp"
#include "future.hpp"
#include "http.hpp"

const char program_name[] = "ch07-coroutine-by-hand";
using Clock = std::chrono::steady_clock;

// The book's panic!("Polled a resolved future"): a clear refusal, not undefined behaviour.
[[noreturn]] void refuse_resolved() {
    std::fprintf(stderr, "%s: polled a resolved future: it has nothing more to give\n",
                 program_name);
    std::exit(1);
}

// ----------------------------------------------------------------------------------------
// ch07/a-coroutine: two requests, one after the other
// ----------------------------------------------------------------------------------------

// What the compiler would make of (the book's async_main):
//     Task async_main() {
//         std::puts("Program starting");
//         std::puts((co_await http_get("/600/HelloWorld1")).c_str());
//         std::puts((co_await http_get("/400/HelloWorld2")).c_str());
//     }
class Coroutine : public Future {
  public:
    PollState poll() override {
        while (true) {  // run from one wait to the next
            switch (state) {
                case State::start:
                    std::puts("Program starting");
                    awaited = http_get("/600/HelloWorld1");
                    state = State::wait1;
                    break;
                case State::wait1:
                    if (const PollState text = awaited->poll()) {
                        std::puts(text->c_str());
                        awaited = http_get("/400/HelloWorld2");
                        state = State::wait2;
                        break;
                    }
                    return not_ready;  // stop here; the next poll continues at wait1
                case State::wait2:
                    if (const PollState text = awaited->poll()) {
                        std::puts(text->c_str());
                        awaited.reset();
                        state = State::resolved;
                        return std::string();
                    }
                    return not_ready;
                case State::resolved:
                    refuse_resolved();
            }
        }
    }

  private:
    enum class State { start, wait1, wait2, resolved };
    State state = State::start;
    FuturePointer awaited;  // the book's Wait1(Box<dyn Future>): the future waited on now
};

// ----------------------------------------------------------------------------------------
// ch07/c-async-await: five requests at once, joined
// ----------------------------------------------------------------------------------------

// What the compiler would make of (corofy's Coroutine0):
//     Task request(int index) {
//         const std::string path = get_path(index);
//         std::puts((co_await http_get(path)).c_str());
//     }
class RequestCoroutine : public Future {
  public:
    explicit RequestCoroutine(int index) : index(index) {}

    PollState poll() override {
        while (true) {
            switch (state) {
                case State::start:
                    path = get_path(index);
                    awaited = http_get(path);
                    state = State::wait1;
                    break;
                case State::wait1:
                    if (const PollState text = awaited->poll()) {
                        std::puts(text->c_str());
                        awaited.reset();
                        state = State::resolved;
                        return std::string();
                    }
                    return not_ready;
                case State::resolved:
                    refuse_resolved();
            }
        }
    }

  private:
    enum class State { start, wait1, resolved };
    State state = State::start;
    int index;              // the parameter: corofy's State0::Start(usize)
    std::string path;       // a local still in scope at the wait: it lives across it
    FuturePointer awaited;  // the book's State0::Wait1(Box<dyn Future>)
};

// What the compiler would make of (corofy's Coroutine1):
//     Task async_main() {
//         std::vector<FuturePointer> futures;
//         for (int index = 0; index < 5; ++index) futures.push_back(request(index));
//         co_await join_all(std::move(futures));
//     }
class JoinCoroutine : public Future {
  public:
    PollState poll() override {
        while (true) {
            switch (state) {
                case State::start: {
                    std::vector<FuturePointer> futures;
                    for (int index = 0; index < 5; ++index) {
                        futures.push_back(std::make_unique<RequestCoroutine>(index));
                    }
                    awaited = join_all(std::move(futures));
                    state = State::wait1;
                    break;
                }
                case State::wait1:
                    if (awaited->poll()) {
                        awaited.reset();
                        state = State::resolved;
                        return std::string();
                    }
                    return not_ready;
                case State::resolved:
                    refuse_resolved();
            }
        }
    }

  private:
    enum class State { start, wait1, resolved };
    State state = State::start;
    FuturePointer awaited;  // join_all's future, which owns the five requests
};

// ----------------------------------------------------------------------------------------
// The program: poll each coroutine until it is ready
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    const Arguments arguments = parse_arguments(argc, argv, false);
    const SocketLibrary socket_library;  // WSAStartup on Windows
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(arguments.timeout_ms);
    auto check_deadline = [&] {
        if (Clock::now() > deadline) {
            std::fprintf(stderr, "%s: timed out after %d ms\n", program_name, arguments.timeout_ms);
            std::exit(1);
        }
    };

    // The book's main: poll, and while nothing is ready, "schedule other tasks". The sleep
    // only slows the loop, since it prints at every poll: a reactor (chapter 8) replaces it
    // with a wait on the OS's event queue, which wakes the program when a socket is ready.
    Coroutine future;
    while (!future.poll()) {
        std::puts("Schedule other tasks");
        check_deadline();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    // The book's ch07/c-async-await polls in a busy loop, with no sleep and no line; the
    // same sleep here leaves the CPU to others. Its async_main prints "Program starting".
    std::puts("\nFive requests at once, joined:");
    const Clock::time_point start = Clock::now();
    JoinCoroutine joined;
    while (!joined.poll()) {
        check_deadline();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::printf("\nELAPSED TIME: %.2f s\n",
                std::chrono::duration<double>(Clock::now() - start).count());
    if (arguments.poll_once_more) {
        joined.poll();  // refused: it is resolved
    }
    return 0;
}
