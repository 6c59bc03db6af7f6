// ch03-wepoll: five slow requests, one thread, readiness through IOCP; answers in reverse order.
//
// The heart of the chapter. The program opens N TCP connections to the delay server and
// sends request i with a delay of (N - i) * step milliseconds: the first sent is the
// slowest. Then it waits for all of them on one thread: a poll of each socket is sent to the
// AFD driver (the kernel driver under Winsock), and GetQueuedCompletionStatusEx sleeps until
// the driver reports sockets with data on an I/O completion port. The
// answers come back in reverse order, in about the longest delay, not the sum of all.
//
// An AFD poll is readiness-based, as epoll is: the port says "this socket can be read now",
// and we do the reading. Compare ch03-epoll (the same model on Linux) and ch03-iocp (Windows,
// completion-based: the kernel does the reading and says "done").
// wepoll, mio and libuv wait on Windows sockets this way; afd.h declares what Windows does not.
//
// The queue first, in reading order: create it, register interest, the wait loop, reading a stream,
// then main, which connects and sends and runs the rest, and last, reporting errors in this OS's
// words. What only supports the story is in support/, which a first reading may skip: connecting
// and sending in connect_and_send_winsock.hpp, and what is the same on every OS (arguments, the
// request and its answer check, summary, timeline) in arguments_and_report.hpp.
//
// Usage:    ch03-wepoll [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//           [--timeline]                    (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-wepoll starts one.
// Platform: Windows (MinGW-w64 links ntdll); on Linux, ./run-example runs it under Wine.
//
// What to watch for: request-4 is answered first and request-0 last; the summary line
// compares the run time with the longest delay. With --timeline, one bar per stream
// from when its request was sent to when its answer arrived: the bars overlap.
#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>

#include <fcntl.h>    // _O_BINARY
#include <io.h>       // _setmode
#include <mswsock.h>  // SIO_BASE_HANDLE
#include <windows.h>
#include <winternl.h>  // NtDeviceIoControlFile, IO_STATUS_BLOCK, RtlNtStatusToDosError

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "afd.h"  // opening the AFD driver and its poll request, which Windows does not declare
#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>
#include "connect_and_send_winsock.hpp"  // connect_to, send_all

const char program_name[] = "ch03-wepoll";  // starts every message
const char program_purpose[] = "answered through AFD polls, wepoll's way";

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

// The queue is a pair, as in wepoll: the AFD handle is associated with the port.
struct Queue {
    Handle port;  // where the thread sleeps
    Handle afd;   // a handle on the AFD driver, through which the polls are sent
};

Queue create_queue() {
    Handle port(CreateIoCompletionPort(INVALID_HANDLE_VALUE,  // no file yet: make a new port
                                       nullptr,               // not adding to an existing one
                                       0,                     // no completion key yet
                                       1));  // one thread runs completions at a time
    if (port.get() == nullptr) {             // NULL on failure, not INVALID_HANDLE_VALUE
        fail("CreateIoCompletionPort", GetLastError());
    }
    // A handle on the AFD driver itself, through which the polls are sent: no Win32 call
    // opens it, so afd.h's open_afd_device does it as wepoll and mio do, step by step.
    HANDLE afd = nullptr;
    const NTSTATUS status = open_afd_device(&afd, L"\\Device\\Afd\\Ch03Wepoll");
    if (status < 0) {  // ntdll's NTSTATUS: RtlNtStatusToDosError makes it an error code
        fail("NtCreateFile", RtlNtStatusToDosError(status));
    }
    Queue queue{std::move(port), Handle(afd)};
    // Every poll sent through the AFD handle reports on the port. One association serves all
    // the sockets, so its key is unused (0): each poll carries its own token (start_poll).
    if (CreateIoCompletionPort(afd, queue.port.get(), 0, 0) == nullptr) {
        fail("CreateIoCompletionPort", GetLastError());
    }
    return queue;
}

// ----------------------------------------------------------------------------------------
// Registering interest
// ----------------------------------------------------------------------------------------

// One connection to the delay server: its socket, and what it asked and got (StreamRecord).
// For the AFD poll it also holds what the OS works on from the start of a poll until its
// completion is taken off the queue, so the stream list never moves its streams (see main).
struct Stream : StreamRecord {
    Socket socket;
    SOCKET base_socket = INVALID_SOCKET;  // the socket as the driver knows it (register_interest)
    AFD_POLL_INFO poll_info = {};       // the request, which the driver overwrites with its answer
    IO_STATUS_BLOCK status_block = {};  // where the driver says how the poll ended
};

// Starts one poll: asks the driver to report on the port when the stream's socket can be
// read. A poll reports once, like EPOLLONESHOT (not EPOLLET): read_stream starts the next.
// One answered at once (data was waiting) queues a completion too: the wait loop takes both.
void start_poll(const Queue& queue, Stream& stream, std::size_t token) {
    AFD_POLL_INFO& poll = stream.poll_info;  // written anew: it holds the last answer
    poll.Timeout.QuadPart = INT64_MAX;       // no time limit of its own: the wait loop has one
    poll.NumberOfHandles = 1;                // one socket per poll, as wepoll and mio do
    poll.Exclusive = FALSE;                  // leave other polls on the same socket pending
    poll.Handles[0].Handle = reinterpret_cast<HANDLE>(stream.base_socket);
    poll.Handles[0].Events = AFD_POLL_RECEIVE       // data to read,
                             | AFD_POLL_DISCONNECT  // the server closed its side,
                             | AFD_POLL_ABORT;      // or the connection was reset
    poll.Handles[0].Status = 0;                     // the driver's to fill in
    // The token rides in the ApcContext, plus one: under Wine a null ApcContext queues no
    // completion at all (server/async.c), and stream 0's token is 0.
    const NTSTATUS status = NtDeviceIoControlFile(
        queue.afd.get(), nullptr, nullptr,   // no event, no APC routine: the port reports
        reinterpret_cast<void*>(token + 1),  // ApcContext: back as the entry's lpOverlapped
        &stream.status_block,                // how the poll ends, written by the driver
        IOCTL_AFD_POLL, &poll, sizeof poll,  // the request, and where the answer goes:
        &poll, sizeof poll);                 // the same memory
    if (status < 0) {                        // STATUS_PENDING and STATUS_SUCCESS are not failures
        fail("NtDeviceIoControlFile", RtlNtStatusToDosError(status));
    }
}

// Asks the kernel to report when the stream's socket can be read. The token (the stream's
// index in the stream list) is stored with the registration and handed back with every
// event, so we know which stream an event is about.
//
// The driver knows a socket by its base handle (a layered service provider, a firewall's say,
// may have put its own on top): wepoll, mio and libuv ask for it too. Then the first poll.
void register_interest(const Queue& queue, Stream& stream, std::size_t token) {
    DWORD size = 0;
    if (WSAIoctl(stream.socket.get(), SIO_BASE_HANDLE, nullptr, 0, &stream.base_socket,
                 sizeof stream.base_socket, &size, nullptr, nullptr) == SOCKET_ERROR) {
        fail("WSAIoctl", WSAGetLastError());
    }
    start_poll(queue, stream, token);
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

bool read_stream(const Queue& queue, Stream& stream, std::size_t token);

// Completions taken per wait: the five streams of a run fit; any more wait for the next.
constexpr unsigned max_events_per_wait = 16;

// What the OS handed back, in its own terms, for the RECEIVED line (as the book prints its
// raw Event): the events in the driver's answer, by name, and the ApcContext (token + 1).
std::string describe_event(const Stream& stream, const OVERLAPPED_ENTRY& event) {
    const ULONG answer = stream.poll_info.Handles[0].Events;
    const auto context = reinterpret_cast<std::uintptr_t>(event.lpOverlapped);
    return "IOCTL_AFD_POLL { Events: " +
           bit_names(answer, {{AFD_POLL_RECEIVE, "AFD_POLL_RECEIVE"},
                              {AFD_POLL_DISCONNECT, "AFD_POLL_DISCONNECT"},
                              {AFD_POLL_ABORT, "AFD_POLL_ABORT"}}) +
           ", ApcContext: " + std::to_string(context) + " }";
}

void wait_loop(const Queue& queue, std::vector<Stream>& streams, Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    OVERLAPPED_ENTRY events[max_events_per_wait];  // one per answered poll
    while (finished_streams < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                         finished_streams, streams.size());
            std::exit(1);
        }
        // Sleeps until at least one registered socket is ready, or the time is up.
        // Not alertable (FALSE): nothing but a completion or the timeout ends the wait, so
        // there is no counterpart of epoll_wait's EINTR to retry.
        ULONG ready = 0;
        const BOOL dequeued = GetQueuedCompletionStatusEx(
            queue.port.get(), events, max_events_per_wait, &ready, static_cast<DWORD>(left), FALSE);
        if (!dequeued && GetLastError() == WAIT_TIMEOUT) {
            continue;  // The time is up: the check above says so.
        }
        if (!dequeued) {
            fail("GetQueuedCompletionStatusEx", GetLastError());
        }
        for (unsigned i = 0; i < ready; ++i) {
            // The ApcContext, handed back as lpOverlapped: the token plus one (start_poll).
            const std::size_t token = reinterpret_cast<std::uintptr_t>(events[i].lpOverlapped) - 1;
            Stream& stream = streams[token];
            // A failed poll says so in its status block (a reset is an event: read_stream).
            if (stream.status_block.Status < 0) {
                fail("IOCTL_AFD_POLL", RtlNtStatusToDosError(stream.status_block.Status));
            }
            // Unlike epoll's, no poll is started after end of file: no event can come after it.
            if (read_stream(queue, stream, token)) {
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream, describe_event(stream, events[i]));
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// Reading a stream
// ----------------------------------------------------------------------------------------

// One page: a whole answer of the delay server fits, and we read until "would block" anyway.
constexpr std::size_t read_buffer_size = 4096;

// Reads everything the stream has for us, until WSAEWOULDBLOCK ("nothing more for now"),
// then starts the next poll (reading all first saves polls). Returns true when the stream reached
// end of file just now.
bool read_stream(const Queue& queue, Stream& stream, std::size_t token) {
    // A reset is one of the poll's events, with no error status (Wine's tests show the same
    // on Windows); recv would fail with WSAECONNRESET on Windows but returns 0, end of file,
    // under Wine 8. So the event decides, with the error code recv gives on Windows.
    if ((stream.poll_info.Handles[0].Events & AFD_POLL_ABORT) != 0) {
        fail("AFD_POLL_ABORT", WSAECONNRESET);
    }
    char buffer[read_buffer_size];
    while (true) {
        const int count = recv(stream.socket.get(), buffer, sizeof buffer, 0);
        if (count > 0) {
            stream.received.append(buffer, static_cast<std::size_t>(count));  // maybe partial
            continue;
        }
        if (count == 0) {
            return true;  // End of file: the server sent everything and closed.
        }
        if (WSAGetLastError() == WSAEWOULDBLOCK) {
            start_poll(queue, stream, token);  // Each poll reports once: ask again.
            return false;  // Read all there is for now; wait for the next event.
        }
        fail("recv", WSAGetLastError());  // No WSAEINTR to retry: the socket is non-blocking.
    }
}

// ----------------------------------------------------------------------------------------
// The program
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    // Standard output in binary mode: the answers carry HTTP's own "\r\n" line ends, which
    // text mode would turn into "\r\r\n".
    if (_setmode(_fileno(stdout), _O_BINARY) == -1) {
        std::perror("ch03-wepoll: _setmode");  // a C runtime call: errno, not GetLastError
        return 1;
    }
    const Arguments arguments = parse_arguments(argc, argv);
    const Winsock winsock;  // until main returns, after the streams' sockets are closed
    const Clock::time_point start = Clock::now();
    const Queue queue = create_queue();

    // Room for every stream before the first is registered, so push_back never moves one:
    // where the OS does the work (IOCP, io_uring, AFD), it holds pointers into the stream.
    std::vector<Stream> streams;
    streams.reserve(arguments.requests);
    std::printf("Sending %d requests to %s, each on its own connection:\n", arguments.requests,
                arguments.address.c_str());
    for (int index = 0; index < arguments.requests; ++index) {
        const int delay_ms = (arguments.requests - index) * arguments.step_ms;
        // No WSA_FLAG_OVERLAPPED: the polls go through the AFD handle, not the socket.
        Stream stream{StreamRecord{}, Socket(connect_to(arguments, 0))};
        stream.request_path = '/' + std::to_string(delay_ms) + "/request-" + std::to_string(index);
        send_all(stream.socket.get(), build_request(stream.request_path));
        stream.sent_at = Clock::now();
        // Non-blocking from here on: a recv with nothing to read gets WSAEWOULDBLOCK instead
        // of putting the thread to sleep, so one stream can never block the others.
        u_long non_blocking = 1;
        if (ioctlsocket(stream.socket.get(), FIONBIO, &non_blocking) == SOCKET_ERROR) {
            fail("ioctlsocket", WSAGetLastError());
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
