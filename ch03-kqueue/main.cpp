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
// The queue first, in reading order: create it, register interest, the wait loop, reading
// a stream, then main, which connects and sends and runs the rest. What only supports the
// story comes last (connecting and sending, reporting errors); what is the same on every OS
// (arguments, answer check, summary, timeline) is in support/arguments_and_report.hpp. A
// first reading may skip both.
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
#include <netdb.h>
#include <sys/event.h>  // kqueue, kevent, struct kevent, EV_SET (libkqueue's on Linux)
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>

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

// Defined below main, since they only support the story.
FileDescriptor connect_to(const Arguments& arguments);
std::string build_request(std::string_view path);
void send_all(int socket, std::string_view bytes);

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
        Stream stream{StreamRecord{}, connect_to(arguments)};
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
// Connecting and sending
// ----------------------------------------------------------------------------------------

// Connects a blocking TCP socket to host:port, trying each address the name resolves to
// (localhost may be ::1 first and 127.0.0.1 second).
FileDescriptor connect_to(const Arguments& arguments) {
    addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    const int resolved =
        getaddrinfo(arguments.host.c_str(), arguments.port.c_str(), &hints, &addresses);
    if (resolved != 0) {
        std::fprintf(stderr, "%s: cannot resolve %s: %s\n", program_name, arguments.host.c_str(),
                     gai_strerror(resolved));
        std::exit(1);
    }
    int last_error = 0;
    for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        FileDescriptor socket(
            ::socket(address->ai_family, address->ai_socktype, address->ai_protocol));
        if (socket.get() < 0) {
            fail("socket", errno);
        }
        // macOS has no SOCK_CLOEXEC (ch03-epoll passes it to socket()): fcntl sets the flag
        // one call later; this program starts no thread that could fork and exec in between.
        if (fcntl(socket.get(), F_SETFD, FD_CLOEXEC) != 0) {
            fail("fcntl", errno);
        }
#ifdef SO_NOSIGPIPE
        const int on = 1;  // macOS, BSD: no SIGPIPE from sends on this socket (see the top)
        if (setsockopt(socket.get(), SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) != 0) {
            fail("setsockopt", errno);
        }
#endif
        if (connect(socket.get(), address->ai_addr, address->ai_addrlen) == 0) {
            freeaddrinfo(addresses);
            return socket;
        }
        last_error = errno;
    }
    freeaddrinfo(addresses);
    std::fprintf(stderr,
                 "%s: cannot connect to %s: %s\n"
                 "Is the delay server running? Start it in another terminal with\n"
                 "    build/default/delayserver/delayserver\n"
                 "or let ./run-example %s start one for this run.\n",
                 program_name, arguments.address.c_str(), std::strerror(last_error), program_name);
    std::exit(1);
}

// Not the whole URL, only what follows the host: GET /5000/request-0 asks the delay
// server to answer "request-0" after 5000 ms.
std::string build_request(std::string_view path) {
    return "GET " + std::string(path) +
           " HTTP/1.1\r\n"
           "Host: localhost\r\n"
           "Connection: close\r\n"
           "\r\n";
}

// A blocking send: it returns when every byte is handed to the kernel.
// MSG_NOSIGNAL: a connection the server has closed makes it fail with EPIPE instead of
// raising SIGPIPE, which would end the program without a word.
void send_all(int socket, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent < 0) {
            fail("send", errno);
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

// A send to a connection the peer has closed raises SIGPIPE, which ends the program without a
// word; we want send's EPIPE error instead. Linux and the BSDs take MSG_NOSIGNAL per send (as
// ch03-epoll does). Older macOS SDKs lack that flag, but macOS (and FreeBSD, NetBSD) have the
// socket option SO_NOSIGPIPE, which connect_to sets where it exists. Our only two #ifs.
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // older macOS SDKs: SO_NOSIGPIPE (connect_to) does the job
#endif

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
