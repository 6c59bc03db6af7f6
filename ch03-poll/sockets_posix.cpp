// ch03-poll/sockets_posix.cpp: sockets.hpp on Linux, macOS and the BSDs (BSD sockets).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "sockets.hpp"

SocketLibrary::SocketLibrary() = default;  // BSD sockets need no start
SocketLibrary::~SocketLibrary() = default;

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
        if (::close(static_cast<int>(socket_)) != 0) {  // said, not returned: ~Socket calls it
            std::fprintf(stderr, "close: %s\n", socket_error_message(errno).c_str());
        }
    }
}

long last_socket_error() {
    return errno;
}

std::string socket_error_message(long code) {
    return std::strerror(static_cast<int>(code));
}

namespace {

// A new socket, non-blocking and closed on exec (mio and libuv set both on every socket).
// macOS has neither SOCK_NONBLOCK nor SOCK_CLOEXEC, so both are set after, with fcntl.
Socket new_socket(int family) {
    const int descriptor = ::socket(family, SOCK_STREAM, 0);
    if (descriptor < 0) {
        return Socket();
    }
    Socket socket(static_cast<RawSocket>(descriptor));
    const int flags = fcntl(descriptor, F_GETFL);
    if (flags < 0 || fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) != 0 ||
        fcntl(descriptor, F_SETFD, FD_CLOEXEC) != 0) {
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
        error = "getaddrinfo: " + std::string(gai_strerror(resolved));
        return Socket();
    }
    Socket socket = new_socket(addresses->ai_family);
    if (!socket.is_open()) {
        error = "socket: " + socket_error_message(errno);
    } else if (connect(static_cast<int>(socket.get()), addresses->ai_addr,
                       addresses->ai_addrlen) != 0 &&
               errno != EINPROGRESS) {  // EINPROGRESS: under way, writable when done
        error = "connect: " + socket_error_message(errno);
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
    socklen_t size = sizeof result;
    if (getsockopt(static_cast<int>(socket), SOL_SOCKET, SO_ERROR, &result, &size) != 0) {
        return errno;
    }
    return result;
}

long check_connect(const Socket& socket) {
    if (const long result = connect_result(socket); result != 0) {
        return result;  // failed (reading SO_ERROR cleared it: this is the only report)
    }
    sockaddr_storage peer = {};
    socklen_t size = sizeof peer;
    if (getpeername(static_cast<int>(socket.get()), reinterpret_cast<sockaddr*>(&peer), &size) ==
        0) {
        return 0;  // connected
    }
    return errno == ENOTCONN ? connect_under_way : errno;
}

long send_some(const Socket& socket, std::string_view bytes) {
#ifdef MSG_NOSIGNAL
    constexpr int flags = MSG_NOSIGNAL;  // EPIPE, not the SIGPIPE that would end the program
#else
    constexpr int flags = 0;  // macOS: SO_NOSIGPIPE would do it; a closed peer is not our case
#endif
    while (true) {
        const ssize_t sent =
            send(static_cast<int>(socket.get()), bytes.data(), bytes.size(), flags);
        if (sent >= 0) {
            return static_cast<long>(sent);
        }
        if (errno != EINTR) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? would_block : socket_failed;
        }
    }
}

long receive_some(const Socket& socket, std::span<char> buffer) {
    while (true) {
        const ssize_t count = recv(static_cast<int>(socket.get()), buffer.data(), buffer.size(), 0);
        if (count >= 0) {
            return static_cast<long>(count);
        }
        if (errno != EINTR) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? would_block : socket_failed;
        }
    }
}

bool connected_pair(Socket& one, Socket& other) {
    Socket listener = new_socket(AF_INET);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // any free port: tests never use a fixed one
    socklen_t size = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    if (!listener.is_open() || bind(static_cast<int>(listener.get()), generic, size) != 0 ||
        listen(static_cast<int>(listener.get()), 1) != 0 ||
        getsockname(static_cast<int>(listener.get()), generic, &size) != 0) {
        return false;
    }
    one = new_socket(AF_INET);
    if (!one.is_open() ||
        (connect(static_cast<int>(one.get()), generic, size) != 0 && errno != EINPROGRESS)) {
        return false;
    }
    int accepted = -1;
    do {  // the listener is non-blocking: wait until the connection is there
        accepted = accept(static_cast<int>(listener.get()), nullptr, nullptr);
    } while (accepted < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
    if (accepted < 0) {
        return false;
    }
    other = Socket(static_cast<RawSocket>(accepted));
    const int flags = fcntl(accepted, F_GETFL);
    return flags >= 0 && fcntl(accepted, F_SETFL, flags | O_NONBLOCK) == 0 &&
           fcntl(accepted, F_SETFD, FD_CLOEXEC) == 0;
}

bool reset_on_close(const Socket& socket) {
    const linger no_linger = {1, 0};  // on, for zero seconds: close sends RST
    return setsockopt(static_cast<int>(socket.get()), SOL_SOCKET, SO_LINGER, &no_linger,
                      sizeof no_linger) == 0;
}
