// ch03-poll/poll.hpp: one API over every OS's event queue, the chapter's common denominator.
//
// The names are the book's chapter 4 and mio's: a Poll waits, its Registry registers
// sockets, each with a Token the caller chooses, for an Interest (readable, writable); poll
// fills Events; a Waker wakes a thread blocked in poll. Nothing here names an OS: the build
// compiles one backend file (poll_epoll.cpp, poll_kqueue.cpp, poll_io_uring.cpp or
// poll_afd.cpp, see selector.hpp), and poll.cpp holds what is the same for all of them.
//
// The contract, the same on every backend (contract_test.cpp checks each one against it):
//   - One-shot. A registration reports at most one event, then stays silent until the caller
//     re-arms it with reregister. One event per registration, not per direction: a socket
//     registered for readable and writable that is both is reported once, with both set.
//     One-shot is what every OS can do: an AFD poll on Windows answers once and must be sent
//     again, so epoll, kqueue and io_uring are asked for once too (README.md says why this
//     and not edge triggering).
//   - Events may be spurious: a readable socket may have nothing to read by the time the
//     caller reads. The caller reads or writes until the socket says "would block", then
//     re-arms.
//   - poll returns no events only when its timeout has passed. A signal is not an error, nor
//     is what an OS reports that the caller must not see (an event of a deregistered socket,
//     a cancelled operation): poll waits again for the time that is left.
//   - Threads: one thread at a time calls poll. Any thread may use the Registry and the
//     Waker at any time, also while another thread is blocked in poll; a socket registered
//     then is reported by that poll.
//   - A socket is deregistered before it is closed: on kqueue (libkqueue) and io_uring a
//     closed but still registered socket is still watched. After deregister no event for it
//     is reported, not even one the OS had already queued.
//   - Bad use is an error, never a crash, and the same error on every backend: the kernels
//     disagree (epoll says EBADF for a closed socket, libkqueue EFAULT, io_uring answers
//     later), so Poll keeps its own table of registrations and its own error codes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "made.hpp"

// A socket as the OS knows it: a file descriptor on Linux and macOS, a SOCKET on Windows.
using RawSocket = std::uintptr_t;

// The caller's name for a registration, handed back with each of its events (mio's Token).
struct Token {
    std::size_t value = 0;
    friend bool operator==(Token, Token) = default;
};

// What to be told about. Write Interest{.readable = true} or Interest{.writable = true}.
struct Interest {
    bool readable = false;
    bool writable = false;
};

// One readiness report. readable: a read will not block (data, or the end of the stream);
// writable: a write will not block (a connect completed, or room to send); closed: the peer
// closed or reset the connection; error: the connection failed, and failure_reason says why.
struct Event {
    Token token;
    bool readable = false;
    bool writable = false;
    bool closed = false;
    bool error = false;
    long os_error = 0;  // the OS's code, where it came with the event (kqueue's, AFD's ABORT)
};
// After an event with error set, the OS's reason, asked the same way on every backend: the
// code that came with the event (kqueue's EV_EOF fflags: libkqueue reads the socket's error
// itself, and reading it clears it; AFD's ABORT bit, a reset, which leaves SO_ERROR at 0), or
// else the socket's own (SO_ERROR, which epoll, io_uring and a failed AFD connect leave in
// place); 0 where the OS gives none. A code for socket_error_message: "Connection refused".
long failure_reason(const Event& event, RawSocket socket);

// The events one poll returned, at most `capacity` (mio's Events::with_capacity).
struct Events {
    explicit Events(std::size_t capacity) : capacity(capacity) {
        list.reserve(capacity);
    }
    std::size_t capacity;
    std::vector<Event> list;
};

// Poll's own error codes: the same on every backend. os_call_failed carries the OS's code.
enum class PollErrc {
    ok,
    not_a_socket,        // registering a closed socket, or something that is not a socket
    already_registered,  // registering a socket twice
    not_registered,      // reregister or deregister of a socket that is not registered
    waker_exists,        // a second Waker for one Poll (each backend has one way to wake)
    os_call_failed,      // the OS refused; call and os_error say which call and why
};
struct PollError {
    PollErrc code = PollErrc::ok;
    const char* call = "";  // the OS call that failed, for os_call_failed
    long os_error = 0;      // errno, or GetLastError's code, for os_call_failed
    explicit operator bool() const {
        return code != PollErrc::ok;
    }
};
const char* describe(PollErrc code);  // one line for a message: "the socket is not open"
// The one place a PollError becomes the line a program prints: the OS call that failed under
// Poll and the OS's own message ("eventfd: Too many open files"), or Poll's own reason.
std::string describe(const PollError& error);
// What Poll::open and Waker::make return: the object, or why not (made.hpp).
template <typename T>
using Made = MadeOr<T, PollError>;

class Selector;  // the backend: one per OS, in its own file (selector.hpp)
struct RegistrationTable;

// Registers sockets with a Poll. Any thread may call it, while poll runs on another thread.
// register_source is mio's `register`, which is a keyword in C++ (README.md).
class Registry {
  public:
    PollError register_source(RawSocket socket, Token token, Interest interest);
    // Re-arms a registration that reported its one event, with a new interest and token.
    PollError reregister(RawSocket socket, Token token, Interest interest);
    // Stops watching the socket. Call it before closing the socket.
    PollError deregister(RawSocket socket);

  private:
    friend class Poll;
    friend class Waker;
    Registry() = default;
    Selector* selector_ = nullptr;
    RegistrationTable* table_ = nullptr;
};

class Poll {
  public:
    // Creates the OS's queue, or says why the OS refused: no Poll exists that cannot be used.
    static Made<Poll> open();
    ~Poll();
    Poll(Poll&&) noexcept;  // only before registry() or a Waker refers to this one
    Poll& operator=(Poll&&) = delete;
    Registry& registry() {
        return registry_;
    }
    // Waits until at least one registration has an event, a Waker wakes it, or the timeout
    // (none: forever) passes; replaces events.list with what it got.
    PollError poll(Events& events, std::optional<std::chrono::milliseconds> timeout);

  private:
    explicit Poll(std::unique_ptr<Selector> selector);
    std::unique_ptr<Selector> selector_;
    std::unique_ptr<RegistrationTable> table_;
    Registry registry_;
};

// Makes a blocked poll return an event with this token (readable set), from any thread.
// A wake before the poll is kept: the next poll returns at once; several wakes may be
// reported as one. One Waker per Poll: make refuses a second (waker_exists).
class Waker {
  public:
    static Made<Waker> make(Registry& registry, Token token);
    Waker(Waker&& other) noexcept;
    Waker& operator=(Waker&&) = delete;
    ~Waker();
    PollError wake();

  private:
    explicit Waker(Registry& registry) : registry_(&registry) {}
    Registry* registry_;  // null once moved from
};
