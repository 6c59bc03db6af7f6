// delayserver/startup.cpp: what the delay server does once, before its loop runs (see
// startup.hpp).
//
// Usage: compiled into the delay server. Platform: anything standalone Asio supports;
// raising the open-file limit is POSIX only.
#include "startup.hpp"

#include <cstdio>
#include <cstdlib>

#if defined(_WIN32)
#include <io.h>
#else
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

namespace delayserver {

void fail(std::string_view call, const std::error_code& error) {
    warn(call, error);
    std::exit(1);
}

void warn(std::string_view call, const std::error_code& error) {
    std::fprintf(stderr, "delayserver: %.*s: %s\n", static_cast<int>(call.size()), call.data(),
                 error.message().c_str());
}

#if defined(_WIN32)
void raise_open_file_limit() {
    // Windows has no RLIMIT_NOFILE: sockets are handles, limited only by memory.
}
#else
// The hard limit is the ceiling an unprivileged process may raise its own soft limit to.
void raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        std::fprintf(stderr, "delayserver: getrlimit: %s\n", std::strerror(errno));
        return;  // the server still works, with fewer connections
    }
    // macOS reports an unlimited hard limit but refuses a soft limit above OPEN_MAX
    // (10240) with EINVAL; see COMPATIBILITY in its setrlimit(2) man page.
    constexpr rlim_t open_max_on_macos = 10240;
    const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? open_max_on_macos : limit.rlim_max;
    if (limit.rlim_cur >= wanted) {
        return;
    }
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        std::fprintf(stderr, "delayserver: setrlimit(RLIMIT_NOFILE, %llu): %s\n",
                     static_cast<unsigned long long>(wanted), std::strerror(errno));
    }
}
#endif

namespace {

// SO_REUSEADDR lets a restarted server bind its port while connections of the previous
// run are still in TIME_WAIT; on POSIX it still refuses a port that another socket is
// listening on. On Windows it would allow exactly that (two servers on one port), so it
// is left off there.
#if defined(_WIN32)
constexpr bool reuse_address_is_safe = false;
#else
constexpr bool reuse_address_is_safe = true;
#endif

// HOST may be an address (127.0.0.1, ::1) or a name (localhost), which is resolved.
asio::ip::tcp::endpoint endpoint_to_bind(asio::io_context& io, const Settings& settings) {
    std::error_code error;
    const asio::ip::address address = asio::ip::make_address(settings.host, error);
    if (!error) {
        return asio::ip::tcp::endpoint(address, settings.port);
    }
    asio::ip::tcp::resolver resolver(io);
    const asio::ip::tcp::resolver::results_type results =
        resolver.resolve(settings.host, std::to_string(settings.port), error);
    if (error) {
        fail("resolve " + settings.host, error);
    }
    return results.begin()->endpoint();  // resolve() succeeds only with at least one result
}

}  // namespace

asio::ip::tcp::acceptor open_listening_socket(asio::io_context& io, const Settings& settings) {
    const asio::ip::tcp::endpoint wanted = endpoint_to_bind(io, settings);
    asio::ip::tcp::acceptor acceptor(io);
    std::error_code error;
    acceptor.open(wanted.protocol(), error);
    if (error) {
        fail("socket", error);
    }
    if (reuse_address_is_safe) {
        acceptor.set_option(asio::socket_base::reuse_address(true), error);
        if (error) {
            fail("setsockopt SO_REUSEADDR", error);
        }
    }
    acceptor.bind(wanted, error);
    if (error) {
        fail("bind " + describe(wanted), error);  // e.g. "Address already in use"
    }
    acceptor.listen(asio::socket_base::max_listen_connections, error);  // SOMAXCONN
    if (error) {
        fail("listen", error);
    }
    return acceptor;
}

std::string describe(const asio::ip::tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    const std::string port = std::to_string(endpoint.port());
    return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

bool started_from_terminal() {
#if defined(_WIN32)
    return _isatty(_fileno(stderr)) != 0;
#else
    return isatty(STDERR_FILENO) == 1;
#endif
}

}  // namespace delayserver
