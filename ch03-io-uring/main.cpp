// ch03-io-uring: five slow requests, one thread, one io_uring instance; answers in reverse order.
//
// The heart of the chapter, on Linux (io_uring). The program opens N TCP connections to the delay
// server and sends request i with a delay of (N - i) * step milliseconds: the first sent is
// the slowest. Then it waits for all of them on one thread: a receive is submitted to an
// io_uring instance for each socket, and io_uring_submit_and_wait_timeout
// sleeps until the OS reports receives that have completed. The answers come back in
// reverse order, in about the longest delay, not the sum of all.
//
// io_uring is completion-based: we hand the OS a buffer and say "fill this", the OS does the
// reading into our buffer, and the queue reports "done, n bytes".
//
// Compare ch03-iocp (Windows, completion-based too) and ch03-epoll (the same OS,
// readiness-based: the kernel says "this socket can be read now", and we do the reading).
// The requests and the reports travel through two ring buffers shared with the kernel: we
// write submissions into one, the kernel writes completions into the other, and one system
// call, io_uring_enter(2), both hands over the new submissions and waits (io_uring(7)).
// liburing, the kernel project's own library, sets the rings up and reads and writes them.
//
// The queue first, in reading order: create it, register interest (start the first receive), the
// wait loop, collecting a stream, then main, which connects and sends and runs the rest, and last,
// reporting errors in this OS's words. What only supports the story is in support/, which a first
// reading may skip: connecting and sending in connect_and_send_posix.hpp, and what is the same on
// every OS (arguments, the request and its answer check, summary, timeline) in
// arguments_and_report.hpp.
//
// Usage:    ch03-io-uring [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//           [--timeline]                    (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-io-uring starts one.
// Platform: Linux 5.6 or later (receives through io_uring), with liburing (liburing-dev).
//           Where io_uring is missing or forbidden it says so and exits with code 4.
//
// What to watch for: request-4 is answered first and request-0 last; the summary line
// compares the run time with the longest delay. With --timeline, one bar per stream
// from when its request was sent to when its answer arrived: the bars overlap.
#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>
#include "connect_and_send_posix.hpp"  // connect_to, send_all

const char program_name[] = "ch03-io-uring";  // starts every message
const char program_purpose[] = "answered through io_uring";

// Exit code 1 is a failed call, no server or a fault, 2 a usage error. This one says "no
// io_uring on this machine", so that the tests can report themselves skipped, not failed.
constexpr int exit_no_io_uring = 4;

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

// Owns one io_uring instance and exits it once: io_uring_queue_exit unmaps the rings and
// closes the ring's descriptor (it reports no error). liburing keeps the instance in a
// struct io_uring (where the rings are mapped, the descriptor) and does not promise that the
// struct may move once set up, so it stays on the heap: moving a Ring moves the pointer.
class Ring {
  public:
    Ring() : ring_(std::make_unique<io_uring>()) {}  // set up by create_queue, or it exits
    Ring(Ring&& other) noexcept = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    ~Ring() {
        if (ring_ != nullptr) {
            io_uring_queue_exit(ring_.get());
        }
    }
    io_uring* get() const {
        return ring_.get();
    }

  private:
    std::unique_ptr<io_uring> ring_;
};

// io_uring_queue_init calls io_uring_setup(2), which makes a submission queue of at least
// `entries` slots and a completion queue of twice as many, and returns the ring's descriptor
// (always close-on-exec); then it maps both rings into our memory with mmap(2). One slot per
// stream: a stream has at most one receive in flight, so neither ring can fill up.
Ring create_queue(unsigned entries) {
    Ring queue;
    const int result = io_uring_queue_init(entries, queue.get(), 0);  // no setup flags
    // No io_uring here: a kernel without it (ENOSYS), or one that forbids it to us (EPERM:
    // the sysctl kernel.io_uring_disabled, or a seccomp filter, as container runtimes use).
    if (result == -ENOSYS || result == -EPERM) {
        std::fprintf(stderr, "%s: io_uring_queue_init: %s: io_uring is not available here\n",
                     program_name, std::strerror(-result));
        std::exit(exit_no_io_uring);
    }
    if (result < 0) {
        fail("io_uring_queue_init", -result);  // liburing returns -errno, errno is not set
    }
    return queue;
}

// ----------------------------------------------------------------------------------------
// Registering interest
// ----------------------------------------------------------------------------------------

// One connection to the delay server: its socket, and what it asked and got (StreamRecord).
// In the completion model it also holds what the OS works on: the buffer it reads into
// (no OVERLAPPED: the submission carries the token). That memory is the OS's from the
// start of a receive until its completion is taken off the queue, so it lives in the
// stream, and the stream list never moves its streams once the first receive is started.
constexpr std::size_t read_buffer_size = 4096;  // one page: a whole answer of the server fits
struct Stream : StreamRecord {
    FileDescriptor socket;
    char buffer[read_buffer_size] = {};  // where the OS puts what it receives
};

// Queues one receive: a submission queue entry (SQE) that says "receive from this socket
// into stream.buffer". liburing writes it into the next free slot of the submission ring, in
// our memory; the kernel learns of it at the next io_uring_enter, in the wait loop, which
// hands over every entry queued since the last one in one system call. The token rides
// with the entry (user_data) and comes back in its completion, so we know which stream it
// is about. The kernel tries the receive at once and, if nothing has arrived, waits on the
// socket itself.
void start_receive(const Ring& queue, Stream& stream, std::size_t token) {
    io_uring_sqe* entry = io_uring_get_sqe(queue.get());
    if (entry == nullptr) {  // Not an OS call and no errno: the submission ring is full.
        std::fprintf(stderr, "%s: io_uring_get_sqe: the submission queue is full\n", program_name);
        std::exit(1);  // It cannot be: one slot per stream, one receive per stream.
    }
    io_uring_prep_recv(entry, stream.socket.get(), stream.buffer, sizeof stream.buffer,
                       0);  // no flags: take what has arrived, up to the buffer's size
    io_uring_sqe_set_data64(entry, token);
}

// The completion model changes the shape here: the OS has no "tell me when it is readable";
// interest is a receive in progress. So registering means starting the first receive: a ring
// needs no association, it takes operations on any descriptor, each with its own token.
void register_interest(const Ring& queue, Stream& stream, std::size_t token) {
    start_receive(queue, stream, token);
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

bool read_stream(const Ring& queue, Stream& stream, std::size_t token, int result);

// Completions taken per wait: the five streams of a run fit; any more wait for the next.
constexpr unsigned max_events_per_wait = 16;

// What the OS handed back, in its own terms, for the RECEIVED line (as the book prints its
// raw Event): the result (a byte count, 0 at end of file, or -errno) and user_data, the token.
std::string describe_event(const io_uring_cqe& event) {
    return "io_uring_cqe { res: " + std::to_string(event.res) +
           ", user_data: " + std::to_string(event.user_data) + " }";
}

void wait_loop(const Ring& queue, std::vector<Stream>& streams, Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    io_uring_cqe* events[max_events_per_wait];  // one per completed receive, in the ring
    while (finished_streams < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            // Receives are still in flight, into buffers in our memory: exiting is safe, as
            // the kernel cancels a process's io_uring operations as it exits, before its
            // memory is released (the same holds for every fail() with receives queued).
            std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                         finished_streams, streams.size());
            std::exit(1);
        }
        // One system call, io_uring_enter(2): liburing moves the submission ring's tail past
        // every receive queued since the last call, the kernel takes them, and the thread
        // sleeps until at least one completion is in the ring, or the time is up.
        __kernel_timespec timeout = {.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000};
        io_uring_cqe* first = nullptr;  // the batch below takes it with the others
        const int submitted =
            io_uring_submit_and_wait_timeout(queue.get(), &first, 1, &timeout, nullptr);
        if (submitted == -EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (submitted == -ETIME) {
            continue;  // The time is up: the check above says so.
        }
        if (submitted < 0) {
            fail("io_uring_submit_and_wait_timeout", -submitted);
        }
        // Zero or more is the number of entries handed over, not a promise of a completion:
        // if it handed some over and then the time ran out or a signal came, it returns
        // their number all the same. So take what the completion ring holds, perhaps nothing:
        // liburing reads it in our memory, from the ring's head to its tail, with no system call.
        const unsigned ready = io_uring_peek_batch_cqe(queue.get(), events, max_events_per_wait);
        for (unsigned i = 0; i < ready; ++i) {
            // In any order: each completion carries the token its submission was given.
            const std::uint64_t token = io_uring_cqe_get_data64(events[i]);
            if (token == LIBURING_UDATA_TIMEOUT) {
                continue;  // Before Linux 5.11, liburing times a wait with an entry of its own.
            }
            Stream& stream = streams[token];
            // Unlike epoll, no completion comes for a stream already read to end of file:
            // each one answers exactly one receive, and none is started after end of file.
            if (read_stream(queue, stream, token, events[i]->res)) {
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream, describe_event(*events[i]));
            }
        }
        // Moves the completion ring's head past them: those slots are the kernel's again.
        io_uring_cq_advance(queue.get(), ready);
    }
}

// ----------------------------------------------------------------------------------------
// Reading a stream
// ----------------------------------------------------------------------------------------

// Takes what one completed receive brought. By the time the queue reports, the OS has done
// the reading: the bytes are already in stream.buffer. So there is no read call, no EAGAIN
// and no loop (each completion is exactly one receive): we append the bytes and start the
// next receive. Returns true when the stream reached end of file just now.
bool read_stream(const Ring& queue, Stream& stream, std::size_t token, int result) {
    // The completion's result is what recv(2) would have returned: a byte count, 0 at end of
    // file, or the error as -errno.
    if (result == -EINTR) {  // A signal interrupted the receive: queue it again, as
        start_receive(queue, stream, token);  // ch03-epoll retries its read.
        return false;
    }
    if (result < 0) {
        fail("recv", -result);  // The receive itself failed: a reset connection, say.
    }
    if (result == 0) {
        return true;  // End of file: the server sent everything and closed.
    }
    stream.received.append(stream.buffer, static_cast<std::size_t>(result));  // maybe partial
    start_receive(queue, stream, token);  // The buffer is ours again until this call: more.
    return false;
}

// ----------------------------------------------------------------------------------------
// The program
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    const Arguments arguments = parse_arguments(argc, argv);
    const Clock::time_point start = Clock::now();
    const Ring queue = create_queue(static_cast<unsigned>(arguments.requests));

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
        // No non-blocking mode to set: the OS waits on the socket, never our thread.
        std::printf("  stream %d: GET %s\n", index, stream.request_path.c_str());
        streams.push_back(std::move(stream));
        register_interest(queue, streams.back(), streams.size() - 1);
    }
    std::printf("Waiting for the answers on one thread...\n\n");
    std::fflush(stdout);

    wait_loop(queue, streams, start + std::chrono::milliseconds(arguments.timeout_ms));
    // Every receive has completed: each stream ended with its 0-byte completion and queued
    // no more. So nothing the kernel holds points into a stream when the list goes, and the
    // ring, destroyed after it, has nothing in flight to cancel.
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
