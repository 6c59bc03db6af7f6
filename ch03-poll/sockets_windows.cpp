// ch03-poll/sockets_windows.cpp: sockets.hpp on Windows (Winsock 2).
#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>
#include <ws2tcpip.h>

#include <fcntl.h>  // _O_BINARY
#include <io.h>     // _setmode
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "sockets.hpp"

SocketLibrary::SocketLibrary() {
    WSADATA data;
    if (const int error = WSAStartup(MAKEWORD(2, 2), &data); error != 0) {  // Winsock 2.2
        std::fprintf(stderr, "WSAStartup: %s\n", socket_error_message(error).c_str());
        std::exit(1);  // It returns its error: WSAGetLastError needs Winsock.
    }
    // Not a socket call, but the one other thing main.cpp would need an #if for: standard
    // output in binary mode, or the C runtime turns the answers' "\r\n" into "\r\r\n".
    _setmode(_fileno(stdout), _O_BINARY);
}

SocketLibrary::~SocketLibrary() {
    WSACleanup();
}

Socket::Socket(Socket&& other) noexcept
    : socket_(other.socket_), open_(std::exchange(other.open_, false)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        socket_ = other.socket_;
        open_ = std::exchange(other.open_, false);
    }
    return *this;
}

Socket::~Socket() {
    close();
}

void Socket::close() {
    if (open_) {
        open_ = false;
        if (closesocket(static_cast<SOCKET>(socket_)) == SOCKET_ERROR) {  // said: ~Socket calls it
            std::fprintf(stderr, "closesocket: %s\n",
                         socket_error_message(WSAGetLastError()).c_str());
        }
    }
}

long last_socket_error() {
    return WSAGetLastError();
}

// GetLastError and WSAGetLastError share one numbering, and FormatMessage has the text.
std::string socket_error_message(long code) {
    char text[512];  // the longest system message is far shorter
    DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                  nullptr, static_cast<DWORD>(code), 0, text, sizeof text, nullptr);
    while (length > 0 && std::strchr("\r\n .", text[length - 1]) != nullptr) {
        --length;  // The text ends with ".\r\n"; the line is ours to end.
    }
    return std::string(text, length) + " (error " + std::to_string(code) + ")";
}

namespace {

// A new socket, not inherited by child processes (like SOCK_CLOEXEC) and non-blocking.
Socket new_socket(int family) {
    const SOCKET raw = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                                  WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (raw == INVALID_SOCKET) {
        return Socket();
    }
    Socket socket(static_cast<RawSocket>(raw));
    u_long non_blocking = 1;  // a recv with nothing to read fails with WSAEWOULDBLOCK
    if (ioctlsocket(raw, FIONBIO, &non_blocking) == SOCKET_ERROR) {
        return Socket();
    }
    return socket;
}

}  // namespace

Socket start_connect(const std::string& host, const std::string& port, std::string& error) {
    addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    if (const int resolved = getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses)) {
        error = "getaddrinfo: " + socket_error_message(resolved);
        return Socket();
    }
    Socket socket = new_socket(addresses->ai_family);
    if (!socket.is_open()) {
        error = "WSASocketW: " + socket_error_message(WSAGetLastError());
    } else if (connect(static_cast<SOCKET>(socket.get()), addresses->ai_addr,
                       static_cast<int>(addresses->ai_addrlen)) == SOCKET_ERROR &&
               WSAGetLastError() != WSAEWOULDBLOCK) {  // under way, writable when done
        error = "connect: " + socket_error_message(WSAGetLastError());
        socket.close();
    }
    freeaddrinfo(addresses);
    return socket;
}

long connect_result(const Socket& socket) {
    return pending_socket_error(socket.get());
}

long pending_socket_error(RawSocket socket) {
    int result = 0;
    int size = sizeof result;
    if (getsockopt(static_cast<SOCKET>(socket), SOL_SOCKET, SO_ERROR,
                   reinterpret_cast<char*>(&result), &size) == SOCKET_ERROR) {
        return WSAGetLastError();
    }
    return result;
}

long check_connect(const Socket& socket) {
    if (const long result = connect_result(socket); result != 0) {
        return result;  // failed
    }
    sockaddr_storage peer = {};
    int size = sizeof peer;
    if (getpeername(static_cast<SOCKET>(socket.get()), reinterpret_cast<sockaddr*>(&peer), &size) ==
        0) {
        return 0;  // connected
    }
    const int error = WSAGetLastError();
    return error == WSAENOTCONN ? connect_under_way : error;
}

// No SIGPIPE and no EINTR on Windows: nothing to ask for, nothing to retry.
long send_some(const Socket& socket, std::string_view bytes) {
    const int sent =
        send(static_cast<SOCKET>(socket.get()), bytes.data(), static_cast<int>(bytes.size()), 0);
    if (sent == SOCKET_ERROR) {
        return WSAGetLastError() == WSAEWOULDBLOCK ? would_block : socket_failed;
    }
    return sent;
}

long receive_some(const Socket& socket, std::span<char> buffer) {
    const int count =
        recv(static_cast<SOCKET>(socket.get()), buffer.data(), static_cast<int>(buffer.size()), 0);
    if (count == SOCKET_ERROR) {
        return WSAGetLastError() == WSAEWOULDBLOCK ? would_block : socket_failed;
    }
    return count;
}

bool connected_pair(Socket& one, Socket& other) {
    Socket listener = new_socket(AF_INET);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // any free port: tests never use a fixed one
    int size = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    const auto listening = static_cast<SOCKET>(listener.get());
    if (!listener.is_open() || bind(listening, generic, size) == SOCKET_ERROR ||
        listen(listening, 1) == SOCKET_ERROR ||
        getsockname(listening, generic, &size) == SOCKET_ERROR) {
        return false;
    }
    one = new_socket(AF_INET);
    if (!one.is_open() || (connect(static_cast<SOCKET>(one.get()), generic, size) == SOCKET_ERROR &&
                           WSAGetLastError() != WSAEWOULDBLOCK)) {
        return false;
    }
    SOCKET accepted = INVALID_SOCKET;
    do {  // the listener is non-blocking: wait until the connection is there
        accepted = accept(listening, nullptr, nullptr);
    } while (accepted == INVALID_SOCKET && WSAGetLastError() == WSAEWOULDBLOCK);
    if (accepted == INVALID_SOCKET) {
        return false;
    }
    other = Socket(static_cast<RawSocket>(accepted));  // non-blocking, as its listener
    return true;
}

bool reset_on_close(const Socket& socket) {
    const linger no_linger = {1, 0};  // on, for zero seconds: closesocket sends RST
    return setsockopt(static_cast<SOCKET>(socket.get()), SOL_SOCKET, SO_LINGER,
                      reinterpret_cast<const char*>(&no_linger), sizeof no_linger) == 0;
}
