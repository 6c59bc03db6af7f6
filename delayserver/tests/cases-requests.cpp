// delayserver/tests/cases-requests.cpp: one request, one answer: what each request gets.
//
// A case per kind of request: well-formed ones answered after their delay, in the order the
// delays end; each malformed one answered at once with its error. The cases' names are the
// CTest tests' (delayserver-NAME); harness.hpp has what they share.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.hpp"

namespace delayserver_test {
namespace {

// ---------------------------------------------------------------------------------------
// Well-formed requests
// ---------------------------------------------------------------------------------------

void case_ok(const Address& address) {
    expect_answer(address, get_request("/50/hello%20world"), "HTTP/1.1 200 OK", "hello world");
    expect_answer(address, get_request("/0/caf%C3%A9"), "HTTP/1.1 200 OK", "caf\xC3\xA9");
}

// Forms of a request that are unusual but valid, and accepted.
void case_accepted_forms(const Address& address) {
    // RFC 9112 section 3.2.2: a server MUST accept the absolute form of a target.
    expect_answer(address, "GET http://localhost/10/absolute HTTP/1.1\r\nHost: localhost\r\n\r\n",
                  "HTTP/1.1 200 OK", "absolute");
    // Section 2.2: an empty line before the request line is ignored; bare LF line ends.
    expect_answer(address, "\r\nGET /10/leading-empty-line HTTP/1.1\r\nHost: localhost\r\n\r\n",
                  "HTTP/1.1 200 OK", "leading-empty-line");
    expect_answer(address, "GET /10/bare-lf HTTP/1.1\nHost: localhost\n\n", "HTTP/1.1 200 OK",
                  "bare-lf");
    // HTTP/1.0 needs no Host header.
    expect_answer(address, "GET /10/http-1.0 HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK", "http-1.0");
    // A query is ignored; a '+' in a path is a plus, not a space.
    expect_answer(address, get_request("/10/with-query?x=1"), "HTTP/1.1 200 OK", "with-query");
    expect_answer(address, get_request("/10/one+two"), "HTTP/1.1 200 OK", "one+two");
    // A body after the head (it has none to give to a GET) is read and ignored.
    expect_answer(address,
                  "GET /10/with-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
                  "HTTP/1.1 200 OK", "with-body");
}

// Three requests sent in the order 300, 200, 100 ms, each on its own connection, all at
// once: the answers must arrive in the reverse order.
void case_ordering(const Address& address) {
    const std::vector<std::string> paths = {"/300/request-1", "/200/request-2", "/100/request-3"};
    std::vector<FileDescriptor> sockets;
    for (const std::string& path : paths) {
        sockets.push_back(connect_to(address));
        send_text(sockets.back(), get_request(path));
        std::printf("sent GET %s\n", path.c_str());
    }
    std::vector<pollfd> waiting;
    for (const FileDescriptor& socket_fd : sockets) {
        waiting.push_back(pollfd{socket_fd.get(), POLLIN, 0});
    }
    std::vector<std::string> received(sockets.size());
    std::vector<std::string> finished_bodies;
    while (finished_bodies.size() < sockets.size()) {
        const int ready = poll(waiting.data(), waiting.size(), receive_timeout_seconds * 1000);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            fail_with_os_error("poll");
        }
        if (ready == 0) {
            fail_now("no answer within " + std::to_string(receive_timeout_seconds) + " s");
        }
        for (std::size_t index = 0; index < waiting.size(); ++index) {
            if (waiting[index].fd < 0 || waiting[index].revents == 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t count = recv(waiting[index].fd, buffer, sizeof buffer, 0);
            if (count < 0) {
                fail_with_os_error("recv");
            }
            if (count > 0) {
                received[index].append(buffer, static_cast<std::size_t>(count));
                continue;
            }
            // The server closed the connection: this answer is complete.
            waiting[index].fd = -1;  // poll ignores negative descriptors
            const Answer answer = parse_answer(received[index]);
            std::printf("answer %zu: %s \"%s\"\n", finished_bodies.size() + 1,
                        answer.status_line.c_str(), answer.body.c_str());
            check_equal("status line", "HTTP/1.1 200 OK", answer.status_line);
            finished_bodies.push_back(answer.body);
        }
    }
    check_equal("order of the answers", "request-3 request-2 request-1",
                finished_bodies[0] + " " + finished_bodies[1] + " " + finished_bodies[2]);
}

// One request per connection: a second request sent right behind the first, on the same
// connection, is not answered (the answer says "connection: close", then the server closes).
void case_pipelined(const Address& address) {
    const std::string second = "GET /10/second HTTP/1.1\r\nHost: localhost\r\n\r\n";
    expect_answer(address, "GET /10/first HTTP/1.1\r\nHost: localhost\r\n\r\n" + second,
                  "HTTP/1.1 200 OK", "first");
}

// ---------------------------------------------------------------------------------------
// The delay and the message: 400 for what is not a delay or not a message
// ---------------------------------------------------------------------------------------

void case_delay_not_a_number(const Address& address) {
    for (const std::string delay : {"abc", "+5", "5ms", "1.5", "%35"}) {
        expect_answer(address, get_request("/" + delay + "/x"), "HTTP/1.1 400 Bad Request",
                      "The delay '" + delay + "' is not a whole number of milliseconds.\n");
    }
}

void case_delay_negative(const Address& address) {
    expect_answer(address, get_request("/-5/x"), "HTTP/1.1 400 Bad Request",
                  "The delay '-5' is negative.\n");
}

void case_delay_too_many_digits(const Address& address) {
    // 2^64 does not fit in 64 bits; 2^63 does (as an unsigned number) but is above the cap.
    expect_answer(address, get_request("/18446744073709551616/x"), "HTTP/1.1 400 Bad Request",
                  "The delay '18446744073709551616' is too large a number.\n");
    expect_answer(address, get_request("/99999999999999999999999999/x"), "HTTP/1.1 400 Bad Request",
                  "The delay '99999999999999999999999999' is too large a number.\n");
    expect_answer(address, get_request("/9223372036854775808/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 9223372036854775808 ms is above this server's maximum of 60000 ms.\n");
}

// Run with --max-delay-ms=1000.
void case_delay_above_maximum(const Address& address) {
    expect_answer(address, get_request("/1001/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 1001 ms is above this server's maximum of 1000 ms.\n");
    expect_answer(address, get_request("/1000/just-right"), "HTTP/1.1 200 OK", "just-right");
}

void case_bad_percent_encoding(const Address& address) {
    for (const std::string message : {"bad%zzescape", "cut%4", "end%", "%G0"}) {
        expect_answer(address, get_request("/50/" + message), "HTTP/1.1 400 Bad Request",
                      bad_percent_body);
    }
}

void case_not_utf8(const Address& address) {
    // A lone 0xFF; "/" written in two bytes (overlong); a UTF-16 surrogate; a cut sequence.
    for (const std::string message : {"%FF", "%C0%AF", "%ED%A0%80", "%E2%82"}) {
        expect_answer(address, get_request("/50/" + message), "HTTP/1.1 400 Bad Request",
                      "The decoded message is not valid UTF-8.\n");
    }
}

// ---------------------------------------------------------------------------------------
// The target: 404 for any other path
// ---------------------------------------------------------------------------------------

void case_unknown_path(const Address& address) {
    for (const std::string path : {"/", "/hello", "/favicon.ico", "/50/", "/50/a/b", "//x"}) {
        expect_answer(address, get_request(path), "HTTP/1.1 404 Not Found", not_found_body);
    }
}

// ---------------------------------------------------------------------------------------
// The method: GET and HEAD only
// ---------------------------------------------------------------------------------------

void case_method_not_allowed(const Address& address) {
    // Method names are case-sensitive (RFC 9110 section 9.1): "get" and "head" are not GET
    // and HEAD.
    for (const std::string method : {"POST", "DELETE", "get", "head"}) {
        expect_answer(
            address, method + " /50/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "HTTP/1.1 405 Method Not Allowed",
            "Method '" + method + "' is not allowed: this server answers GET and HEAD only.\n");
    }
}

// HEAD is GET without the body (RFC 9110 section 9.3.2): the same status line and headers,
// content-length included, after the same delay, and nothing after the empty line. The
// request is what `curl -I http://HOST:PORT/100/x` sends.
void case_head_method(const Address& address) {
    const std::string request =
        "HEAD /100/x HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
    const auto start = std::chrono::steady_clock::now();
    const std::string raw = send_and_receive(address, request);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    // content-length: 1, the length of GET's body "x"; and no body at all.
    check_answer(request, raw, "HTTP/1.1 200 OK", "x", false);
    check(raw.ends_with("\r\n\r\n"),
          "the answer to HEAD ends with the empty line after its headers");
    const std::string took = "answered after " + std::to_string(waited.count()) + " ms";
    check(waited >= 100ms, took + ", before its delay of 100");
    check(waited <= 100ms + generous_bound,
          took + ", more than " + std::to_string(generous_bound.count()) + " ms after its delay");
    // An error answer to HEAD has no body either; its content-length is that of GET's.
    const std::string missing = "HEAD /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n";
    check_answer(missing, send_and_receive(address, missing), "HTTP/1.1 404 Not Found",
                 not_found_body, false);
}

// ---------------------------------------------------------------------------------------
// The head: malformed, incomplete, too large, or not HTTP at all
// ---------------------------------------------------------------------------------------

void case_malformed_request_line(const Address& address) {
    const std::string host = "Host: localhost\r\n\r\n";
    for (const std::string request_line :
         {"GARBAGE", "GET /50/x", "GET  /50/x HTTP/1.1", "GET /50/x HTTP/1.1 ",
          "GET /50/x http/1.1", "GET /50/x HTTP/1.1x", "GET /50/caf\xC3\xA9 HTTP/1.1",
          "GET /50/a\tb HTTP/1.1"}) {
        expect_answer(address, request_line + "\r\n" + host, "HTTP/1.1 400 Bad Request",
                      malformed_request_line_body);
    }
    expect_answer(address, "GET /50/x HTTP/2.0\r\n" + host, "HTTP/1.1 400 Bad Request",
                  "This server speaks HTTP/1.0 and HTTP/1.1 only, not HTTP/2.0.\n");
    expect_answer(address, "GET /50/x HTTP/0.9\r\n" + host, "HTTP/1.1 400 Bad Request",
                  "This server speaks HTTP/1.0 and HTTP/1.1 only, not HTTP/0.9.\n");
    expect_answer(address, "GET x/50/y HTTP/1.1\r\n" + host, "HTTP/1.1 400 Bad Request",
                  "The request target must be a path, such as /2000/hello.\n");
}

void case_malformed_header(const Address& address) {
    const std::string start = "GET /50/x HTTP/1.1\r\nHost: localhost\r\n";
    const std::string malformed = "Malformed header line: expected 'Name: value'.\n";
    expect_answer(address, start + "NoColon\r\n\r\n", "HTTP/1.1 400 Bad Request", malformed);
    expect_answer(address, start + "Space-Before : colon\r\n\r\n", "HTTP/1.1 400 Bad Request",
                  malformed);
    expect_answer(address, start + "X-Folded: one\r\n two\r\n\r\n", "HTTP/1.1 400 Bad Request",
                  "A header line starts with white space (obsolete line folding).\n");
    expect_answer(address, start + std::string("X-Control: a\x01z\r\n\r\n"),
                  "HTTP/1.1 400 Bad Request", "A header value contains a control character.\n");
    expect_answer(address, start + std::string("X-Bare-CR: a\rz\r\n\r\n"),
                  "HTTP/1.1 400 Bad Request", "A header value contains a control character.\n");
}

void case_missing_host(const Address& address) {
    const std::string one_host =
        "An HTTP/1.1 request must have exactly one Host header (RFC 9112 section 3.2).\n";
    expect_answer(address, "GET /50/x HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", one_host);
    expect_answer(address, "GET /50/x HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
                  "HTTP/1.1 400 Bad Request", one_host);
    expect_answer(address, "GET /50/no-host HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK", "no-host");
}

// A head that goes on past 8 KiB without its empty line.
void case_head_too_large(const Address& address) {
    const std::string request =
        "GET /50/x HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(9000, 'a');
    expect_answer(address, request, "HTTP/1.1 431 Request Header Fields Too Large",
                  "The request head is larger than 8 KiB.\n");
    expect_delayed_answer(address, 100, "after-a-head-too-large");
}

// The start of a TLS ClientHello (tls_hello: someone asking for https:// of this plain HTTP
// server): its first byte, 0x16, cannot start a request line, so the 400 comes at once, without
// the empty line that would end a head. Run with an idle timeout far longer than the
// client's 10 s receive timeout: had the server waited for more, the answer would be a
// 408 that never comes in time, and the case would fail without measuring any time.

void case_not_http(const Address& address) {
    expect_answer(address, tls_hello, "HTTP/1.1 400 Bad Request", not_http_body);
    // The same after the empty lines a server skips before a request line (RFC 9112 2.2).
    expect_answer(address, "\r\n" + tls_hello, "HTTP/1.1 400 Bad Request", not_http_body);
    expect_answer(address, " GET /10/x HTTP/1.1\r\n", "HTTP/1.1 400 Bad Request",
                  "The first byte, 0x20, cannot start an HTTP request line.\n");
    expect_delayed_answer(address, 10, "after-bytes-that-are-not-http");
}

}  // namespace

const Case request_cases_table[] = {
    {"ok", needs_address, [](const Inputs& in) { case_ok(in.address); }},
    {"accepted-forms", needs_address, [](const Inputs& in) { case_accepted_forms(in.address); }},
    {"ordering", needs_address, [](const Inputs& in) { case_ordering(in.address); }},
    {"delay-not-a-number", needs_address,
     [](const Inputs& in) { case_delay_not_a_number(in.address); }},
    {"delay-negative", needs_address, [](const Inputs& in) { case_delay_negative(in.address); }},
    {"delay-too-many-digits", needs_address,
     [](const Inputs& in) { case_delay_too_many_digits(in.address); }},
    {"delay-above-maximum", needs_address,
     [](const Inputs& in) { case_delay_above_maximum(in.address); }},
    {"bad-percent-encoding", needs_address,
     [](const Inputs& in) { case_bad_percent_encoding(in.address); }},
    {"not-utf8", needs_address, [](const Inputs& in) { case_not_utf8(in.address); }},
    {"unknown-path", needs_address, [](const Inputs& in) { case_unknown_path(in.address); }},
    {"method-not-allowed", needs_address,
     [](const Inputs& in) { case_method_not_allowed(in.address); }},
    {"head-method", needs_address, [](const Inputs& in) { case_head_method(in.address); }},
    {"malformed-request-line", needs_address,
     [](const Inputs& in) { case_malformed_request_line(in.address); }},
    {"malformed-header", needs_address,
     [](const Inputs& in) { case_malformed_header(in.address); }},
    {"missing-host", needs_address, [](const Inputs& in) { case_missing_host(in.address); }},
    {"head-too-large", needs_address, [](const Inputs& in) { case_head_too_large(in.address); }},
    {"not-http", needs_address, [](const Inputs& in) { case_not_http(in.address); }},
    {"pipelined", needs_address, [](const Inputs& in) { case_pipelined(in.address); }},
};

std::span<const Case> request_cases() {
    return request_cases_table;
}

}  // namespace delayserver_test
