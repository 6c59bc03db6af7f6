// support/connect_and_send_posix.hpp: connecting to the delay server and sending a request
// on POSIX sockets (ch03-epoll, ch03-kqueue, ch03-io-uring). A first reading may skip this
// file: main.cpp is the lesson, and this part is the same whichever queue waits.
//
// Its Winsock twin is connect_and_send_winsock.hpp (ch03-iocp, ch03-wepoll): a diff of the
// two is the difference between POSIX and Winsock sockets. The connections are blocking
// while they connect and send; each main.cpp decides what happens to the socket next
// (non-blocking for a readiness queue, handed to the kernel for a completion queue).
//
// main.cpp defines fail(call, error): how an OS call's failure is told is its lesson.
#pragma once

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "arguments_and_report.hpp"  // Arguments, program_name, fail_to_connect

[[noreturn]] void fail(std::string_view call, int error);  // defined in main.cpp

// A send to a connection the peer has closed raises SIGPIPE, which ends the program without
// a word; we want send's EPIPE error instead. Linux and the BSDs take MSG_NOSIGNAL per send.
// Older macOS SDKs lack that flag, but macOS (and FreeBSD, NetBSD) have the socket option
// SO_NOSIGPIPE, which open_socket sets where it exists.
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // older macOS SDKs: SO_NOSIGPIPE (open_socket) does the job
#endif

// A TCP socket for one of the addresses the name resolved to, closed on exec.
inline int open_socket(const addrinfo& address) {
#ifdef SOCK_CLOEXEC
    const int socket =
        ::socket(address.ai_family, address.ai_socktype | SOCK_CLOEXEC, address.ai_protocol);
    if (socket < 0) {
        fail("socket", errno);
    }
#else
    // macOS has no SOCK_CLOEXEC: fcntl sets the flag one call later; these programs start no
    // thread that could fork and exec in between.
    const int socket = ::socket(address.ai_family, address.ai_socktype, address.ai_protocol);
    if (socket < 0) {
        fail("socket", errno);
    }
    if (fcntl(socket, F_SETFD, FD_CLOEXEC) != 0) {
        fail("fcntl", errno);
    }
#endif
#ifdef SO_NOSIGPIPE
    const int on = 1;  // macOS, BSD: no SIGPIPE from sends on this socket (see above)
    if (setsockopt(socket, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) != 0) {
        fail("setsockopt", errno);
    }
#endif
    return socket;
}

// Connects a blocking TCP socket to host:port, trying each address the name resolves to
// (localhost may be ::1 first and 127.0.0.1 second). Returns its descriptor, which the
// caller owns from then on (main.cpp's FileDescriptor closes it).
inline int connect_to(const Arguments& arguments) {
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
        const int socket = open_socket(*address);
        if (connect(socket, address->ai_addr, address->ai_addrlen) == 0) {
            freeaddrinfo(addresses);
            return socket;
        }
        last_error = errno;
        if (close(socket) != 0) {
            fail("close", errno);
        }
    }
    freeaddrinfo(addresses);
    fail_to_connect(arguments.address, std::strerror(last_error));
}

// A blocking send: it returns when every byte is handed to the kernel. MSG_NOSIGNAL: a
// connection the server has closed makes it fail with EPIPE instead of raising SIGPIPE.
inline void send_all(int socket, std::string_view bytes) {
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
