// ch03-poll/test_platform_windows.cpp: test_platform.hpp on Windows, which has neither a
// limit on open sockets that 2,000 would reach nor POSIX signals.
#include <winsock2.h>
#include <ws2tcpip.h>

#include "test_platform.hpp"

bool start_refused_connect(Socket& connecting, Socket& port_holder) {
    const SOCKET holder = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (holder == INVALID_SOCKET) {
        return false;
    }
    port_holder = Socket(static_cast<RawSocket>(holder));
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // any free port: tests never use a fixed one
    int size = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    if (bind(holder, generic, size) == SOCKET_ERROR ||
        getsockname(holder, generic, &size) == SOCKET_ERROR) {
        return false;
    }
    std::string error;
    connecting = start_connect("127.0.0.1", std::to_string(ntohs(address.sin_port)), error);
    return connecting.is_open();
}

long refused_code() {
    return WSAECONNREFUSED;
}
long reset_code() {
    return WSAECONNRESET;
}

std::string raise_descriptor_limit(std::size_t) {
    return "";
}

bool queue_not_allowed(long) {
    return false;
}

std::string SignalDuringPoll::why_not() {
    return "Windows has no POSIX signals: nothing interrupts a wait there";
}

SignalDuringPoll::SignalDuringPoll() = default;
SignalDuringPoll::~SignalDuringPoll() = default;
void SignalDuringPoll::interrupt() {}
bool SignalDuringPoll::delivered() const {
    return false;
}
