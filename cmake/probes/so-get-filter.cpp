// cmake/probes/so-get-filter.cpp: can libkqueue run on this machine? (cmake/MachineProbes.cmake)
//
// libkqueue asks every socket it is given whether a packet filter is attached:
// getsockopt(SO_GET_FILTER) with no buffer, which Linux answers with the filter's length
// (0: none). It takes any error other than ENOTSOCK as fatal, and kevent then fails. qemu-user
// 7.2 (an ARM64 build run on x86-64, under binfmt or as the cross build's emulator) answers
// EFAULT. This program makes the same call on a socket: exit 0 where it works, else the
// OS's message and exit 1.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
    const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (socket_fd < 0) {
        std::printf("socket: %s\n", std::strerror(errno));
        return 1;
    }
    socklen_t filter_length = 0;
    if (getsockopt(socket_fd, SOL_SOCKET, SO_GET_FILTER, nullptr, &filter_length) != 0) {
        std::printf("getsockopt(SO_GET_FILTER) with no buffer: %s\n", std::strerror(errno));
        return 1;
    }
    close(socket_fd);
    return 0;
}
