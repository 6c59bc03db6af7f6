// ch07-coroutine-by-hand-co-await: the same program as state_machine.cpp, written with
// co_await: the compiler writes the state machines.
//
// Each coroutine below is the comment above one class of state_machine.cpp. For each, the
// compiler allocates a frame on the heap (through the promise's operator new, below) holding
// the parameters, the locals that live across a co_await, the awaiter of the co_await it
// stopped at (which owns the future it waits on), and a number saying where to resume: the
// hand-written struct's members and its State. Task, the return type, is the book's
// Coroutine seen from outside: a future whose poll() resumes the frame until its next wait.
//
// Usage:    ch07-coroutine-by-hand-co-await [--address HOST:PORT] [--timeout MS]
//                                           [--show-frames] [--poll-once-more]
// Platform: any OS with BSD sockets or Winsock; no event queue.
//
// What to watch for: state_machine.cpp's output, line for line. --show-frames shows each
// frame as it is allocated, that each coroutine's locals are inside its frame, and that
// every frame is freed.
#include <chrono>
#include <coroutine>
#include <exception>
#include <new>
#include <thread>
#include <vector>

#include "arguments.hpp"
#include "frames.hpp"  // --show-frames: the frames' count and sizes, and what lives in them
#include "future.hpp"
#include "http.hpp"

const char program_name[] = "ch07-coroutine-by-hand-co-await";
using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------------------
// Task: the coroutine's return type, a future that runs its frame
// ----------------------------------------------------------------------------------------

class Task : public Future {
  public:
    // The compiler puts one promise in each frame and calls these at the points their names
    // say; co_await asks the promise's await_transform what to do with the operand.
    struct promise_type {
        Future* awaited = nullptr;  // what the frame waits on now: the book's State::Wait1
        PollState awaited_result;   // its value, for the co_await to return

        static void* operator new(std::size_t size) {
            return frames.allocate(size);  // the frame: parameters, locals, promise, state
        }
        static void operator delete(void* frame) {
            frames.free(frame);
        }
        Task get_return_object() {
            frames.count_started();
            return Task(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept {
            return {};  // nothing runs until the first poll: the book's State::Start
        }
        std::suspend_always final_suspend() noexcept {
            return {};  // keep the frame until the Task goes: the book's State::Resolved
        }
        void return_void() {}
        void unhandled_exception() {
            std::terminate();  // nothing here throws
        }

        // co_await future: the awaiter lives in the frame and owns the future until resumed.
        struct Awaiter {
            FuturePointer future;
            promise_type& promise;
            bool await_ready() const noexcept {
                return false;
            }
            void await_suspend(std::coroutine_handle<>) {
                frames.show_awaiter(this);  // --show-frames: inside the frame
                promise.awaited = future.get();
            }
            std::string await_resume() {
                return std::move(*promise.awaited_result);
            }
        };
        Awaiter await_transform(FuturePointer future) {
            return Awaiter{std::move(future), *this};
        }
    };

    explicit Task(std::coroutine_handle<promise_type> frame) : frame(frame) {}
    Task(Task&& other) noexcept : frame(std::exchange(other.frame, {})) {}
    Task& operator=(Task&&) = delete;
    ~Task() override {
        if (frame) {
            frame.destroy();  // the locals' destructors, then the promise's operator delete
        }
    }

    // The book's Coroutine::poll, which the compiler does not write: poll the future the
    // frame waits on; when it is ready, resume the frame until its next co_await or its end.
    PollState poll() override {
        if (frame.done()) {
            refuse_resolved();  // resume() on a finished coroutine is undefined behaviour
        }
        promise_type& promise = frame.promise();
        while (true) {
            if (promise.awaited != nullptr) {
                promise.awaited_result = promise.awaited->poll();
                if (!promise.awaited_result) {
                    return not_ready;
                }
                promise.awaited = nullptr;
            }
            frame.resume();  // runs to the next co_await (which sets awaited), or the end
            if (frame.done()) {
                return std::string();
            }
        }
    }

  private:
    [[noreturn]] static void refuse_resolved() {
        std::fprintf(stderr, "%s: polled a resolved future: it has nothing more to give\n",
                     program_name);
        std::exit(1);
    }
    std::coroutine_handle<promise_type> frame;
};

// ----------------------------------------------------------------------------------------
// The coroutines: state_machine.cpp's classes, as their comments wrote them
// ----------------------------------------------------------------------------------------

// ch07/a-coroutine: state_machine.cpp's Coroutine.
Task async_main() {
    std::puts("Program starting");
    std::puts((co_await http_get("/600/HelloWorld1")).c_str());
    std::puts((co_await http_get("/400/HelloWorld2")).c_str());
}

// ch07/c-async-await: RequestCoroutine. index and path live across the co_await: in the frame.
Task request(int index) {
    const std::string path = get_path(index);
    frames.show_local("request", "index", &index);
    frames.show_local("request", "path", &path);
    std::puts((co_await http_get(path)).c_str());
}

// JoinCoroutine: five requests started at once, and joined.
Task join_main() {
    std::vector<FuturePointer> futures;
    for (int index = 0; index < 5; ++index) {
        futures.push_back(std::make_unique<Task>(request(index)));  // allocates; runs nothing
    }
    co_await join_all(std::move(futures));
}

// ----------------------------------------------------------------------------------------
// The program: state_machine.cpp's main, polling Tasks
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    const Arguments arguments = parse_arguments(argc, argv, true);
    frames.showing = arguments.show_frames;
    const SocketLibrary socket_library;  // WSAStartup on Windows
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(arguments.timeout_ms);
    auto check_deadline = [&] {
        if (Clock::now() > deadline) {
            std::fprintf(stderr, "%s: timed out after %d ms\n", program_name, arguments.timeout_ms);
            std::exit(1);
        }
    };

    {
        Task future = async_main();  // the frame is allocated here; no line of it has run
        while (!future.poll()) {
            std::puts("Schedule other tasks");
            check_deadline();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }  // the Task goes, and its frame with it

    std::puts("\nFive requests at once, joined:");
    {
        const Clock::time_point start = Clock::now();
        Task joined = join_main();
        while (!joined.poll()) {
            check_deadline();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::printf("\nELAPSED TIME: %.2f s\n",
                    std::chrono::duration<double>(Clock::now() - start).count());
        if (arguments.poll_once_more) {
            joined.poll();  // refused: it is resolved
        }
    }
    return frames.report_at_exit();  // every frame freed: 0
}
