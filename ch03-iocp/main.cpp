// ch03-iocp: five slow requests, one thread, one I/O completion port; answers in reverse order.
//
// The heart of the chapter, on Windows. The program opens N TCP connections to the delay
// server and sends request i with a delay of (N - i) * step milliseconds: the first sent is
// the slowest. Then it waits for all of them on one thread: each socket is associated with
// an I/O completion port, a receive is started on each, and GetQueuedCompletionStatusEx
// sleeps until the OS reports receives that have completed. The answers come back in
// reverse order, in about the longest delay, not the sum of all.
//
// IOCP is completion-based: we hand the OS a buffer and say "fill this", the OS does the
// reading into our buffer, and the queue reports "done, n bytes".
//
// Compare ch03-epoll (Linux) and ch03-kqueue (macOS and BSD), which are readiness-based: the
// kernel says "this socket can be read now", and we do the reading.
//
// The queue first, in reading order: create it, register interest (start the first receive), the
// wait loop, collecting a stream, then main, which connects and sends and runs the rest, and last,
// reporting errors in this OS's words. What only supports the story is in support/, which a first
// reading may skip: connecting and sending in connect_and_send_winsock.hpp, and what is the same on
// every OS (arguments, the request and its answer check, summary, timeline) in
// arguments_and_report.hpp.
//
// Usage:    ch03-iocp [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//           [--timeline]                    (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-iocp starts one.
// Platform: Windows (I/O completion ports are Windows-only). Builds with MinGW-w64 or MSVC;
//           on Linux, ./run-example ch03-iocp runs it under Wine.
//
// What to watch for: request-4 is answered first and request-0 last; the summary line
// compares the run time with the longest delay. With --timeline, one bar per stream
// from when its request was sent to when its answer arrived: the bars overlap.
#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>

#include <fcntl.h>  // _O_BINARY
#include <io.h>     // _setmode
#include <windows.h>

#include <cstring>
#include <utility>
#include <vector>

#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>
#include "connect_and_send_winsock.hpp"  // connect_to, send_all

const char program_name[] = "ch03-iocp";  // starts every message
const char program_purpose[] = "answered through IOCP";

// Defined at the end, below the story, which they only support.
std::string error_message(DWORD error);
void print_error(std::string_view call, DWORD error);
[[noreturn]] void fail(std::string_view call, DWORD error);

// Winsock must be started before the first socket call (WSAStartup) and cleaned up after
// the last socket is closed (WSACleanup): one Winsock object, made first in main.
class Winsock {
  public:
    Winsock() {
        WSADATA data;
        const int error = WSAStartup(MAKEWORD(2, 2), &data);  // Winsock version 2.2
        if (error != 0) {
            fail("WSAStartup", error);  // It returns its error: WSAGetLastError needs Winsock.
        }
    }
    Winsock(const Winsock&) = delete;
    Winsock& operator=(const Winsock&) = delete;
    ~Winsock() {
        if (WSACleanup() != 0) {
            print_error("WSACleanup", WSAGetLastError());
        }
    }
};

// ----------------------------------------------------------------------------------------
// The event queue
// ----------------------------------------------------------------------------------------

// Owns one kernel object handle and closes it once.
class Handle {
  public:
    explicit Handle(HANDLE handle) : handle_(handle) {}
    Handle(Handle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() {
        if (handle_ != nullptr && !CloseHandle(handle_)) {
            print_error("CloseHandle", GetLastError());
        }
    }
    HANDLE get() const {
        return handle_;
    }

  private:
    HANDLE handle_;
};

// Owns one socket and closes it once.
class Socket {
  public:
    explicit Socket(SOCKET socket) : socket_(socket) {}
    Socket(Socket&& other) noexcept : socket_(std::exchange(other.socket_, INVALID_SOCKET)) {}
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        if (socket_ != INVALID_SOCKET && closesocket(socket_) != 0) {
            print_error("closesocket", WSAGetLastError());
        }
    }
    SOCKET get() const {
        return socket_;
    }

  private:
    SOCKET socket_;
};

Handle create_queue() {
    Handle queue(CreateIoCompletionPort(INVALID_HANDLE_VALUE,  // no file yet: make a new port
                                        nullptr,               // not adding to an existing one
                                        0,                     // no completion key yet
                                        1));  // one thread runs completions at a time
    if (queue.get() == nullptr) {             // NULL on failure, not INVALID_HANDLE_VALUE
        fail("CreateIoCompletionPort", GetLastError());
    }
    return queue;
}

// ----------------------------------------------------------------------------------------
// Registering interest
// ----------------------------------------------------------------------------------------

// One connection to the delay server: its socket, and what it asked and got (StreamRecord).
// In the completion model it also holds what the OS works on: the buffer it reads into, and
// the OVERLAPPED that stands for the receive in progress. That memory is the OS's from the
// start of a receive until its completion is taken off the queue, so it lives in the
// stream, and the stream list never moves its streams once the first receive is started.
constexpr std::size_t read_buffer_size = 4096;  // one page: a whole answer of the server fits
struct Stream : StreamRecord {
    Socket socket;
    OVERLAPPED overlapped = {};          // the receive in progress; zeroed before each WSARecv
    char buffer[read_buffer_size] = {};  // where the OS puts what it receives
};

// Starts one overlapped receive: when data arrives, the OS reads it into stream.buffer and
// queues a completion on the port. WSA_IO_PENDING is not an error: it means "started, will
// complete later". A receive can also complete at once (data was already waiting): WSARecv
// then returns 0, and with the default completion mode a completion is queued all the
// same. So both cases are handled in one place, the wait loop, and each exactly once.
void start_receive(Stream& stream) {
    // The WSABUF only describes the buffer: Winsock copies it before WSARecv returns, so it
    // may live on the stack. The bytes it points to and the OVERLAPPED may not.
    WSABUF buffer = {static_cast<ULONG>(sizeof stream.buffer), stream.buffer};
    DWORD flags = 0;
    stream.overlapped = {};  // An OVERLAPPED is zeroed before it is used again.
    const int result = WSARecv(stream.socket.get(), &buffer, 1,  // one buffer
                               nullptr,  // the byte count comes with the completion
                               &flags, &stream.overlapped,
                               nullptr);  // no callback: the completion goes to the port
    if (result == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) {
        fail("WSARecv", WSAGetLastError());
    }
}

// Asks the OS to report on the port when a receive on the stream's socket completes. The
// token (the stream's index in the stream list) is the completion key: stored with the
// association and handed back with every completion, so we know which stream it is about.
//
// The completion model changes the shape here: the OS has no "tell me when it is readable";
// interest is a receive in progress. So registering means associating the socket with the
// port and starting the first receive, which is why this takes the whole stream.
void register_interest(const Handle& queue, Stream& stream, std::size_t token) {
    const HANDLE port = CreateIoCompletionPort(reinterpret_cast<HANDLE>(stream.socket.get()),
                                               queue.get(), token, 0);
    if (port == nullptr) {
        fail("CreateIoCompletionPort", GetLastError());
    }
    start_receive(stream);
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

bool read_stream(Stream& stream);  // the next section: what the loop does with a stream

// Completions taken per wait: the five streams of a run fit; any more wait for the next.
constexpr unsigned max_events_per_wait = 16;

// What the OS handed back, in its own terms, for the RECEIVED line (as the book prints its
// raw Event): the receive's byte count (0 is end of file) and the completion key, the token.
std::string describe_event(const OVERLAPPED_ENTRY& event) {
    return "OVERLAPPED_ENTRY { dwNumberOfBytesTransferred: " +
           std::to_string(event.dwNumberOfBytesTransferred) +
           ", lpCompletionKey: " + std::to_string(event.lpCompletionKey) + " }";
}

void wait_loop(const Handle& queue, std::vector<Stream>& streams, Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    OVERLAPPED_ENTRY events[max_events_per_wait];  // one per completed receive
    while (finished_streams < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                         finished_streams, streams.size());
            std::exit(1);
        }
        // Sleeps until at least one receive has completed, or the time is up. Not alertable
        // (FALSE): nothing but a completion or the timeout ends the wait, so there is no
        // counterpart of epoll_wait's EINTR to retry.
        ULONG ready = 0;
        const BOOL dequeued = GetQueuedCompletionStatusEx(queue.get(), events, max_events_per_wait,
                                                          &ready, static_cast<DWORD>(left), FALSE);
        if (!dequeued && GetLastError() == WAIT_TIMEOUT) {
            continue;  // The time is up: the check above says so.
        }
        if (!dequeued) {
            fail("GetQueuedCompletionStatusEx", GetLastError());
        }
        for (unsigned i = 0; i < ready; ++i) {
            const std::size_t token = events[i].lpCompletionKey;
            Stream& stream = streams[token];
            // Unlike epoll, no completion comes for a stream already read to end of file:
            // each one answers exactly one receive, and none is started after end of file.
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

// Takes what one completed receive brought. By the time the queue reports, the OS has done
// the reading: the bytes are already in stream.buffer. So there is no read call, no EAGAIN
// and no loop (each completion is exactly one receive): we append the bytes and start the
// next receive. Returns true when the stream reached end of file just now.
bool read_stream(Stream& stream) {
    // A completion can report a failed receive (a reset connection, say): taking it off the
    // port succeeded, and the OVERLAPPED holds the receive's own status. WSAGetOverlappedResult
    // reads that status and the byte count, and sets WSAGetLastError on failure.
    DWORD count = 0;
    DWORD flags = 0;
    if (!WSAGetOverlappedResult(stream.socket.get(), &stream.overlapped, &count,
                                FALSE,  // do not wait: it has completed
                                &flags)) {
        fail("WSAGetOverlappedResult", WSAGetLastError());
    }
    if (count == 0) {
        return true;  // End of file: the server sent everything and closed.
    }
    stream.received.append(stream.buffer, count);  // maybe partial
    start_receive(stream);  // The buffer is ours again until this call: ask for more.
    return false;
}

// ----------------------------------------------------------------------------------------
// The program
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    // Standard output in binary mode: the answers carry HTTP's own "\r\n" line ends, which
    // text mode would turn into "\r\r\n".
    if (_setmode(_fileno(stdout), _O_BINARY) == -1) {
        std::perror("ch03-iocp: _setmode");  // a C runtime call: errno, not GetLastError
        return 1;
    }
    const Arguments arguments = parse_arguments(argc, argv);
    const Winsock winsock;  // until main returns, after the streams' sockets are closed
    const Clock::time_point start = Clock::now();
    const Handle queue = create_queue();

    // Room for every stream before the first is registered, so push_back never moves one:
    // where the OS does the work (IOCP, io_uring, AFD), it holds pointers into the stream.
    std::vector<Stream> streams;
    streams.reserve(arguments.requests);
    std::printf("Sending %d requests to %s, each on its own connection:\n", arguments.requests,
                arguments.address.c_str());
    for (int index = 0; index < arguments.requests; ++index) {
        const int delay_ms = (arguments.requests - index) * arguments.step_ms;
        // WSA_FLAG_OVERLAPPED: the socket can take overlapped (asynchronous) operations, the
        // only kind a completion port reports. Connecting and sending stay blocking calls.
        Stream stream{StreamRecord{}, Socket(connect_to(arguments, WSA_FLAG_OVERLAPPED))};
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
    const int result = print_summary(streams, arguments, Clock::now() - start);
    if (arguments.timeline) {
        print_timeline(streams, start);
    }
    return result;
}

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

// The OS's own message for an error code. Windows keeps the last error per thread: most
// calls report it through GetLastError, Winsock calls through WSAGetLastError; the codes
// share one numbering, and FormatMessage knows them all.
std::string error_message(DWORD error) {
    char text[512];  // the longest system message is far shorter
    DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                  nullptr, error, 0, text, sizeof text, nullptr);
    if (length == 0) {
        return "error " + std::to_string(error);  // No text for this code: the number alone.
    }
    while (length > 0 && std::strchr("\r\n .", text[length - 1]) != nullptr) {
        --length;  // The text ends with ".\r\n"; the line is ours to end.
    }
    return std::string(text, length) + " (error " + std::to_string(error) + ")";
}

void print_error(std::string_view call, DWORD error) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 error_message(error).c_str());
}

// Every OS call is checked on the next line; a failure prints the OS's own message. The
// caller passes the error code, so each call site shows where its error comes from.
[[noreturn]] void fail(std::string_view call, DWORD error) {
    print_error(call, error);
    std::exit(1);
}
