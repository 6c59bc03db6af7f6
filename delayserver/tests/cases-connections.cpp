// delayserver/tests/cases-connections.cpp: connections that time out or leave, and the log.
//
// The server closes a client that says nothing (or too little) when its idle time is up,
// forgets a client that leaves during its delay, and logs one line per request.
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>

#include "harness.hpp"

namespace delayserver_test {
namespace {

// ---------------------------------------------------------------------------------------
// Idle timeouts
// ---------------------------------------------------------------------------------------

// Run with --idle-timeout-ms=300: a client that says nothing is closed, without an answer.
void case_idle_timeout_silent(const Address& address) {
    const FileDescriptor socket_fd = connect_to(address);
    const auto start = std::chrono::steady_clock::now();
    const std::string received = read_until_closed(socket_fd);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::printf("(sent nothing) -> closed after %lld ms, received \"%s\"\n",
                static_cast<long long>(waited.count()), visible(received).c_str());
    check_equal("what a silent client receives", "", received);
}

// Run with --idle-timeout-ms=300: a half-sent request head gets 408.
void case_idle_timeout_partial(const Address& address) {
    const std::string timed_out = "The request head did not arrive within 300 ms.\n";
    expect_answer(address, "GET /50/x HTTP/1.1\r\nHost: loc", "HTTP/1.1 408 Request Timeout",
                  timed_out);
    // A head that never ends: one byte every 50 ms, never the empty line. The idle timeout
    // bounds the whole head, not the pause between two bytes, so this gets 408 as well.
    const std::string endless = "GET /50/x HTTP/1.1\r\nHost: localhost\r\nX-Trickle: " +
                                std::string(200, 'a');  // 10 s of bytes at most
    const FileDescriptor socket_fd = connect_to(address);
    bool answered = false;
    for (std::size_t sent = 0; sent < endless.size() && !answered; ++sent) {
        send_text(socket_fd, std::string_view(endless).substr(sent, 1));
        pollfd readable = {socket_fd.get(), POLLIN, 0};
        const int ready = poll(&readable, 1, 50);
        if (ready < 0 && errno != EINTR) {
            fail_with_os_error("poll");
        }
        answered = ready > 0;
    }
    check(answered, "no answer while the head trickled in for 10 s");
    check_answer(endless, read_until_closed(socket_fd), "HTTP/1.1 408 Request Timeout", timed_out);
    expect_delayed_answer(address, 100, "after-two-heads-that-never-ended");
}

// ---------------------------------------------------------------------------------------
// A client that leaves, and the log
// ---------------------------------------------------------------------------------------

// A client that goes away during its delay; the server must forget it and carry on.
void case_client_disconnects(const Address& address, const std::string& log_path) {
    {
        const FileDescriptor socket_fd = connect_to(address);
        send_text(socket_fd, get_request("/2000/gone"));
        // Wait until the server has logged the request (so it is in its delay), then close.
        wait_for_log_lines(log_path, 1);
        std::printf("sent GET /2000/gone, closing the connection during its delay\n");
    }
    expect_answer(address, get_request("/50/after"), "HTTP/1.1 200 OK", "after");
    check_log(log_path, {"#1 - 2000ms: gone", "#2 - 50ms: after"});
}

// The log line of each request: "#{count} - {delay_ms}ms: {decoded message}". Control
// characters in the message stay percent-encoded there, so one request is one line.
void case_log_format(const Address& address, const std::string& log_path) {
    expect_answer(address, get_request("/50/hello%20world"), "HTTP/1.1 200 OK", "hello world");
    expect_answer(address, get_request("/10/caf%C3%A9%0Anext"), "HTTP/1.1 200 OK",
                  "caf\xC3\xA9\nnext");
    expect_answer(address, get_request("/abc/not-logged"), "HTTP/1.1 400 Bad Request",
                  "The delay 'abc' is not a whole number of milliseconds.\n");
    expect_answer(address, get_request("/0/third"), "HTTP/1.1 200 OK", "third");
    check_log(log_path,
              {"#1 - 50ms: hello world", "#2 - 10ms: caf\xC3\xA9%0Anext", "#3 - 0ms: third"});
}

}  // namespace

const Case connection_cases_table[] = {
    {"idle-timeout-silent", needs_address,
     [](const Inputs& in) { case_idle_timeout_silent(in.address); }},
    {"idle-timeout-partial", needs_address,
     [](const Inputs& in) { case_idle_timeout_partial(in.address); }},
    {"client-disconnects", needs_address_and_log,
     [](const Inputs& in) { case_client_disconnects(in.address, in.server_log); }},
    {"log-format", needs_address_and_log,
     [](const Inputs& in) { case_log_format(in.address, in.server_log); }},
};

std::span<const Case> connection_cases() {
    return connection_cases_table;
}

}  // namespace delayserver_test
