// ch07-coroutine-by-hand/future.hpp: the book's future.rs: what a future is, and join_all.
//
// A future is something a caller polls: each poll does what can be done now and answers
// "ready, here is the value" or "not ready, poll me again later". Nothing waits inside a
// poll. Both programs of this folder are built from futures: the hand-written state machines
// of state_machine.cpp, the compiler's coroutines of with_co_await.cpp (a Task is a future),
// and the leaf future of one HTTP GET (http.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The book's PollState<String>: a value is Ready(value), nullopt is NotReady. Every future
// of the book's chapter 7 gives a String (corofy's simplification), and so does every one here.
using PollState = std::optional<std::string>;
constexpr std::nullopt_t not_ready = std::nullopt;

// The book's trait Future { type Output; fn poll(&mut self) -> PollState<Self::Output>; }.
// A future is polled by one owner, one poll at a time, until it is ready; never after.
class Future {
  public:
    virtual ~Future() = default;
    virtual PollState poll() = 0;
};

// The book's Box<dyn Future<Output = String>>: a future of any kind, owned.
using FuturePointer = std::unique_ptr<Future>;

// The book's join_all (ch07/c-async-await): polls each future not yet finished, every time it
// is polled itself, and is ready when all are. The futures run concurrently, on one thread,
// because none of them waits inside its poll.
class JoinAll : public Future {
  public:
    explicit JoinAll(std::vector<FuturePointer> futures) : futures(std::move(futures)) {}

    PollState poll() override {
        for (FuturePointer& future : futures) {
            if (future && future->poll()) {
                future.reset();  // finished: the book keeps a flag; here it is gone
                ++finished_count;
            }
        }
        return finished_count == futures.size() ? PollState(std::string()) : not_ready;
    }

  private:
    std::vector<FuturePointer> futures;  // a finished one is null
    std::size_t finished_count = 0;
};

inline FuturePointer join_all(std::vector<FuturePointer> futures) {
    return std::make_unique<JoinAll>(std::move(futures));
}
