// ch03-kqueue: five slow requests, one thread, one kqueue; answers in reverse order.
//
// The heart of the chapter, on macOS and BSD. The program opens N TCP connections to the
// delay server and sends request i with a delay of (N - i) * step milliseconds, so the
// first request sent is the slowest. It then waits for all of them at once on one thread:
// each socket is registered with a kqueue, and kevent puts the thread to sleep until the
// kernel reports that one or more sockets have data. The answers come back in reverse
// order of request, and the whole run takes about as long as the longest delay, not the
// sum of all delays.
//
// kqueue is readiness-based, like epoll: the kernel says "this socket can be read now",
// and we do the reading. Compare ch03-epoll (the same model on Linux) and ch03-iocp
// (Windows, completion-based: the kernel does the reading and says "done").
//
// Usage:    ch03-kqueue [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//                   [--timeline]
//           (defaults: localhost:8080, 5 requests, 1000 ms step, timeout = longest delay
//           + 10 s). The delay server must be running: ./run-example ch03-kqueue starts one.
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

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using Clock = std::chrono::steady_clock;

// A send to a connection the peer has closed raises SIGPIPE, which ends the program
// without a word; we want send's EPIPE error instead. Linux and the BSDs take MSG_NOSIGNAL
// per send (as ch03-epoll does). Older macOS SDKs lack that flag, but macOS (and FreeBSD,
// NetBSD) have the socket option SO_NOSIGPIPE, which connect_to sets where it exists.
// These two #ifs are the program's only ones.
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // older macOS SDKs: SO_NOSIGPIPE (connect_to) does the job
#endif

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

// Every OS call is checked on the next line; a failure prints the OS's own message.
[[noreturn]] void fail(std::string_view call) {
    std::fprintf(stderr, "ch03-kqueue: %.*s: %s\n", static_cast<int>(call.size()), call.data(),
                 std::strerror(errno));
    std::exit(1);
}

[[noreturn]] void usage_error(std::string_view message) {
    std::fprintf(stderr,
                 "ch03-kqueue: %.*s\n"
                 "usage: ch03-kqueue [--address HOST:PORT] [--requests N] [--step MS] "
                 "[--timeout MS] [--timeline]\n",
                 static_cast<int>(message.size()), message.data());
    std::exit(2);
}

// ----------------------------------------------------------------------------------------
// The arguments
// ----------------------------------------------------------------------------------------

struct Arguments {
    std::string host = "localhost";
    std::string port = "8080";
    int requests = 5;
    int step_ms = 1000;
    int timeout_ms = -1;  // -1: the longest delay plus 10 s
    bool timeline = false;
};

int parse_number(std::string_view text, int lowest, int highest, std::string_view flag) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < lowest ||
        value > highest) {
        usage_error(std::string(flag) + " needs a whole number from " + std::to_string(lowest) +
                    " to " + std::to_string(highest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

Arguments parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int index = 1; index < argc; ++index) {
        const std::string_view flag = argv[index];
        if (flag == "--help" || flag == "-h") {
            usage_error("five slow requests to the delay server, answered through kqueue");
        }
        if (flag == "--timeline") {
            arguments.timeline = true;
            continue;
        }
        if (index + 1 >= argc) {
            usage_error("unknown option or missing value: '" + std::string(flag) + "'");
        }
        const std::string_view value = argv[++index];
        if (flag == "--address") {
            const std::size_t colon = value.rfind(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
                usage_error("--address needs HOST:PORT, not '" + std::string(value) + "'");
            }
            arguments.host = value.substr(0, colon);
            arguments.port = value.substr(colon + 1);
        } else if (flag == "--requests") {
            arguments.requests = parse_number(value, 1, 1000, flag);
        } else if (flag == "--step") {
            arguments.step_ms = parse_number(value, 0, 10000, flag);
        } else if (flag == "--timeout") {
            arguments.timeout_ms = parse_number(value, 1, 3600000, flag);
        } else {
            usage_error("unknown option '" + std::string(flag) + "'");
        }
    }
    if (arguments.timeout_ms < 0) {
        arguments.timeout_ms = arguments.requests * arguments.step_ms + 10000;
    }
    return arguments;
}

// ----------------------------------------------------------------------------------------
// The request builder
// ----------------------------------------------------------------------------------------

// Not the whole URL, only what follows the host: GET /5000/request-0 asks the delay
// server to answer "request-0" after 5000 ms.
std::string build_request(int delay_ms, int index) {
    return "GET /" + std::to_string(delay_ms) + "/request-" + std::to_string(index) +
           " HTTP/1.1\r\n"
           "Host: localhost\r\n"
           "Connection: close\r\n"
           "\r\n";
}

// ----------------------------------------------------------------------------------------
// The stream list
// ----------------------------------------------------------------------------------------

// Owns one file descriptor and closes it once.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0 && close(fd_) != 0) {
            std::perror("ch03-kqueue: close");
        }
    }
    int get() const {
        return fd_;
    }

  private:
    int fd_;
};

// One connection to the delay server, and what it has received so far.
struct Stream {
    FileDescriptor socket;
    std::string request_path;
    std::string received;
    bool finished = false;               // read to end of file
    Clock::time_point sent_at = {};      // for the timeline
    Clock::time_point answered_at = {};  // for the timeline
};

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
        std::fprintf(stderr, "ch03-kqueue: cannot resolve %s: %s\n", arguments.host.c_str(),
                     gai_strerror(resolved));
        std::exit(1);
    }
    int last_error = 0;
    for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        FileDescriptor socket(
            ::socket(address->ai_family, address->ai_socktype, address->ai_protocol));
        if (socket.get() < 0) {
            fail("socket");
        }
        // macOS has no SOCK_CLOEXEC for socket() (ch03-epoll passes it there): fcntl sets
        // the same close-on-exec flag one call later. Portable, and this program starts no
        // other thread that could fork and exec in between.
        if (fcntl(socket.get(), F_SETFD, FD_CLOEXEC) != 0) {
            fail("fcntl");
        }
#ifdef SO_NOSIGPIPE
        const int on = 1;  // macOS, BSD: no SIGPIPE from sends on this socket (see the top)
        if (setsockopt(socket.get(), SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) != 0) {
            fail("setsockopt");
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
                 "ch03-kqueue: cannot connect to %s:%s: %s\n"
                 "Is the delay server running? Start it in another terminal with\n"
                 "    build/default/delayserver/delayserver\n"
                 "or let ./run-example ch03-kqueue start one for this run.\n",
                 arguments.host.c_str(), arguments.port.c_str(), std::strerror(last_error));
    std::exit(1);
}

void send_all(int socket, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent < 0) {
            fail("send");
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

// ----------------------------------------------------------------------------------------
// The event queue
// ----------------------------------------------------------------------------------------

// kqueue() takes no flags, so there is no EPOLL_CLOEXEC to pass; a kqueue is not inherited
// by a child made with fork (kqueue(2) on macOS and FreeBSD), so a program started by fork
// and exec never sees it.
FileDescriptor create_queue() {
    FileDescriptor queue(kqueue());
    if (queue.get() < 0) {
        fail("kqueue");
    }
    return queue;
}

// Asks the kernel to report when `socket` can be read. The token (the stream's index in
// the stream list) is stored with the registration and handed back with every event, so
// we know which stream an event is about.
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
void register_interest(const FileDescriptor& queue, int socket, std::size_t token) {
    struct kevent interest;                  // "struct": kevent is also the name of the call
    EV_SET(&interest, socket,                // ident: the file descriptor to watch
           EVFILT_READ,                      // filter: tell us when there is something to read
           EV_ADD                            // add this registration to the queue,
               | EV_ENABLE                   // report it (EV_ADD implies this; said for clarity)
               | EV_CLEAR,                   // edge-triggered: once per change, read until EAGAIN
           0,                                // fflags: no filter-specific flags
           0,                                // data: nothing for EVFILT_READ
           reinterpret_cast<void*>(token));  // udata: handed back with every event
    if (kevent(queue.get(), &interest, 1, nullptr, 0, nullptr) != 0) {
        fail("kevent");
    }
}

// ----------------------------------------------------------------------------------------
// Handling an event
// ----------------------------------------------------------------------------------------

// Reads everything the stream has for us. EV_CLEAR reports a socket once per change, so
// we must read until the kernel says EAGAIN ("nothing more for now"), or the rest of the
// data would never be reported again. Returns true when the stream reached end of file
// just now.
bool read_stream(Stream& stream) {
    char buffer[4096];
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
        fail("read");
    }
}

void print_response(std::size_t token, const Stream& stream) {
    std::printf("RECEIVED: stream %zu, %s\n%s\n------\n", token, stream.request_path.c_str(),
                stream.received.c_str());
    std::fflush(stdout);
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

void wait_loop(const FileDescriptor& queue, std::vector<Stream>& streams,
               Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    struct kevent events[16];
    while (finished_streams < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            std::fprintf(stderr, "ch03-kqueue: timed out with %zu of %zu responses\n",
                         finished_streams, streams.size());
            std::exit(1);
        }
        // kevent takes the time left as a timespec (seconds and nanoseconds), not ms.
        const timespec timeout = {static_cast<time_t>(left / 1000),
                                  static_cast<long>(left % 1000 * 1000000)};
        // Sleeps until at least one registered socket is ready, or the time is up. The
        // change list is empty this time: we only collect events.
        const int ready = kevent(queue.get(), nullptr, 0, events, std::size(events), &timeout);
        if (ready < 0 && errno == EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (ready < 0) {
            fail("kevent");
        }
        for (int i = 0; i < ready; ++i) {
            const std::size_t token = reinterpret_cast<std::uintptr_t>(events[i].udata);
            Stream& stream = streams[token];
            // EV_ERROR: not data but an error about this registration; data holds the errno.
            if ((events[i].flags & EV_ERROR) != 0) {
                errno = static_cast<int>(events[i].data);
                fail("kevent");
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
                errno = static_cast<int>(events[i].fflags);
                fail("kevent EV_EOF");
            }
            if (read_stream(stream)) {
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream);
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// The summary
// ----------------------------------------------------------------------------------------

// A complete 200 OK answer: the status line, the head up to its empty line, and a body of
// exactly the size its content-length header gives. The delay server always sends that
// header and closes the connection after the body, so a shorter body means the connection
// ended early, and a missing head means the server sent something that is not HTTP at all.
// Header names are case-insensitive (RFC 9110 section 5.1).
bool is_complete_ok_answer(std::string_view answer) {
    constexpr std::string_view status_line = "HTTP/1.1 200 OK\r\n";
    const std::size_t head_end = answer.find("\r\n\r\n");
    if (!answer.starts_with(status_line) || head_end == std::string_view::npos) {
        return false;
    }
    const std::size_t body_size = answer.size() - (head_end + 4);
    // The header lines, each ending in "\r\n": from after the status line to the empty line.
    std::string_view headers = answer.substr(status_line.size(), head_end + 2 - status_line.size());
    while (!headers.empty()) {
        const std::size_t line_end = headers.find("\r\n");
        const std::string_view line = headers.substr(0, line_end);
        headers.remove_prefix(line_end + 2);
        const std::string_view wanted = "content-length:";
        const bool is_content_length =
            line.size() > wanted.size() &&
            std::equal(wanted.begin(), wanted.end(), line.begin(), [](char lower, char got) {
                return lower == (got >= 'A' && got <= 'Z' ? got - 'A' + 'a' : got);
            });
        if (!is_content_length) {
            continue;
        }
        std::string_view value = line.substr(wanted.size());
        while (value.starts_with(' ') || value.starts_with('\t')) {
            value.remove_prefix(1);  // optional white space around the value
        }
        while (value.ends_with(' ') || value.ends_with('\t')) {
            value.remove_suffix(1);
        }
        std::size_t length = 0;
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), length);
        return error == std::errc() && end == value.data() + value.size() && length == body_size;
    }
    return false;  // no content-length: there is no telling whether the body is complete
}

// Each answer must be a complete 200 OK; the run took about the longest delay, not the sum.
int print_summary(const std::vector<Stream>& streams, const Arguments& arguments,
                  Clock::duration elapsed) {
    int failed = 0;
    for (std::size_t token = 0; token < streams.size(); ++token) {
        if (!is_complete_ok_answer(streams[token].received)) {
            std::fprintf(stderr, "ch03-kqueue: stream %zu got no complete 200 OK answer\n", token);
            ++failed;
        }
    }
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const double longest = arguments.requests * arguments.step_ms / 1000.0;
    const double one_at_a_time =
        arguments.requests * (arguments.requests + 1) / 2 * arguments.step_ms / 1000.0;
    std::printf(
        "FINISHED: %zu responses in %.2f s; the longest delay is %.2f s, "
        "one at a time would take %.2f s\n",
        streams.size(), seconds, longest, one_at_a_time);
    return failed == 0 ? 0 : 1;
}

// One line per stream: a bar from when its request was sent to when its answer arrived,
// on one time scale, so the overlap of the waits can be seen.
void print_timeline(const std::vector<Stream>& streams, Clock::time_point start) {
    constexpr int columns = 50;
    Clock::duration end = Clock::duration::zero();
    for (const Stream& stream : streams) {
        end = std::max(end, stream.answered_at - start);
    }
    const double seconds_per_column =
        std::max(std::chrono::duration<double>(end).count() / columns, 0.001);
    auto column = [&](Clock::time_point time) {
        return static_cast<int>(std::chrono::duration<double>(time - start).count() /
                                seconds_per_column);
    };
    std::printf("\nTimeline: from request sent (|) to answer (>); one column is %.0f ms\n",
                seconds_per_column * 1000);
    for (std::size_t token = 0; token < streams.size(); ++token) {
        const Stream& stream = streams[token];
        const int sent = column(stream.sent_at);
        const int answered = std::max(column(stream.answered_at), sent + 1);
        const std::string bar = std::string(sent, ' ') + "|" +
                                std::string(answered - sent - 1, '=') + ">" +
                                std::string(std::max(columns - answered, 0), ' ');
        std::printf("  stream %zu %s %5.2f s\n", token, bar.c_str(),
                    std::chrono::duration<double>(stream.answered_at - stream.sent_at).count());
    }
}

int main(int argc, char** argv) {
    const Arguments arguments = parse_arguments(argc, argv);
    const Clock::time_point start = Clock::now();
    const FileDescriptor queue = create_queue();

    std::vector<Stream> streams;
    streams.reserve(arguments.requests);
    std::printf("Sending %d requests to %s:%s, each on its own connection:\n", arguments.requests,
                arguments.host.c_str(), arguments.port.c_str());
    for (int index = 0; index < arguments.requests; ++index) {
        const int delay_ms = (arguments.requests - index) * arguments.step_ms;
        const std::string request = build_request(delay_ms, index);
        Stream stream{connect_to(arguments), request.substr(4, request.find(' ', 4) - 4), {}};
        send_all(stream.socket.get(), request);
        stream.sent_at = Clock::now();
        // Non-blocking from here on: a read with nothing to read returns EAGAIN instead
        // of putting the thread to sleep, so one stream can never block the others.
        const int flags = fcntl(stream.socket.get(), F_GETFL);
        if (flags < 0 || fcntl(stream.socket.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
            fail("fcntl");
        }
        register_interest(queue, stream.socket.get(), streams.size());
        std::printf("  stream %d: GET %s\n", index, stream.request_path.c_str());
        streams.push_back(std::move(stream));
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
