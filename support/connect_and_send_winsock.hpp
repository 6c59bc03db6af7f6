// support/connect_and_send_winsock.hpp: connecting to the delay server and sending a
// request on Winsock sockets (ch03-iocp, ch03-wepoll). A first reading may skip this file:
// main.cpp is the lesson, and this part is the same whichever queue waits.
//
// Its POSIX twin is connect_and_send_posix.hpp (ch03-epoll, ch03-kqueue, ch03-io-uring): a
// diff of the two is the difference between Winsock and POSIX sockets. The connections are
// blocking while they connect and send; each main.cpp decides what happens to the socket
// next (handed to the completion port, or polled through AFD).
//
// main.cpp defines fail(call, error) and error_message(error): how an OS call's failure is
// told is its lesson. It starts Winsock (WSAStartup) before the first connect.
#pragma once

#include <winsock2.h>  // first: <windows.h> alone would pull in the old <winsock.h>
#include <ws2tcpip.h>

#include "arguments_and_report.hpp"  // Arguments, program_name, fail_to_connect

std::string error_message(DWORD error);                      // defined in main.cpp
[[noreturn]] void fail(std::string_view call, DWORD error);  // defined in main.cpp

// Connects a blocking TCP socket to host:port, trying each address the name resolves to
// (localhost may be ::1 first and 127.0.0.1 second). socket_flags are WSASocketW's: what
// the queue needs of the socket. Returns the socket, which the caller owns from then on
// (main.cpp's Socket closes it).
inline SOCKET connect_to(const Arguments& arguments, DWORD socket_flags) {
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
        const SOCKET socket =
            WSASocketW(address->ai_family, address->ai_socktype, address->ai_protocol,
                       nullptr,  // no protocol info: the three values above say it
                       0,        // no socket group
                       socket_flags | WSA_FLAG_NO_HANDLE_INHERIT);  // like SOCK_CLOEXEC
        if (socket == INVALID_SOCKET) {
            fail("WSASocketW", WSAGetLastError());
        }
        if (connect(socket, address->ai_addr, static_cast<int>(address->ai_addrlen)) == 0) {
            freeaddrinfo(addresses);
            return socket;
        }
        last_error = WSAGetLastError();
        if (closesocket(socket) != 0) {
            fail("closesocket", WSAGetLastError());
        }
    }
    freeaddrinfo(addresses);
    fail_to_connect(arguments.address, error_message(last_error));
}

// A blocking send: it returns when every byte is handed to the kernel. Without an
// OVERLAPPED, send is an ordinary call even on an overlapped socket, and Windows has no
// SIGPIPE and no EINTR to guard against.
inline void send_all(SOCKET socket, std::string_view bytes) {
    while (!bytes.empty()) {
        const int sent = send(socket, bytes.data(), static_cast<int>(bytes.size()), 0);
        if (sent == SOCKET_ERROR) {
            fail("send", WSAGetLastError());
        }
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}
