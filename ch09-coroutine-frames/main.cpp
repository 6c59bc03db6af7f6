// ch09-coroutine-frames: what a coroutine's frame holds, why C++ needs no Pin, and the trap
// C++ has instead (the book's chapter 9, in its order).
//
// The book's coroutine keeps a String and a pointer into it across two waits:
//     buffer = "BUFFER:..."; writer = &buffer; write(await get(A)); write(await get(B));
// 1. (a-coroutines-variables, b-coroutines-references) Written with co_await. The locals
//    live in the coroutine's frame, which the compiler allocates on the heap; the Task that
//    owns it holds only a handle, a pointer. Moving or swapping the Task between the waits
//    moves the pointer: buffer's address, and writer, stay the same ("same frame").
// 2. (c-coroutines-problem, d-pin, e-coroutines-pin) Written by hand, as the book's
//    Coroutine0 with its Stack0: the locals are members, and moving the struct copies writer,
//    which still points at the old place. The book's executor does exactly that: it polls
//    once on its stack, then moves the future into a Box. The fix, as C++ writes it: delete
//    the move (the book's PhantomPinned) and make it where it stays, on the heap (Box::pin).
// 3. The trap Rust's borrow checker refuses and C++ compiles: a coroutine that takes a
//    reference keeps only the reference in its frame; if the argument ends before the
//    first resume, the coroutine reads memory that is gone. The fix: take it by value.
//
// Usage:    ch09-coroutine-frames [--move-unpinned | --dangling]   (--help for the usage)
//           The two options run the undefined behaviour of steps 2 and 3 for real: for an
//           AddressSanitizer build (the asan preset), which names it.
// Platform: any OS with a C++20 compiler; no server, no threads.
//
// What to watch for: the addresses (they vary from run to run) before and after each
// move; which ones stay equal, and which buffer gets the two answers.
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "one_option.hpp"  // support/: parse_one_option, --help and the usage error

// An address as the same text on every OS (printf's %p differs between C libraries).
unsigned long long address_of(const void* pointer) {
    return static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(pointer));
}

// ----------------------------------------------------------------------------------------
// 1. The coroutine: its frame, and the Task that owns it (a-coroutines-variables, b-...)
// ----------------------------------------------------------------------------------------

// Where and how big the last coroutine frame was, as the promise's operator new saw it.
const void* last_frame = nullptr;
std::size_t last_frame_size = 0;

// Whether an object lies in the last frame made: in the coroutine's own memory.
bool in_last_frame(const void* object) {
    const char* const start = static_cast<const char*>(last_frame);
    return object >= last_frame && object < start + last_frame_size;
}

// The return type of our coroutines: the book's `impl Future`. It owns the frame; resume()
// runs the body to its next co_await (the book's poll); the end is PollState::Ready.
class Task {
  public:
    struct promise_type {
        // The compiler calls this for every frame it makes: the frame is on the heap.
        static void* operator new(std::size_t size) {
            last_frame = ::operator new(size);
            last_frame_size = size;
            return const_cast<void*>(last_frame);
        }
        static void operator delete(void* frame) {  // its pair: GCC warns without it
            ::operator delete(frame);
        }
        Task get_return_object() {
            return Task(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept {
            return {};  // lazy, as a Rust future: nothing runs before the first resume
        }
        std::suspend_always final_suspend() noexcept {
            return {};  // stay, so that the Task can still destroy the frame
        }
        void return_void() {}
        void unhandled_exception() {
            std::terminate();
        }
    };

    Task() = default;
    explicit Task(std::coroutine_handle<promise_type> frame) : frame(frame) {}
    Task(Task&& other) noexcept : frame(std::exchange(other.frame, {})) {}
    Task& operator=(Task&& other) noexcept {
        std::swap(frame, other.frame);  // the other Task destroys what this one had
        return *this;
    }
    ~Task() {
        if (frame) {
            frame.destroy();
        }
    }
    void resume() {
        frame.resume();
    }
    const void* frame_address() const {
        return frame.address();
    }

  private:
    std::coroutine_handle<promise_type> frame;  // a pointer to the frame: all a Task moves
};

// The one wait of this program: the book's Http::get future, without the network. It
// suspends once (NotReady); when resumed it gives its text (Ready(text)).
struct Answer {
    std::string path;
    bool await_ready() const noexcept {
        return false;
    }
    void await_suspend(std::coroutine_handle<>) const noexcept {}  // main resumes us
    std::string await_resume() const {
        return "answer to " + path + "\n";
    }
};

// Made by a function, as the book's is: GCC 12 destroys the string of a braced temporary
// awaited at once (`co_await Answer{path}`) twice, a double free seen here under ASan.
Answer get(const char* path) {
    return Answer{path};
}

// The book's async_main, as C++ writes it. The compiler keeps buffer and writer in the
// frame, where the book's Stack0 keeps them, and the resume point where State0 is.
Task async_main() {
    std::string buffer = "BUFFER, in the coroutine's frame:\n";
    std::string* const writer = &buffer;  // a pointer from the frame into the frame
    const void* const buffer_before = &buffer;
    const bool in_frame = in_last_frame(buffer_before);
    std::printf("  the frame: %zu bytes at 0x%llx, on the heap (promise_type::operator new)\n",
                last_frame_size, address_of(last_frame));
    std::printf("  before the waits: buffer at 0x%llx (%s), writer -> 0x%llx\n",
                address_of(&buffer), in_frame ? "in the frame" : "NOT in the frame",
                address_of(writer));
    writer->append(co_await get("/600/HelloAsyncAwait"));
    writer->append(co_await get("/400/HelloAsyncAwait"));
    std::printf("  after the waits:  buffer at 0x%llx, writer -> 0x%llx\n", address_of(&buffer),
                address_of(writer));
    if (!in_frame || &buffer != buffer_before || writer != &buffer) {
        std::printf("  the frame moved, or buffer is not in it: writer no longer points at it\n");
        std::exit(1);
    }
    std::printf("  same frame: buffer never moved, writer still points at it\n%s", buffer.c_str());
}

void step_1_the_frame_stays() {
    std::printf("1. A coroutine's locals live in its frame, on the heap\n");
    Task task = async_main();  // makes the frame; no line of the body has run
    task.resume();             // to the first wait
    Task moved = std::move(task);
    moved.resume();  // to the second wait
    Task swapped;
    std::swap(moved, swapped);  // the d-pin example's swap, on the owner
    std::printf("  the Task moved from 0x%llx to 0x%llx, then 0x%llx; its frame stays at 0x%llx\n",
                address_of(&task), address_of(&moved), address_of(&swapped),
                address_of(swapped.frame_address()));
    swapped.resume();  // to the end
}

// ----------------------------------------------------------------------------------------
// 2. The same coroutine by hand: Coroutine0 with its Stack0, moved (c-coroutines-problem)
// ----------------------------------------------------------------------------------------

// The book's Http::get future for the hand-written state machine: its poll() returns
// nothing (PollState::NotReady) the first time, then the text (PollState::Ready).
struct AnswerFuture {
    std::string text;
    bool polled = false;
    std::optional<std::string> poll() {
        if (!std::exchange(polled, true)) {
            return std::nullopt;
        }
        return "answer to " + text + "\n";
    }
};

enum class State0 { start, wait1, wait2, resolved };  // the book's State0; its futures: child

struct Stack0 {  // the book's Stack0: the locals that live across a wait
    std::string buffer;
    std::string* writer = nullptr;  // points at buffer: the struct refers to itself
};

// The book's Coroutine0; poll() is its Future::poll, true for PollState::Ready. Its
// implicit move constructor moves buffer and copies writer: the book's problem.
struct Coroutine0 {
    Stack0 stack;
    State0 state = State0::start;
    AnswerFuture child;

    bool poll() {
        for (;;) {
            if (state == State0::start) {
                stack.buffer = "BUFFER, in the state machine's Stack0:\n";
                stack.writer = &stack.buffer;
                child = AnswerFuture{"/600/HelloAsyncAwait"};
                state = State0::wait1;
            } else if (state == State0::wait1 || state == State0::wait2) {
                const std::optional<std::string> text = child.poll();
                if (!text) {
                    return false;  // PollState::NotReady
                }
                stack.writer->append(*text);  // through writer, as the book writes
                if (state == State0::wait1) {
                    child = AnswerFuture{"/400/HelloAsyncAwait"};
                    state = State0::wait2;
                } else {
                    std::printf("%s", stack.buffer.c_str());  // buffer itself, as the book does
                    state = State0::resolved;
                    return true;  // PollState::Ready
                }
            } else {
                std::printf("polled a resolved Coroutine0\n");  // the book panics
                std::exit(1);
            }
        }
    }
};

void show(const char* when, const Coroutine0& coroutine) {
    const bool same = coroutine.stack.writer == &coroutine.stack.buffer;
    std::printf("  %s: buffer at 0x%llx, writer -> 0x%llx (%s)\n", when,
                address_of(&coroutine.stack.buffer), address_of(coroutine.stack.writer),
                same ? "same place" : "moved: writer points at the old place");
}

// The book's block_on: one poll where the future was made, on the stack (its "assume
// ready" optimization); then spawn moves it into a Box, and the executor polls it there.
std::unique_ptr<Coroutine0> poll_then_box(Coroutine0& on_stack) {
    on_stack.poll();
    show("polled on the stack", on_stack);
    auto boxed = std::make_unique<Coroutine0>(std::move(on_stack));
    show("moved into a box   ", *boxed);
    std::fflush(stdout);  // out before AddressSanitizer's report, if the next poll has one
    return boxed;
}

// The fix as C++ writes it: the book's PhantomPinned. A member that cannot be copied or
// moved makes its struct unmovable too: moving it is a compile error, as Pin makes it
// one in Rust. (The other way: keep buffer on the heap, a std::unique_ptr<std::string>
// in Stack0; then moving the struct moves only that pointer, and writer stays right.)
struct PhantomPinned {
    PhantomPinned() = default;
    PhantomPinned(const PhantomPinned&) = delete;
    PhantomPinned& operator=(const PhantomPinned&) = delete;
};
struct PinnedCoroutine0 : Coroutine0 {
    PhantomPinned pin;
};
static_assert(!std::is_move_constructible_v<PinnedCoroutine0>);

void step_2_the_state_machine_moves(bool old_place_ends) {
    std::printf("\n2. The same by hand: Coroutine0's Stack0 points into itself, then moves\n");
    if (old_place_ends) {
        std::unique_ptr<Coroutine0> boxed;
        {
            Coroutine0 on_stack;
            boxed = poll_then_box(on_stack);
        }  // on_stack ends here; writer still points into it
        while (!boxed->poll()) {
        }  // writes through writer into on_stack, which is gone: undefined behaviour
        return;
    }
    Coroutine0 on_stack;  // still there: writer's writes land in it, moved from
    const std::unique_ptr<Coroutine0> boxed = poll_then_box(on_stack);
    while (!boxed->poll()) {
    }
    if (on_stack.stack.buffer.find("/400/HelloAsyncAwait") != std::string::npos) {
        std::printf("  the answers went where writer points: into the moved-from Coroutine0\n");
    }

    // Box::pin: made where it will stay, on the heap; what moves is its owner, the pointer.
    std::printf("  with PhantomPinned, made in its box (Box::pin) and only the box moved:\n");
    auto pinned = std::make_unique<PinnedCoroutine0>();
    pinned->poll();
    show("polled in its box  ", *pinned);
    const std::unique_ptr<PinnedCoroutine0> new_owner = std::move(pinned);
    show("box moved          ", *new_owner);
    while (!new_owner->poll()) {
    }
}

// ----------------------------------------------------------------------------------------
// 3. The trap C++ has: a reference parameter whose argument ends before the first resume
// ----------------------------------------------------------------------------------------

// The frame keeps what the parameter is: here a reference, to the caller's string.
Task greet_by_reference(const std::string& name) {
    std::printf("  by reference: name at 0x%llx (%s)\n", address_of(&name),
                in_last_frame(&name) ? "in the frame" : "the caller's, not in the frame");
    co_await std::suspend_always{};  // a wait, as in the book; name is read after it
    std::printf("  by reference: Hello, %s!\n", name.c_str());
}

// The fix: by value, the frame keeps a string of its own, moved in when it was made.
Task greet_by_value(std::string name) {
    std::printf("  by value: name at 0x%llx (%s)\n", address_of(&name),
                in_last_frame(&name) ? "in the frame" : "the caller's, not in the frame");
    co_await std::suspend_always{};
    std::printf("  by value: Hello, %s!\n", name.c_str());
}

void step_3_the_reference_parameter(bool dangling) {
    std::printf(
        "\n3. The parameters live in the frame too: a reference there outlives its object\n");
    Task greeting;
    {
        const std::string name = "reader of chapter 9";  // longer than a short string: heap
        greeting = dangling ? greet_by_reference(name) : greet_by_value(name);
    }  // name ends here, before the coroutine has run a line; by reference, it refers to it
    greeting.resume();    // to the wait
    std::fflush(stdout);  // out before AddressSanitizer's report, if the next line has one
    greeting.resume();    // reads name: by value, the frame's own; by reference, gone
}

// ----------------------------------------------------------------------------------------
// main: the options choose what to run
// ----------------------------------------------------------------------------------------

constexpr char usage_text[] =
    "usage: ch09-coroutine-frames [--move-unpinned | --dangling]\n"
    "Shows where a coroutine keeps its locals, why moving its owner moves nothing else,\n"
    "and what breaks when a state machine that points into itself moves.\n"
    "  (no option)       the three steps, with the fixes: every address checked\n"
    "  --move-unpinned   step 2 unfixed: the moved state machine writes through a pointer\n"
    "                    into a place that has ended\n"
    "  --dangling        step 3 unfixed: a coroutine reads a reference parameter whose\n"
    "                    argument has ended\n"
    "  --help            this text\n"
    "The two options are undefined behaviour, for an AddressSanitizer build (the asan\n"
    "preset), which stops at the bad access and names it.\n";

// What main runs: the three steps, or one of the two undefined behaviours.
enum class Mode { three_steps, move_unpinned, dangling };

int main(int argc, char** argv) {
    const auto mode = static_cast<Mode>(parse_one_option(
        argc, argv, "ch09-coroutine-frames", usage_text, {"--move-unpinned", "--dangling"}));
    if (mode == Mode::move_unpinned) {
        step_2_the_state_machine_moves(true);
    } else if (mode == Mode::dangling) {
        step_3_the_reference_parameter(true);
    } else {
        step_1_the_frame_stays();
        step_2_the_state_machine_moves(false);
        step_3_the_reference_parameter(false);
    }
    return 0;
}
