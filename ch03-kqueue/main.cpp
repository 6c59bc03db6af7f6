// ch03-kqueue: five slow requests, one thread, one kqueue; answers in reverse order.
//
// The heart of the chapter, on macOS and BSD. The program opens N TCP connections to the
// delay server and sends request i with a delay of (N - i) * step milliseconds: the first
// sent is the slowest. Then it waits for all of them on one thread: each socket is
// registered with a kqueue, and kevent sleeps until the kernel reports sockets with data.
// The answers come back in reverse order, in about the longest delay, not the sum of all.
//
// kqueue is readiness-based, like epoll: the kernel says "this socket can be read now",
// and we do the reading. Compare ch03-epoll (the same model on Linux) and ch03-iocp
// (Windows, completion-based: the kernel does the reading and says "done").
//
// The queue first, in reading order: create it, register interest, the wait loop, reading a stream,
// then main, which connects and sends and runs the rest, and last, reporting errors in this OS's
// words. What only supports the story is in support/, which a first reading may skip: connecting
// and sending in connect_and_send_posix.hpp, and what is the same on every OS (arguments, the
// request and its answer check, summary, timeline) in arguments_and_report.hpp.
//
// Usage:    ch03-kqueue [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//           [--timeline]                    (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-kqueue starts one.
// Platform: macOS, FreeBSD and the other BSDs (kqueue is part of their libc); Linux with
//           libkqueue, which emulates kqueue on top of epoll (see README.md).
//
// What to watch for: request-4 is answered first and request-0 last; the summary line
// compares the run time with the longest delay. With --timeline, one bar per stream
// from when its request was sent to when its answer arrived: the bars overlap.
#include <sys/types.h>  // first: kqueue(2) lists it before <sys/event.h>

#include <fcntl.h>
#include <sys/event.h>  // kqueue, kevent, struct kevent, EV_SET (libkqueue's on Linux)
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>
#include "connect_and_send_posix.hpp"  // connect_to, send_all

const char program_name[] = "ch03-kqueue";  // starts every message
const char program_purpose[] = "answered through kqueue";

// Defined at the end, below the story, which they only support.
void print_error(std::string_view call, int error);
[[noreturn]] void fail(std::string_view call, int error);

// ----------------------------------------------------------------------------------------
// The event queue
// ----------------------------------------------------------------------------------------

// Owns one file descriptor (a socket, or the queue where it is one) and closes it once.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0 && close(fd_) != 0) {
            print_error("close", errno);
        }
    }
    int get() const {
        return fd_;
    }

  private:
    int fd_;
};

// kqueue() takes no flags (no EPOLL_CLOEXEC): fcntl sets close-on-exec, as mio does. A macOS
// or FreeBSD kqueue is not inherited by fork anyway (kqueue(2)), but libkqueue's on Linux,
// where the tests run, is an ordinary descriptor that a child does inherit.
FileDescriptor create_queue() {
    FileDescriptor queue(kqueue());
    if (queue.get() < 0) {
        fail("kqueue", errno);
    }
    if (fcntl(queue.get(), F_SETFD, FD_CLOEXEC) != 0) {
        fail("fcntl", errno);
    }
    return queue;
}

// ----------------------------------------------------------------------------------------
// Registering interest
// ----------------------------------------------------------------------------------------

// One connection to the delay server: its socket, and what it asked and got (StreamRecord).
struct Stream : StreamRecord {
    FileDescriptor socket;
};

// Asks the kernel to report when the stream's socket can be read. The token (the stream's
// index in the stream list) is stored with the registration and handed back with every
// event, so we know which stream an event is about.
//
// kqueue has no separate control call: kevent takes a change list (registrations to make)
// and an event list (events to return), either of which may be empty. Here it gets a
// change list of one entry and no room for events, so an error in the change comes back
// as -1 and errno. struct kevent comes from <sys/event.h>, never copied by hand: its
// fields differ between macOS, FreeBSD (ext[4] since FreeBSD 12) and NetBSD. Its udata is
// a pointer (void*); the token goes in as a number and comes back out as one, never
// dereferenced.
//
// EV_CLEAR rather than EV_ONESHOT: EV_ONESHOT reports a socket once and then deletes the
// registration, so every partial read would need another kevent call to add it back.
// EV_CLEAR keeps the registration and resets its state after each report, so the socket
// is reported again only when more data arrives: edge-triggered, like ch03-epoll's
// EPOLLET, and like it, it must be read until EAGAIN.
void register_interest(const FileDescriptor& queue, const Stream& stream, std::size_t token) {
    struct kevent interest;                  // "struct": kevent is also the name of the call
    EV_SET(&interest, stream.socket.get(),   // ident: the file descriptor to watch
           EVFILT_READ,                      // filter: tell us when there is something to read
           EV_ADD                            // add this registration to the queue,
               | EV_ENABLE                   // report it (EV_ADD implies this; said for clarity)
               | EV_CLEAR,                   // edge-triggered: once per change, read until EAGAIN
           0,                                // fflags: no filter-specific flags
           0,                                // data: nothing for EVFILT_READ
           reinterpret_cast<void*>(token));  // udata: handed back with every event
    if (kevent(queue.get(), &interest, 1, nullptr, 0, nullptr) != 0) {
        fail("kevent", errno);
    }
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

bool read_stream(Stream& stream);  // the next section: what the loop does with a stream

// Events taken per kevent: the five streams of a run fit; any more wait for the next.
constexpr int max_events_per_wait = 16;

// What the OS handed back, in its own terms, for the RECEIVED line (as the book prints its
// raw Event): the filter, the flags by name (EV_EOF once the server has
// closed), data (for EVFILT_READ, the bytes waiting to be read) and udata, the token. Flags
// and data depend on how far the answer had come when the event was made.
std::string describe_event(const struct kevent& event) {
    const std::string filter =
        event.filter == EVFILT_READ ? "EVFILT_READ" : std::to_string(event.filter);
    const std::string flags = bit_names(event.flags, {{EV_ADD, "EV_ADD"},
                                                      {EV_ENABLE, "EV_ENABLE"},
                                                      {EV_CLEAR, "EV_CLEAR"},
                                                      {EV_EOF, "EV_EOF"},
                                                      {EV_ERROR, "EV_ERROR"}});
    return "kevent { filter: " + filter + ", flags: " + flags +
           ", data: " + std::to_string(event.data) +
           ", udata: " + std::to_string(reinterpret_cast<std::uintptr_t>(event.udata)) + " }";
}

void wait_loop(const FileDescriptor& queue, std::vector<Stream>& streams,
               Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    struct kevent events[max_events_per_wait];
    while (finished_streams < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                         finished_streams, streams.size());
            std::exit(1);
        }
        // kevent takes the time left as a timespec (seconds and nanoseconds), not ms.
        const timespec timeout = {static_cast<time_t>(left / 1000),
                                  static_cast<long>(left % 1000 * 1000000)};
        // Sleeps until at least one registered socket is ready, or the time is up. The
        // change list is empty this time: we only collect events.
        const int ready = kevent(queue.get(), nullptr, 0, events, max_events_per_wait, &timeout);
        if (ready < 0 && errno == EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (ready < 0) {
            fail("kevent", errno);
        }
        for (int i = 0; i < ready; ++i) {
            const std::size_t token = reinterpret_cast<std::uintptr_t>(events[i].udata);
            Stream& stream = streams[token];
            // EV_ERROR: not data but an error about this registration; data holds the errno.
            if ((events[i].flags & EV_ERROR) != 0) {
                fail("kevent", static_cast<int>(events[i].data));
            }
            // A stream already read to end of file can be reported again (a spurious
            // wakeup): count each stream once.
            if (stream.finished) {
                continue;
            }
            // EV_EOF: the server has closed its end. What it sent first is still buffered, so
            // read_stream reads it and then sees end of file; but if the connection failed
            // (reset), fflags holds the socket's error.
            if ((events[i].flags & EV_EOF) != 0 && events[i].fflags != 0) {
                fail("kevent EV_EOF", static_cast<int>(events[i].fflags));
            }
            if (read_stream(stream)) {
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream, describe_event(events[i]));
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// Reading a stream
// ----------------------------------------------------------------------------------------

// One page: a whole answer of the delay server fits, and we read until "would block" anyway.
constexpr std::size_t read_buffer_size = 4096;

// Reads everything the stream has for us. Edge-triggered (EPOLLET in ch03-epoll, EV_CLEAR in
// ch03-kqueue), the kernel reports a socket once per change, so we must read until it says
// EAGAIN ("nothing more for now"), or the rest of the data would never be reported again.
// Returns true when the stream reached end of file just now.
bool read_stream(Stream& stream) {
    char buffer[read_buffer_size];
    while (true) {
        const ssize_t count = read(stream.socket.get(), buffer, sizeof buffer);
        if (count > 0) {
            stream.received.append(buffer, static_cast<std::size_t>(count));  // maybe partial
            continue;
        }
        if (count == 0) {
            return true;  // End of file: the server sent everything and closed.
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return false;  // Read all there is for now; wait for the next event.
        }
        if (errno == EINTR) {
            continue;  // A signal interrupted the read: try again.
        }
        fail("read", errno);
    }
}

// ----------------------------------------------------------------------------------------
// The program
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    const Arguments arguments = parse_arguments(argc, argv);
    const Clock::time_point start = Clock::now();
    const FileDescriptor queue = create_queue();

    // Room for every stream before the first is registered, so push_back never moves one:
    // where the OS does the work (IOCP, io_uring, AFD), it holds pointers into the stream.
    std::vector<Stream> streams;
    streams.reserve(arguments.requests);
    std::printf("Sending %d requests to %s, each on its own connection:\n", arguments.requests,
                arguments.address.c_str());
    for (int index = 0; index < arguments.requests; ++index) {
        const int delay_ms = (arguments.requests - index) * arguments.step_ms;
        Stream stream{StreamRecord{}, FileDescriptor(connect_to(arguments))};
        stream.request_path = '/' + std::to_string(delay_ms) + "/request-" + std::to_string(index);
        send_all(stream.socket.get(), build_request(stream.request_path));
        stream.sent_at = Clock::now();
        // Non-blocking from here on: a read with nothing to read returns EAGAIN instead
        // of putting the thread to sleep, so one stream can never block the others.
        const int flags = fcntl(stream.socket.get(), F_GETFL);
        if (flags < 0 || fcntl(stream.socket.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
            fail("fcntl", errno);
        }
        std::printf("  stream %d: GET %s\n", index, stream.request_path.c_str());
        streams.push_back(std::move(stream));
        register_interest(queue, streams.back(), streams.size() - 1);
    }
    std::printf("Waiting for the answers on one thread...\n\n");
    std::fflush(stdout);

    wait_loop(queue, streams, start + std::chrono::milliseconds(arguments.timeout_ms));
    const int result = print_summary(streams, arguments, Clock::now() - start);
    if (arguments.timeline) {
        print_timeline(streams, start);
    }
    return result;
}

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

void print_error(std::string_view call, int error) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 std::strerror(error));
}

// Every OS call is checked on the next line; a failure prints the OS's own message. The
// caller passes the error code, so each call site shows where its error comes from.
[[noreturn]] void fail(std::string_view call, int error) {
    print_error(call, error);
    std::exit(1);
}
