// ch03-epoll: five slow requests, one thread, one epoll instance; answers in reverse order.
//
// The heart of the chapter. The program opens N TCP connections to the delay server and
// sends request i with a delay of (N - i) * step milliseconds: the first sent is the
// slowest. Then it waits for all of them on one thread: each socket is registered with an
// epoll instance, and epoll_wait sleeps until the kernel reports sockets with data. The
// answers come back in reverse order, in about the longest delay, not the sum of all.
//
// epoll is readiness-based: the kernel says "this socket can be read now", and we do the
// reading. Compare ch03-kqueue (the same model on macOS and BSD) and ch03-iocp (Windows,
// completion-based: the kernel does the reading and says "done").
//
// The queue first, in reading order: create it, register interest, the wait loop, reading a stream,
// then main, which connects and sends and runs the rest, and last, reporting errors in this OS's
// words. What only supports the story is in support/, which a first reading may skip: connecting
// and sending in connect_and_send_posix.hpp, and what is the same on every OS (arguments, the
// request and its answer check, summary, timeline) in arguments_and_report.hpp.
//
// Usage:    ch03-epoll [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//           [--timeline]                    (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-epoll starts one.
// Platform: Linux (epoll is Linux-only).
//
// What to watch for: request-4 is answered first and request-0 last; the summary line
// compares the run time with the longest delay. With --timeline, one bar per stream
// from when its request was sent to when its answer arrived: the bars overlap.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>
#include "connect_and_send_posix.hpp"  // connect_to, send_all

const char program_name[] = "ch03-epoll";  // starts every message
const char program_purpose[] = "answered through epoll";

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

FileDescriptor create_queue() {
    FileDescriptor queue(epoll_create1(EPOLL_CLOEXEC));
    if (queue.get() < 0) {
        fail("epoll_create1", errno);
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
void register_interest(const FileDescriptor& queue, const Stream& stream, std::size_t token) {
    // struct epoll_event comes from <sys/epoll.h>, never copied by hand: on x86-64 it is
    // packed (no padding between the 32-bit events and the 64-bit data), on ARM64 and
    // others it is not. A hand-copied struct gets one of them wrong (the book's Rust
    // version had this bug on ARM64).
    epoll_event interest = {};
    interest.events = EPOLLIN     // tell us when there is something to read
                      | EPOLLET;  // edge-triggered: once per change, so read until EAGAIN
    interest.data.u64 = token;
    if (epoll_ctl(queue.get(), EPOLL_CTL_ADD, stream.socket.get(), &interest) != 0) {
        fail("epoll_ctl", errno);
    }
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

bool read_stream(Stream& stream);  // the next section: what the loop does with a stream

// Events taken per epoll_wait: the five streams of a run fit; any more wait for the next.
constexpr int max_events_per_wait = 16;

// What the OS handed back, in its own terms, for the RECEIVED line (as the book prints its
// raw Event): the event's flags by name, and its data, the token.
std::string describe_event(const epoll_event& event) {
    const std::string events = bit_names(event.events, {{EPOLLIN, "EPOLLIN"},
                                                        {EPOLLRDHUP, "EPOLLRDHUP"},
                                                        {EPOLLHUP, "EPOLLHUP"},
                                                        {EPOLLERR, "EPOLLERR"}});
    return "epoll_event { events: " + events + ", data: " + std::to_string(event.data.u64) + " }";
}

void wait_loop(const FileDescriptor& queue, std::vector<Stream>& streams,
               Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    epoll_event events[max_events_per_wait];
    while (finished_streams < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                         finished_streams, streams.size());
            std::exit(1);
        }
        // Sleeps until at least one registered socket is ready, or the time is up.
        const int ready =
            epoll_wait(queue.get(), events, max_events_per_wait, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (ready < 0) {
            fail("epoll_wait", errno);
        }
        for (int i = 0; i < ready; ++i) {
            const std::size_t token = events[i].data.u64;
            Stream& stream = streams[token];
            // A stream already read to end of file can be reported again (a spurious
            // wakeup): count each stream once.
            if (stream.finished) {
                continue;
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
