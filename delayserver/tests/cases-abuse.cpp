// delayserver/tests/cases-abuse.cpp: abuse, and closing everything.
//
// After a thousand idle connections, or a burst of malformed requests, the server still
// answers a well-formed request with its delay; and (under valgrind) it closes every
// descriptor it opened, whichever way each connection ended.
#include <poll.h>

#include <cstdio>
#include <string>
#include <vector>

#include "harness.hpp"

namespace delayserver_test {
namespace {

// ---------------------------------------------------------------------------------------
// Abuse: the server carries on, and still answers a well-formed request with its delay
// ---------------------------------------------------------------------------------------

// Run with --idle-timeout-ms=1500. A thousand clients connect and never send anything
// (as idle preconnections do, or an attack): the server answers another client meanwhile,
// with its delay, and closes each idle one, without a byte, when its idle time is up.
void case_idle_connections_1000(const Address& address) {
    constexpr std::size_t idle_count = 1000;
    raise_open_file_limit(idle_count + 64);  // and a few for the other connections
    std::vector<FileDescriptor> idle;
    idle.reserve(idle_count);
    for (std::size_t index = 0; index < idle_count; ++index) {
        idle.push_back(connect_to(address));
    }
    std::printf("opened %zu connections that send nothing\n", idle_count);
    expect_delayed_answer(address, 100, "after-1000-idle-connections");
    std::size_t closed_silently = 0;
    for (const FileDescriptor& socket_fd : idle) {
        // read_until_closed fails the test if the server has not closed it within 10 s.
        closed_silently += read_until_closed(socket_fd).empty() ? 1 : 0;
    }
    std::printf("the server closed %zu of them without a byte\n", closed_silently);
    check_equal("idle connections closed without a byte", std::to_string(idle_count),
                std::to_string(closed_silently));
}

// 200 malformed requests, each on its own connection, all sent before any answer is read:
// every one gets its error answer, and the next well-formed request is answered as usual.
void case_malformed_burst(const Address& address) {
    struct Malformed {
        std::string request;
        std::string status_line;
    };
    const std::string bad_request = "HTTP/1.1 400 Bad Request";
    const std::vector<Malformed> kinds = {
        {"GARBAGE\r\n\r\n", bad_request},
        {tls_hello, bad_request},                     // someone speaking HTTPS to an HTTP port
        {"GET /50/x HTTP/1.1\r\n\r\n", bad_request},  // no Host
        {"GET /abc/x HTTP/1.1\r\nHost: localhost\r\n\r\n", bad_request},
        {"GET /50/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n", bad_request},
        {"GET /50/x HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n", bad_request},
        {"GET /50/x HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(9000, 'a'),
         "HTTP/1.1 431 Request Header Fields Too Large"},
    };
    constexpr std::size_t burst = 200;
    std::vector<FileDescriptor> sockets;
    sockets.reserve(burst);
    for (std::size_t index = 0; index < burst; ++index) {
        sockets.push_back(connect_to(address));
        send_text(sockets.back(), kinds[index % kinds.size()].request);
    }
    std::printf("sent %zu malformed requests of %zu kinds, one per connection\n", burst,
                kinds.size());
    std::size_t as_expected = 0;
    for (std::size_t index = 0; index < burst; ++index) {
        const std::string raw = read_until_closed(sockets[index]);
        const std::string status_line = raw.substr(0, raw.find("\r\n"));
        const std::string& expected = kinds[index % kinds.size()].status_line;
        check_equal("answer " + std::to_string(index + 1), expected, status_line);
        as_expected += status_line == expected ? 1 : 0;
    }
    std::printf("%zu of %zu got their error answer\n", as_expected, burst);
    expect_delayed_answer(address, 100, "after-a-malformed-burst");
}

// ---------------------------------------------------------------------------------------
// Run under valgrind --track-fds=yes (test delayserver-closes-everything)
// ---------------------------------------------------------------------------------------

// Run with --idle-timeout-ms=1000 and a log. One connection for each way a connection
// ends in the server, so that each path that closes a socket runs at least once; valgrind
// then reports any descriptor still open when the server exits. The output is compared
// with an expected-output file, so it says nothing that varies.
void case_closes_everything(const Address& address, const std::string& log_path) {
    expect_answer(address, get_request("/50/answered"), "HTTP/1.1 200 OK", "answered");
    expect_answer(address, get_request("/abc/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 'abc' is not a whole number of milliseconds.\n");
    expect_answer(address, "GET /50/x HTTP/1.1\r\nHost: loc", "HTTP/1.1 408 Request Timeout",
                  "The request head did not arrive within 1000 ms.\n");
    {
        const FileDescriptor socket_fd = connect_to(address);
        check_equal("what a silent client receives", "", read_until_closed(socket_fd));
        std::printf("(sent nothing) -> closed by the server\n");
    }
    {
        const FileDescriptor socket_fd = connect_to(address);  // and closed at once
        std::printf("(connected and left at once)\n");
    }
    {
        const FileDescriptor socket_fd = connect_to(address);
        send_text(socket_fd, get_request("/2000/gone"));
        wait_for_log_lines(log_path, 2);  // the server has it: it is in its delay
        std::printf("sent GET /2000/gone, closing the connection during its delay\n");
    }
    expect_answer(address, get_request("/0/last"), "HTTP/1.1 200 OK", "last");
    check_log(log_path, {"#1 - 50ms: answered", "#2 - 2000ms: gone", "#3 - 0ms: last"});
}

}  // namespace

const Case abuse_cases_table[] = {
    {"idle-connections-1000", needs_address,
     [](const Inputs& in) { case_idle_connections_1000(in.address); }},
    {"malformed-burst", needs_address, [](const Inputs& in) { case_malformed_burst(in.address); }},
    {"closes-everything", needs_address_and_log,
     [](const Inputs& in) { case_closes_everything(in.address, in.server_log); }},
};

std::span<const Case> abuse_cases() {
    return abuse_cases_table;
}

}  // namespace delayserver_test
