// delayserver/request.hpp: reading one HTTP/1.1 request head, as pure functions.
//
// What it shows: everything the delay server decides about a request, written without
// sockets, timers or Asio, so it can be read (and tested, and fuzzed) on its own:
//   - where the request head ends in the bytes received so far, and when it is too large;
//   - the request line `GET /{delay_ms}/{message} HTTP/1.1` (or HEAD, the same without the
//     body) and the header lines;
//   - the delay number and the percent-encoded message.
// The server (main.cpp) feeds the bytes it reads into scan_request_head() and, once the
// head is complete, asks interpret_request_head() what to answer; describe_request() names
// the request in the log line of an error answer.
//
// Usage: #include "request.hpp"; link request.cpp. Portable C++20, no operating system calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace delayserver {

// A request head (request line and header lines) larger than this is refused with
// 431 Request Header Fields Too Large. 8 KiB is what common servers allow by default.
inline constexpr std::size_t max_request_head_bytes = 8 * 1024;

// Where the request head ends in the bytes received so far.
enum class HeadState {
    incomplete,     // no empty line yet: read more
    complete,       // the head ends after `length` bytes (anything after it is a body or junk)
    too_large,      // more than max_request_head_bytes and still no empty line: answer 431
    not_a_request,  // the first byte cannot start a request line: answer 400 at once
};

struct HeadScan {
    HeadState state = HeadState::incomplete;
    std::size_t length = 0;  // only for HeadState::complete
};

// Finds the empty line that ends a request head. Lines may end in CRLF or in a bare LF
// (RFC 9112 section 2.2 allows a recipient to accept both); empty lines before the
// request line are skipped, as the same section recommends. A request line starts with
// its method, a token (RFC 9112 section 3): bytes whose first one cannot start a token are
// no HTTP request at all (a TLS handshake starts with 0x16), and need not be waited for.
HeadScan scan_request_head(std::string_view received);

// The three parts of a request line: `GET /2000/hello HTTP/1.1`.
struct RequestLine {
    std::string_view method;   // GET
    std::string_view target;   // /2000/hello
    std::string_view version;  // HTTP/1.1
};

// Splits a request line (without its line ending) at its two single spaces and checks
// the shape of each part (RFC 9112 section 3). Returns nothing when it is malformed.
std::optional<RequestLine> parse_request_line(std::string_view line);

// Decodes %XX escapes ("hello%20world" -> "hello world"). Returns nothing when a '%' is
// not followed by two hexadecimal digits. A '+' stays a '+': in a path it is not a space.
std::optional<std::string> percent_decode(std::string_view encoded);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF): the server labels its answers `charset=utf-8`, so the message must be.
bool is_valid_utf8(std::string_view text);

// What is wrong with a delay, if anything.
enum class DelayProblem { none, not_a_number, negative, too_many_digits, above_maximum };

struct ParsedDelay {
    DelayProblem problem = DelayProblem::none;
    std::chrono::milliseconds delay{0};  // only when problem is DelayProblem::none
};

// Reads the {delay_ms} part of the path: decimal digits only, at most `max_delay`.
ParsedDelay parse_delay(std::string_view text, std::chrono::milliseconds max_delay);

// What the server answers to one complete request head.
struct RequestOutcome {
    // 200 for a valid GET or HEAD request, answered after `delay`; otherwise the HTTP
    // error status to answer at once (400, 404 or 405).
    int status_code = 200;
    std::chrono::milliseconds delay{0};
    // For 200, the decoded message, which becomes the body of the answer. For an error,
    // one sentence saying what was wrong, which becomes the body of the error answer.
    std::string body;
    // False for a HEAD request: its answer has the headers a GET would get, content-length
    // included, but never a body (RFC 9110 section 9.3.2), even when it is an error.
    bool send_body = true;
};

// Decides the answer to a complete request head (as delimited by scan_request_head).
RequestOutcome interpret_request_head(std::string_view head, std::chrono::milliseconds max_delay);

// The 400 answer to bytes that scan_request_head() found to be HeadState::not_a_request.
RequestOutcome refuse_not_a_request(std::string_view received);

// Names a request for the log line of its error answer, from the bytes received so far:
// "GET /favicon.ico" when its request line is complete and well-formed (a long target is
// cut short), otherwise what came instead: "a malformed request line", "an unfinished
// request line", "bytes that are not HTTP".
std::string describe_request(std::string_view received);

// A decoded message as the request log shows it: control characters (a newline, a NUL,
// ...) percent-encoded again, so that every request stays exactly one line of the log.
std::string printable(std::string_view message);

}  // namespace delayserver
