// ch03-wepoll: five slow requests, one thread, readiness through IOCP; answers in reverse order.
//
// The epoll program on Windows, the way wepoll, mio and libuv wait on sockets there. The
// program opens N TCP connections to the delay server and sends request i with a delay of
// (N - i) * step milliseconds: the first sent is the slowest. Then it waits for all of them
// on one thread: for each socket it asks the AFD driver (the kernel driver under Winsock) to
// report when the socket can be read; the driver answers on an I/O completion port, where
// GetQueuedCompletionStatusEx sleeps. The answers come back in reverse order, in about the
// longest delay, not the sum of all.
//
// This is readiness on Windows: the port says "this socket can be read now", and we do the
// reading, with non-blocking recv calls, as ch03-epoll does with read. Compare ch03-iocp,
// completion on the same OS: there the OS reads into our buffer and says "done, n bytes".
// Windows does not document the poll request: afd.h declares it and says why we may use it.
//
// The story in the book's order: create the queue, connect and send, register interest
// (find the socket's base handle, send the first poll), wait, read. The rest, the same on
// every OS (arguments, answer check, summary, timeline), is in arguments_and_report.hpp,
// which a first reading may skip.
//
// Usage:    ch03-wepoll [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//                       [--timeline]         (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-wepoll starts one.
// Platform: Windows; built with MinGW-w64, linking ntdll. On Linux, ./run-example
//           ch03-wepoll runs it under Wine, which implements the AFD poll request.
//
// What to watch for: request-4 is answered first and request-0 last; the summary line
// compares the run time with the longest delay. With --timeline, one bar per stream
// from when its request was sent to when its answer arrived: the bars overlap.
#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>
#include <ws2tcpip.h>

#include <fcntl.h>    // _O_BINARY
#include <io.h>       // _setmode
#include <mswsock.h>  // SIO_BASE_HANDLE
#include <windows.h>
#include <winternl.h>  // NtCreateFile, NtDeviceIoControlFile, IO_STATUS_BLOCK

#include <cstring>
#include <utility>
#include <vector>

#include "afd.h"                     // the AFD poll request, which Windows does not declare
#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

const char program_name[] = "ch03-wepoll";  // starts every message
const char program_purpose[] = "answered through AFD polls, wepoll's way";

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

// ntdll's native calls return an NTSTATUS (negative: an error) instead of setting the last
// error. RtlNtStatusToDosError maps it to an error code FormatMessage knows; a status with
// no such code (ERROR_MR_MID_NOT_FOUND) is printed as its number alone.
[[noreturn]] void fail_status(std::string_view call, NTSTATUS status) {
    const DWORD error = RtlNtStatusToDosError(status);
    if (error != ERROR_MR_MID_NOT_FOUND) {
        fail(call, error);
    }
    std::fprintf(stderr, "%s: %.*s: NTSTATUS 0x%08lX\n", program_name,
                 static_cast<int>(call.size()), call.data(), static_cast<unsigned long>(status));
    std::exit(1);
}

// ----------------------------------------------------------------------------------------
// The event queue
// ----------------------------------------------------------------------------------------

// Owns one kernel object handle (here: the completion port, the AFD handle) and closes it once.
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

// Two handles: the completion port, where the answers arrive and the thread sleeps, and a
// handle on the AFD driver, which the polls are sent through. wepoll and mio make the same
// pair (mio shares one AFD handle among up to 32 sockets; here one serves them all).
struct Queue {
    Handle port;
    Handle afd;
};

Queue create_queue() {
    Handle port(CreateIoCompletionPort(INVALID_HANDLE_VALUE,  // no file yet: make a new port
                                       nullptr,               // not adding to an existing one
                                       0,                     // no completion key yet
                                       1));  // one thread runs completions at a time
    if (port.get() == nullptr) {             // NULL on failure, not INVALID_HANDLE_VALUE
        fail("CreateIoCompletionPort", GetLastError());
    }
    // \Device\Afd opened with no extended attributes is a handle on the driver that is not a
    // socket: a channel for requests about sockets. The last part of the name is free (wepoll
    // says "Wepoll", mio "Mio"). CreateFile cannot open a device path like this one: its
    // native form, NtCreateFile, can.
    wchar_t name[] = L"\\Device\\Afd\\Ch03Wepoll";
    UNICODE_STRING unicode_name = {sizeof name - sizeof name[0], sizeof name, name};
    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &unicode_name, 0, nullptr, nullptr);
    HANDLE afd = nullptr;
    IO_STATUS_BLOCK status_block;
    const NTSTATUS status = NtCreateFile(&afd, SYNCHRONIZE, &attributes, &status_block, nullptr,
                                         0,  // no size, no attributes: not a file
                                         FILE_SHARE_READ | FILE_SHARE_WRITE,
                                         FILE_OPEN,       // open what exists, never create
                                         0, nullptr, 0);  // no options, no extended attributes
    if (status < 0) {
        fail_status("NtCreateFile", status);
    }
    Queue queue{std::move(port), Handle(afd)};
    // Every poll sent through the AFD handle completes on the port, all with one completion
    // key (0): what tells the streams apart comes with each poll (start_poll).
    if (CreateIoCompletionPort(afd, queue.port.get(), 0, 0) == nullptr) {
        fail("CreateIoCompletionPort", GetLastError());
    }
    // No one waits on the handle itself: spare the kernel signalling it (wepoll and mio do).
    if (!SetFileCompletionNotificationModes(afd, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
        fail("SetFileCompletionNotificationModes", GetLastError());
    }
    return queue;
}

// ----------------------------------------------------------------------------------------
// Connecting and sending
// ----------------------------------------------------------------------------------------

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

// One connection to the delay server: its socket, and what it asked and got (StreamRecord).
// It also holds what the OS works on while a poll is in progress: the poll info (the request,
// which the driver overwrites with its answer) and the status block (how the poll ended).
// Both belong to the OS from NtDeviceIoControlFile until the poll's completion is taken off
// the port, so they live in the stream, and the stream list never moves its streams once
// the first poll is sent (see main). The read buffer is ours: we do the reading.
struct Stream : StreamRecord {
    Socket socket;
    SOCKET base_socket = INVALID_SOCKET;  // the socket as the driver knows it (register_interest)
    AFD_POLL_INFO poll_info = {};         // the poll in progress, or its answer
    IO_STATUS_BLOCK status_block = {};    // how the poll ended, once it has
};

// Connects a blocking TCP socket to host:port, trying each address the name resolves to
// (localhost may be ::1 first and 127.0.0.1 second).
Socket connect_to(const Arguments& arguments) {
    addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    const int resolved =
        getaddrinfo(arguments.host.c_str(), arguments.port.c_str(), &hints, &addresses);
    if (resolved != 0) {
        std::fprintf(stderr, "%s: cannot resolve %s: %s\n", program_name, arguments.host.c_str(),
                     error_message(resolved).c_str());
        std::exit(1);
    }
    int last_error = 0;
    for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        // No WSA_FLAG_OVERLAPPED: no operation on the socket itself is overlapped (the polls
        // are requests on the AFD handle). Connecting and sending stay blocking calls.
        Socket socket(WSASocketW(address->ai_family, address->ai_socktype, address->ai_protocol,
                                 nullptr,  // no protocol info: the three values above say it
                                 0,        // no socket group
                                 WSA_FLAG_NO_HANDLE_INHERIT));  // like SOCK_CLOEXEC
        if (socket.get() == INVALID_SOCKET) {
            fail("WSASocketW", WSAGetLastError());
        }
        if (connect(socket.get(), address->ai_addr, static_cast<int>(address->ai_addrlen)) == 0) {
            freeaddrinfo(addresses);
            return socket;
        }
        last_error = WSAGetLastError();
    }
    freeaddrinfo(addresses);
    std::fprintf(stderr,
                 "%s: cannot connect to %s:%s: %s\n"
                 "Is the delay server running? Start it in another terminal with\n"
                 "    build/default/delayserver/delayserver\n"
                 "(under Wine the Linux one serves; on Windows, start delayserver.exe).\n",
                 program_name, arguments.host.c_str(), arguments.port.c_str(),
                 error_message(last_error).c_str());
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

// A blocking send, as in ch03-epoll: the socket becomes non-blocking after it (in main).
// Windows has no SIGPIPE and no EINTR to guard against.
void send_all(SOCKET socket, std::string_view bytes) {
    while (!bytes.empty()) {
        const int sent = send(socket, bytes.data(), static_cast<int>(bytes.size()), 0);
        if (sent == SOCKET_ERROR) {
            fail("send", WSAGetLastError());
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

// ----------------------------------------------------------------------------------------
// Registering interest
// ----------------------------------------------------------------------------------------

// Sends one poll for the stream's socket: "report on the port when it can be read". Each
// poll reports once, like EPOLLONESHOT: the wait loop sends the next after reading. The call
// returns STATUS_PENDING (not an error: the poll waits in the driver), or STATUS_SUCCESS if
// the socket was ready already; a completion is queued either way, so the wait loop handles
// every answer, once.
void start_poll(const Queue& queue, Stream& stream) {
    stream.poll_info = {};  // The driver wrote its last answer here: start afresh.
    stream.poll_info.Timeout.QuadPart = INT64_MAX;  // no time limit: the wait loop has one
    stream.poll_info.NumberOfHandles = 1;           // Exclusive stays FALSE
    stream.poll_info.Handles[0] = {reinterpret_cast<HANDLE>(stream.base_socket),
                                   AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ABORT, 0};
    // The token is the ApcContext, which the port hands back as the entry's lpOverlapped:
    // the stream's address. Never null: for a null ApcContext no completion is queued at
    // all (Windows' rule; Wine keeps it in server/async.c).
    const NTSTATUS status = NtDeviceIoControlFile(
        queue.afd.get(), nullptr, nullptr,  // no event, no APC routine: the port reports
        &stream, &stream.status_block, IOCTL_AFD_POLL, &stream.poll_info,
        sizeof stream.poll_info,                      // the request, and where the driver
        &stream.poll_info, sizeof stream.poll_info);  // writes its answer
    if (status < 0) {
        fail_status("NtDeviceIoControlFile", status);
    }
}

// Asks the driver to report on the port when the stream's socket can be read. The driver
// knows a socket by its base handle, the socket of the provider at the bottom of Winsock's
// stack; a layered service provider (a firewall's, say) may have handed us one of its own
// on top. SIO_BASE_HANDLE asks for the one below, as wepoll, mio and libuv do.
void register_interest(const Queue& queue, Stream& stream) {
    DWORD size = 0;
    if (WSAIoctl(stream.socket.get(), SIO_BASE_HANDLE, nullptr, 0,       // nothing in
                 &stream.base_socket, sizeof stream.base_socket, &size,  // the base socket out
                 nullptr, nullptr) == SOCKET_ERROR) {  // a blocking call: no OVERLAPPED
        fail("WSAIoctl", WSAGetLastError());
    }
    start_poll(queue, stream);
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

bool read_stream(Stream& stream);  // the next section: what the loop does with a stream
void print_response(std::size_t token, const Stream& stream);

// Completions taken per wait: the five streams of a run fit; any more wait for the next.
constexpr int max_events_per_wait = 16;

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
        // Sleeps until at least one poll has been answered, or the time is up. Not alertable
        // (FALSE): nothing but a completion or the timeout ends the wait, so there is no
        // counterpart of epoll_wait's EINTR to retry.
        ULONG ready = 0;
        const BOOL dequeued = GetQueuedCompletionStatusEx(
            queue.port.get(), events, max_events_per_wait, &ready, static_cast<DWORD>(left), FALSE);
        if (!dequeued && GetLastError() == WAIT_TIMEOUT) {
            continue;  // The time is up: the check above says so.
        }
        if (!dequeued) {
            fail("GetQueuedCompletionStatusEx", GetLastError());
        }
        for (ULONG i = 0; i < ready; ++i) {
            // The token the poll was sent with (start_poll), and the stream's index from it.
            Stream& stream = *reinterpret_cast<Stream*>(events[i].lpOverlapped);
            const auto token = static_cast<std::size_t>(&stream - streams.data());
            // The poll info and status block are ours again. The poll itself can fail:
            if (stream.status_block.Status < 0) {
                fail_status("IOCTL_AFD_POLL", stream.status_block.Status);
            }
            // Unlike epoll, no poll answers for a stream already read to end of file: none
            // is sent after end of file, and each is answered exactly once.
            if (read_stream(stream)) {
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream);
            } else {
                start_poll(queue, stream);  // Each poll reports once: ask again.
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// Reading a stream
// ----------------------------------------------------------------------------------------

// One page: a whole answer of the delay server fits, and we read until WSAEWOULDBLOCK anyway.
constexpr std::size_t read_buffer_size = 4096;

// Reads everything the stream has for us. The poll answered because a read will not block:
// there is data (AFD_POLL_RECEIVE) or end of file (AFD_POLL_DISCONNECT), or the connection
// was reset (AFD_POLL_ABORT). Each poll reports once, like edge-triggered epoll, so we read
// until WSAEWOULDBLOCK ("nothing more for now"), or the rest would never be reported.
// Returns true when the stream reached end of file just now.
bool read_stream(Stream& stream) {
    // A reset is the poll's answer itself, with no error code (Wine's AFD tests show the
    // same on Windows). Windows' recv would then fail with WSAECONNRESET, but under Wine 8
    // it returns 0, end of file, as if the server had closed: so the event is the error.
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
            return false;  // Read all there is for now; poll again.
        }
        fail("recv", WSAGetLastError());  // No WSAEINTR to retry: the socket is non-blocking.
    }
}

void print_response(std::size_t token, const Stream& stream) {
    std::printf("RECEIVED: stream %zu, %s\n%s\n------\n", token, stream.request_path.c_str(),
                stream.received.c_str());
    std::fflush(stdout);
}

// ----------------------------------------------------------------------------------------
// The program
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    // Standard output in binary mode: the answers carry HTTP's own "\r\n" line ends, which
    // text mode would turn into "\r\r\n". Now the output is ch03-epoll's, byte for byte.
    if (_setmode(_fileno(stdout), _O_BINARY) == -1) {
        std::perror("ch03-wepoll: _setmode");  // a C runtime call: errno, not GetLastError
        return 1;
    }
    const Arguments arguments = parse_arguments(argc, argv);
    const Winsock winsock;  // until main returns, after the streams' sockets are closed
    const Clock::time_point start = Clock::now();
    const Queue queue = create_queue();

    // From its first poll on, the OS holds pointers into each stream (its poll info and
    // status block), so the stream list must never move them: room for all the streams is
    // reserved here, before the first poll, and push_back within that room moves none.
    std::vector<Stream> streams;
    streams.reserve(arguments.requests);
    std::printf("Sending %d requests to %s:%s, each on its own connection:\n", arguments.requests,
                arguments.host.c_str(), arguments.port.c_str());
    for (int index = 0; index < arguments.requests; ++index) {
        const int delay_ms = (arguments.requests - index) * arguments.step_ms;
        Stream stream{{}, connect_to(arguments)};
        stream.request_path = "/" + std::to_string(delay_ms) + "/request-" + std::to_string(index);
        send_all(stream.socket.get(), build_request(stream.request_path));
        stream.sent_at = Clock::now();
        // Non-blocking from here on: a recv with nothing to read fails with WSAEWOULDBLOCK
        // instead of putting the thread to sleep, so one stream can never block the others.
        u_long non_blocking = 1;
        if (ioctlsocket(stream.socket.get(), FIONBIO, &non_blocking) == SOCKET_ERROR) {
            fail("ioctlsocket", WSAGetLastError());
        }
        // The first poll is sent where the stream will stay: in the list (epoll registered
        // first and moved after; here the OS would write into the moved-from stream).
        std::printf("  stream %d: GET %s\n", index, stream.request_path.c_str());
        streams.push_back(std::move(stream));
        register_interest(queue, streams.back());
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
