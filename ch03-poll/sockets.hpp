// ch03-poll/sockets.hpp: the few socket calls main.cpp needs, the same on every OS.
//
// main.cpp is one file for Linux, macOS and Windows, with no #if: what differs between BSD
// sockets and Winsock (starting Winsock, closesocket, errno or WSAGetLastError, EINPROGRESS
// or WSAEWOULDBLOCK for a connect under way, the OS's message for an error) is here, in
// sockets_posix.cpp and sockets_windows.cpp, and the build compiles one of them. The
// contract test uses it too, for pairs of connected sockets.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "poll.hpp"  // RawSocket

// Starts Winsock (WSAStartup) on Windows and stops it at the end; nothing elsewhere. One
// per program, before the first socket.
class SocketLibrary {
  public:
    SocketLibrary();
    ~SocketLibrary();
    SocketLibrary(const SocketLibrary&) = delete;
    SocketLibrary& operator=(const SocketLibrary&) = delete;
};

// Owns one socket and closes it once (close, or closesocket on Windows).
class Socket {
  public:
    Socket() = default;
    explicit Socket(RawSocket socket) : socket_(socket), open_(true) {}
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    ~Socket();
    RawSocket get() const {
        return socket_;
    }
    bool is_open() const {
        return open_;
    }
    void close();

  private:
    RawSocket socket_ = 0;
    bool open_ = false;
};

// The code of the last failed socket call on this thread (errno, WSAGetLastError), and the
// OS's own message for such a code.
long last_socket_error();
std::string socket_error_message(long code);

// Resolves host:port and starts a non-blocking connect to its first address: the connect
// goes on in the kernel while the program does other things, and the socket reports
// writable when it is done. On failure: a closed Socket, and `error` says which call failed
// and the OS's message ("connect: Connection refused").
Socket start_connect(const std::string& host, const std::string& port, std::string& error);
// After the socket reported writable (or an error): 0 if the connect succeeded, else the
// OS's code for why it failed (SO_ERROR).
long connect_result(const Socket& socket);
// The same for a socket the caller does not own (Poll's failure_reason): SO_ERROR, which
// reading clears, or the code of the getsockopt that failed.
long pending_socket_error(RawSocket socket);
// For a program with no event queue to say when a connect is done (ch07-coroutine-by-hand
// polls its sockets): connect_under_way while it goes on, else connect_result's answer (0,
// or the OS's code for why it failed). The peer's address is known only once the connection
// is made, which is how mio's TcpStream::connect tells a caller to check (its documentation).
constexpr long connect_under_way = -1;
long check_connect(const Socket& socket);

// What send_some and receive_some return besides a count of bytes (0 from receive_some:
// the end of the stream, the peer closed).
constexpr long would_block = -1;    // nothing can be done now: wait for the next event
constexpr long socket_failed = -2;  // last_socket_error() says why
// Send and receive what the OS takes or has now, without waiting; a signal is retried.
long send_some(const Socket& socket, std::string_view bytes);
long receive_some(const Socket& socket, std::span<char> buffer);

// For the contract test: two non-blocking TCP sockets on loopback, connected to each
// other; false if a call failed (last_socket_error() says why).
bool connected_pair(Socket& one, Socket& other);
// Makes close send a reset instead of the end of the stream (SO_LINGER with zero time).
bool reset_on_close(const Socket& socket);
