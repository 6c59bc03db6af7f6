// ch03-wepoll: five slow requests, one thread, readiness through IOCP; answers in reverse order.
//
// The epoll program on Windows, the way wepoll, mio and libuv wait on sockets there: N slow
// requests, request i asking for a delay of (N - i) * step ms, waited for on one thread. The
// AFD driver (the kernel driver under Winsock) says when each socket can be read, on an I/O
// completion port. Readiness, as in ch03-epoll: the port says "this socket can be read now",
// and we read (ch03-iocp: completion, the OS reads and says "done"). afd.h declares the poll
// request. In the book's order: create the queue, connect and send, register interest, wait,
// read; arguments_and_report.hpp holds the rest.
//
// Usage:    ch03-wepoll [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//                       [--timeline]         (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-wepoll starts one.
// Platform: Windows (MinGW-w64 links ntdll); on Linux, ./run-example runs it under Wine.
//
// What to watch for: request-4 first and request-0 last, all in about the longest delay.
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

// The OS's own message for a code from GetLastError or WSAGetLastError (one numbering).
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

// Every OS call is checked on the next line; a failure prints the OS's own message.
[[noreturn]] void fail(std::string_view call, DWORD error) {
    print_error(call, error);
    std::exit(1);
}

// ntdll returns an NTSTATUS (negative: an error): mapped to an error code, or printed as is.
[[noreturn]] void fail_status(std::string_view call, NTSTATUS status) {
    if (const DWORD error = RtlNtStatusToDosError(status); error != ERROR_MR_MID_NOT_FOUND) {
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

// The port, where the thread sleeps, and a handle on the AFD driver for the polls (wepoll's pair).
struct Queue {
    Handle port, afd;
};

Queue create_queue() {
    // A new port: no file yet, no completion key; one thread runs completions at a time.
    Handle port(CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1));
    if (port.get() == nullptr) {  // NULL on failure, not INVALID_HANDLE_VALUE
        fail("CreateIoCompletionPort", GetLastError());
    }
    // Opening \Device\Afd with no extended attributes gives a handle on the driver, not a socket.
    wchar_t name[] = L"\\Device\\Afd\\Ch03Wepoll";  // the last part is free
    UNICODE_STRING unicode_name = {sizeof name - sizeof name[0], sizeof name, name};
    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &unicode_name, 0, nullptr, nullptr);
    HANDLE afd = nullptr;
    IO_STATUS_BLOCK status_block;
    const NTSTATUS status =
        NtCreateFile(&afd, SYNCHRONIZE, &attributes, &status_block, nullptr, 0,
                     FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN, 0, nullptr, 0);
    if (status < 0) {
        fail_status("NtCreateFile", status);
    }
    Queue queue{std::move(port), Handle(afd)};
    if (CreateIoCompletionPort(afd, queue.port.get(), 0, 0) == nullptr) {  // one key for all
        fail("CreateIoCompletionPort", GetLastError());
    }
    return queue;
}

// ----------------------------------------------------------------------------------------
// Connecting and sending
// ----------------------------------------------------------------------------------------

// Winsock is started before the first socket call and cleaned up after the last one.
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

// One connection: its socket, what it asked and got (StreamRecord), and what the OS owns from
// NtDeviceIoControlFile until the poll's completion, so it never moves (see main).
struct Stream : StreamRecord {
    Socket socket;
    SOCKET base_socket = INVALID_SOCKET;  // the socket as the driver knows it (see main)
    AFD_POLL_INFO poll_info = {};       // the request, which the driver overwrites with its answer
    IO_STATUS_BLOCK status_block = {};  // how the poll ended, once it has
};

// Connects a blocking TCP socket to host:port, trying each address the name resolves to.
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
        // No WSA_FLAG_OVERLAPPED: nothing overlapped is done on the socket itself.
        Socket socket(WSASocketW(address->ai_family, address->ai_socktype, address->ai_protocol,
                                 nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT));  // like SOCK_CLOEXEC
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
                 "%s: cannot connect to %s: %s\n"
                 "Is the delay server running? Start it in another terminal with\n"
                 "    build/default/delayserver/delayserver\n"
                 "(under Wine the Linux one serves; on Windows, start delayserver.exe).\n",
                 program_name, arguments.address.c_str(), error_message(last_error).c_str());
    std::exit(1);
}

// GET /5000/request-0 asks the delay server to answer "request-0" after 5000 ms.
std::string build_request(std::string_view path) {
    return "GET " + std::string(path) +
           " HTTP/1.1\r\n"
           "Host: localhost\r\n"
           "Connection: close\r\n"
           "\r\n";
}

// A blocking send (non-blocking mode comes after it, in main); no SIGPIPE, no EINTR here.
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

// Asks the driver to report on the port when the socket can be read: once (EPOLLONESHOT without
// EPOLLET), at once or later (STATUS_SUCCESS, STATUS_PENDING); the wait loop asks again.
void register_interest(const Queue& queue, Stream& stream) {
    // No time limit (the wait loop has one), one socket, not exclusive; data, close or reset.
    stream.poll_info = {{.QuadPart = INT64_MAX}, 1, FALSE, {}};
    stream.poll_info.Handles[0] = {reinterpret_cast<HANDLE>(stream.base_socket),
                                   AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ABORT, 0};
    // No event or APC: the port reports. The token is the ApcContext, handed back as the entry's
    // lpOverlapped: the stream's address (never null, or no completion is queued: Wine's
    // server/async.c). The poll info is both the request and where the answer goes.
    const NTSTATUS status = NtDeviceIoControlFile(
        queue.afd.get(), nullptr, nullptr, &stream, &stream.status_block, IOCTL_AFD_POLL,
        &stream.poll_info, sizeof stream.poll_info, &stream.poll_info, sizeof stream.poll_info);
    if (status < 0) {
        fail_status("NtDeviceIoControlFile", status);
    }
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
        // Sleeps until a poll has been answered, or the time is up. Not alertable (FALSE):
        // nothing else ends the wait, so there is no counterpart of epoll_wait's EINTR.
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
            Stream& stream = *reinterpret_cast<Stream*>(events[i].lpOverlapped);  // the token
            const auto token = static_cast<std::size_t>(&stream - streams.data());
            if (stream.status_block.Status < 0) {
                fail_status("IOCTL_AFD_POLL", stream.status_block.Status);
            }
            if (read_stream(stream)) {  // No poll after end of file: no spurious wakeups.
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream);
            } else {
                register_interest(queue, stream);  // Each poll reports once: ask again.
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// Reading a stream
// ----------------------------------------------------------------------------------------

// One page: a whole answer of the delay server fits, and we read until WSAEWOULDBLOCK anyway.
constexpr std::size_t read_buffer_size = 4096;

// Reads until WSAEWOULDBLOCK; true when the stream reached end of file just now. A poll reports
// the state (while bytes wait, the next answers at once): reading them all saves polls.
bool read_stream(Stream& stream) {
    // A reset is in the answer, with no status (so on Windows too, Wine's tests show); recv
    // would fail with WSAECONNRESET on Windows but under Wine 8 returns 0, end of file.
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
    // Binary mode: text mode would turn the answers' "\r\n" into "\r\r\n".
    if (_setmode(_fileno(stdout), _O_BINARY) == -1) {
        std::perror("ch03-wepoll: _setmode");  // a C runtime call: errno, not GetLastError
        return 1;
    }
    const Arguments arguments = parse_arguments(argc, argv);
    const Winsock winsock;  // until main returns, after the streams' sockets are closed
    const Clock::time_point start = Clock::now();
    const Queue queue = create_queue();

    // The OS holds pointers into each stream from its first poll on: reserved, none moves.
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
        u_long non_blocking = 1;  // a recv with nothing to read fails with WSAEWOULDBLOCK
        if (ioctlsocket(stream.socket.get(), FIONBIO, &non_blocking) == SOCKET_ERROR) {
            fail("ioctlsocket", WSAGetLastError());
        }
        // The driver knows a socket by its base handle: a layered service provider (a
        // firewall's, say) may have handed us its own on top. wepoll, mio and libuv ask too.
        DWORD size = 0;
        if (WSAIoctl(stream.socket.get(), SIO_BASE_HANDLE, nullptr, 0, &stream.base_socket,
                     sizeof stream.base_socket, &size, nullptr, nullptr) == SOCKET_ERROR) {
            fail("WSAIoctl", WSAGetLastError());
        }
        std::printf("  stream %d: GET %s\n", index, stream.request_path.c_str());
        streams.push_back(std::move(stream));
        register_interest(queue, streams.back());  // where the stream will stay (see above)
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
