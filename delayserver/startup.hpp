// delayserver/startup.hpp: what the delay server does once, before its loop runs, and how
// it reports a failed call.
//
// What it holds: raising the open-file limit (each connection is a file descriptor), the
// listening socket (resolve, bind, listen, with every call checked), the text of an
// address ("127.0.0.1:8080"), and the two ways a failed call is reported: fail() for a
// call the server cannot go on without, warn() for one that concerns one connection only.
//
// Usage: #include "startup.hpp" (after <asio.hpp>'s settings in CMakeLists.txt); link
// startup.cpp. Platform: anything standalone Asio supports; the open-file limit is POSIX.
#pragma once

#include <asio.hpp>

#include <string>
#include <string_view>
#include <system_error>

#include "options.hpp"

namespace delayserver {

// Names the call, gives the OS's message and exits 1. Asio reports the OS's errors as
// std::error_code; message() is the OS's text (strerror on POSIX, FormatMessage on Windows).
[[noreturn]] void fail(std::string_view call, const std::error_code& error);

// The same line on standard error, and the server carries on with its other connections.
void warn(std::string_view call, const std::error_code& error);

// Each connection is a file descriptor, and the usual soft limit is 1024: raise it to the
// hard limit (POSIX; nothing to do on Windows, where sockets are handles).
void raise_open_file_limit();

// A socket listening on settings.host and settings.port, or exit 1 naming the failed call
// ("bind 127.0.0.1:8080: Address already in use").
asio::ip::tcp::acceptor open_listening_socket(asio::io_context& io, const Settings& settings);

// "127.0.0.1:8080", or "[::1]:8080" for IPv6, where the address itself contains colons.
std::string describe(const asio::ip::tcp::endpoint& endpoint);

// Whether standard error is a terminal: a person started the server, not a program (such as
// tools/with-delayserver) that reads its output and stops it.
bool started_from_terminal();

}  // namespace delayserver
