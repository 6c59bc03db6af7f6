// delayserver/tests/cases-faults.cpp: the fault modes (--fault MODE).
//
// Each fault replaces the answer to a valid request, after its delay, with exactly what
// delayserver/README.md promises: a reset, bytes that are not HTTP, half an answer, no byte
// at all, or nothing and an open connection.
#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "harness.hpp"

namespace delayserver_test {
namespace {

// Error answers are never replaced: a fault concerns valid requests only.
void expect_error_answered_as_usual(const Address& address) {
    expect_answer(address, get_request("/abc/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 'abc' is not a whole number of milliseconds.\n");
}

// Sends GET /50/{message} and returns how the connection ended.
Ending request_with_fault(const Address& address, const std::string& message) {
    const FileDescriptor socket_fd = connect_to(address);
    send_text(socket_fd, get_request("/50/" + message));
    const Ending ending = read_to_end(socket_fd);
    std::printf("GET /50/%s -> %s\n", message.c_str(), describe(ending).c_str());
    return ending;
}

// Run with --fault=reset: no answer, but a reset (RST): recv fails with ECONNRESET.
void case_fault_reset(const Address& address) {
    const Ending ending = request_with_fault(address, "reset-me");
    check(ending.error == ECONNRESET,
          "expected \"" + std::string(std::strerror(ECONNRESET)) + "\", got " + describe(ending));
    check_equal("bytes before the reset", "", ending.received);
    expect_error_answered_as_usual(address);
}

// Run with --fault=garbage: bytes that are not HTTP, then end of file.
void case_fault_garbage(const Address& address) {
    const Ending ending = request_with_fault(address, "garbage");
    check_equal("what came instead of the answer", "this is not HTTP\r\n", ending.received);
    check(ending.error == 0, "expected end of file, got " + describe(ending));
    expect_error_answered_as_usual(address);
}

// Run with --fault=truncate: the whole head, whose content-length announces the whole
// body, then only the first half of the body ("hello" of "hello world"), then end of file.
void case_fault_truncate(const Address& address) {
    const Ending ending = request_with_fault(address, "hello%20world");
    check(ending.error == 0, "expected end of file, got " + describe(ending));
    const Answer answer = parse_answer(ending.received);
    check_equal("status line", "HTTP/1.1 200 OK", answer.status_line);
    check(!answer.headers.empty() && answer.headers[0].first == "content-length",
          "the first header should be content-length");
    if (!answer.headers.empty()) {
        check_equal("content-length (the whole body's)", "11", answer.headers[0].second);
    }
    check_equal("the body that came (its first half)", "hello", answer.body);
    expect_error_answered_as_usual(address);
}

// Run with --fault=close: the server closes without sending a byte (end of file).
void case_fault_close(const Address& address) {
    const Ending ending = request_with_fault(address, "closed-early");
    check_equal("bytes before end of file", "", ending.received);
    check(ending.error == 0, "expected end of file, got " + describe(ending));
    expect_error_answered_as_usual(address);
}

// --fault=stall: the request is read (and logged) but never answered; the connection stays
// open, and SIGTERM still stops the server at once, stalled connection and all. This case
// starts the server itself, to stop it while the connection is still open.
void case_fault_stall(const std::string& server_path) {
    RunningServer server({server_path, "--host", "127.0.0.1", "--port", "0", "--fault", "stall"});
    const std::string listening = server.wait_for_line("listening on ");
    const std::optional<Address> found = parse_address(listening.substr(listening.find("on ") + 3));
    if (!found) {
        fail_now("no HOST:PORT in the server's line \"" + listening + "\"");
    }
    const Address& address = *found;
    const FileDescriptor socket_fd = connect_to(address);
    send_text(socket_fd, get_request("/50/stalled"));
    check_equal("the server's log line", "#1 - 50ms: stalled", server.wait_for_line("#1 - "));
    server.wait_for_line("#1: stalling");  // its delay is over: now it stalls
    // Nothing comes, and the connection stays open (no end of file either).
    pollfd readable = {socket_fd.get(), POLLIN, 0};
    const int ready = poll(&readable, 1, 500);
    if (ready < 0) {
        fail_with_os_error("poll");
    }
    check(ready == 0, "something arrived on a stalled connection (data or its end)");
    std::printf("GET /50/stalled -> nothing after the delay; stopping the server (SIGTERM)\n");
    check_equal("exit code after SIGTERM, with a stalled connection open", "0",
                std::to_string(server.stop()));
    // The server is gone, and so is the connection.
    const Ending ending = read_to_end(socket_fd);
    std::printf("then: %s\n", describe(ending).c_str());
    check(ending.received.empty() && ending.error == 0,
          "expected end of file once the server stopped, got " + describe(ending));
}

}  // namespace

const Case fault_cases_table[] = {
    {"fault-reset", needs_address, [](const Inputs& in) { case_fault_reset(in.address); }},
    {"fault-garbage", needs_address, [](const Inputs& in) { case_fault_garbage(in.address); }},
    {"fault-truncate", needs_address, [](const Inputs& in) { case_fault_truncate(in.address); }},
    {"fault-close", needs_address, [](const Inputs& in) { case_fault_close(in.address); }},
    {"fault-stall", needs_server, [](const Inputs& in) { case_fault_stall(in.server); }},
};

std::span<const Case> fault_cases() {
    return fault_cases_table;
}

}  // namespace delayserver_test
