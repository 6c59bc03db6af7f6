// delayserver/response.hpp: writing the delay server's HTTP/1.1 answers, as pure functions.
//
// What it shows: a complete HTTP/1.1 response is a few lines of text. Every answer of the
// delay server, success or error, has the same shape (the header names in lower case and
// in this order, as the book's Rust server sends them, so the outputs compare):
//   HTTP/1.1 200 OK\r\n
//   content-length: 11\r\n
//   connection: close\r\n
//   content-type: text/plain; charset=utf-8\r\n
//   date: Thu, 26 Nov 2026 03:40:00 GMT\r\n
//   \r\n
//   hello world
// A 405 answer adds `allow: GET, HEAD` after the date, as RFC 9110 section 15.5.6 requires.
// The answer to HEAD is the same without the body.
//
// Usage: #include "response.hpp"; link response.cpp. Portable C++20, no operating system calls.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace delayserver {

// The reason phrase of each status code the server sends ("OK", "Not Found", ...).
std::string_view reason_phrase(int status_code);

// The Date header's format, "IMF-fixdate" (RFC 9110 section 5.6.7), always in GMT:
// "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point when);

// The whole response: status line, headers, empty line, body. The server closes the
// connection after every answer, and says so (connection: close). With `send_body` false
// (the answer to a HEAD request) the body is left out but content-length still gives its
// size, as RFC 9110 section 8.6 allows.
std::string build_response(int status_code, std::string_view body, std::string_view http_date,
                           bool send_body = true);

}  // namespace delayserver
