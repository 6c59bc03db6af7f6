// delayserver/request.hpp: the one request the delay server understands, and its answers.
//
// What it shows: how little of HTTP/1.1 a server needs to answer the book's examples. It
// takes exactly one shape of request head: `GET /{delay_ms}/{message} HTTP/1.1` (or HEAD,
// or HTTP/1.0), header lines `Name: value` of which only Host counts (HTTP/1.1 requires
// it), and an empty line; everything else is refused with a 4xx status and a sentence
// saying why. Pure functions, no sockets: main.cpp calls them, fuzz/request-fuzzer.cpp
// feeds them any bytes at all. Usage: #include "request.hpp" (header only), C++20.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace delayserver {

// A request head still without its empty line after this many bytes gets 431, which is
// what common servers allow by default.
inline constexpr std::size_t max_head_bytes = 8 * 1024;

// What the server makes of the bytes a connection has sent so far.
struct Request {
    int status = 0;  // 0: the head is not complete yet; 200: answer after `delay`; else refuse
    std::chrono::milliseconds delay{0};
    std::string body;       // 200: the decoded message; otherwise why the request is refused
    bool send_body = true;  // false for HEAD: GET's answer, content-length too, but no body
    std::string name;       // the request in the error log: "GET /favicon.ico"
};

// The request line `GET /2000/hello HTTP/1.1`, in its three parts.
struct RequestLine {
    std::string_view method, target, version;
};

// Two single spaces; a method of capital letters; a target of visible ASCII (a client
// percent-encodes every other byte). Anything else is no request line of ours.
inline std::optional<RequestLine> parse_request_line(std::string_view line) {
    const std::size_t first_space = line.find(' ');
    const std::size_t second_space = line.find(' ', first_space + 1);
    if (first_space == 0 || second_space == std::string_view::npos ||
        line.find(' ', second_space + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    const RequestLine parts{line.substr(0, first_space),
                            line.substr(first_space + 1, second_space - first_space - 1),
                            line.substr(second_space + 1)};
    const bool target_is_visible_ascii =
        std::ranges::none_of(parts.target, [](char c) { return c <= ' ' || c >= 0x7f; });
    if (parts.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos ||
        !target_is_visible_ascii) {
        return std::nullopt;
    }
    return parts.target.empty() ? std::nullopt : std::optional(parts);
}

// Removes the first line from `rest` and returns it without its CRLF.
inline std::string_view take_line(std::string_view& rest) {
    const std::size_t line_end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, line_end);
    rest.remove_prefix(line_end == std::string_view::npos ? rest.size() : line_end + 2);
    return line;
}

// A request starts with a method, a word. Bytes that start with anything but a letter are not
// HTTP at all, and are refused at once, without waiting for more: a TLS ClientHello, what
// `curl https://` sends to this plain-HTTP server, starts with 0x16 (RFC 8446 section 5.1).
inline bool is_not_http(std::string_view received) {
    const char first = static_cast<char>(received.empty() ? 'A' : received[0] | 0x20);
    return first < 'a' || first > 'z';  // | 0x20: lower case, for ASCII letters
}

// Names a request for the log line of its error answer, from the bytes received so far.
inline std::string describe_request(std::string_view received) {
    if (is_not_http(received)) {
        return "bytes that are not HTTP";
    }
    if (received.find("\r\n") == std::string_view::npos) {
        return "an unfinished request line";
    }
    const std::optional<RequestLine> line = parse_request_line(take_line(received));
    if (!line) {
        return "a malformed request line";
    }
    return std::string(line->method) + " " + std::string(line->target.substr(0, 200)) +
           (line->target.size() > 200 ? "..." : "");
}

// Reads the bytes a connection has sent so far: `status` 0 asks for more.
inline Request read_request(std::string_view received, std::chrono::milliseconds max_delay) {
    Request request;
    request.name = describe_request(received);
    const auto refuse = [&request](int status, std::string why) {
        request.status = status;
        request.body = std::move(why);
        return request;
    };
    if (is_not_http(received)) {
        return refuse(400, received[0] == 0x16 ? "This server speaks http://, not https:// (0x16 "
                                                 "starts a TLS handshake).\n"
                                               : "Not HTTP: a request starts with a method.\n");
    }

    // The head ends with an empty line. (Lines end in CRLF: a bare LF, which RFC 9112 lets
    // a server accept, is not taken, as no client of this server sends one.)
    const std::size_t head_end = received.find("\r\n\r\n");
    if ((head_end == std::string_view::npos ? received.size() : head_end + 4) > max_head_bytes) {
        return refuse(431, "The request head is larger than 8 KiB.\n");
    }
    if (head_end == std::string_view::npos) {
        return request;  // status 0: read more
    }
    std::string_view rest = received.substr(0, head_end + 2);  // the lines, each with its CRLF

    // 1. The request line, and its version.
    const std::optional<RequestLine> line = parse_request_line(take_line(rest));
    if (!line) {
        return refuse(400,
                      "Malformed request line: expected 'GET /{delay_ms}/{message} HTTP/1.1'.\n");
    }
    request.send_body = line->method != "HEAD";
    if (line->version != "HTTP/1.1" && line->version != "HTTP/1.0") {
        return refuse(400, "This server speaks HTTP/1.0 and HTTP/1.1 only.\n");
    }

    // 2. The header lines: `Name: value`. Only Host matters, which RFC 9112 section 3.2
    // requires in every HTTP/1.1 request.
    bool has_host = false;
    for (std::string_view header = take_line(rest); !header.empty(); header = take_line(rest)) {
        const std::string_view name = header.substr(0, header.find(':'));
        if (name.empty() || name.size() == header.size() ||
            name.find_first_of(" \t") != std::string_view::npos) {
            return refuse(400, "Malformed header line: expected 'Name: value'.\n");
        }
        std::string lower_case_name(name);  // header names ignore case
        for (char& c : lower_case_name) {
            c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
        has_host = has_host || lower_case_name == "host";
    }
    if (!has_host && line->version == "HTTP/1.1") {
        return refuse(400, "An HTTP/1.1 request must have a Host header.\n");
    }

    // 3. The method: GET, or HEAD, which is GET without the body (RFC 9110 section 9.3.2).
    if (line->method != "GET" && line->method != "HEAD") {
        return refuse(405, "Method '" + std::string(line->method) +
                               "' is not allowed: this server answers GET and HEAD only.\n");
    }

    // 4. The path: /{delay_ms}/{message}, two segments, neither empty.
    const std::string_view target = line->target;
    const std::size_t second_slash = target.find('/', 1);
    if (!target.starts_with('/') || second_slash == std::string_view::npos || second_slash == 1 ||
        second_slash + 1 == target.size() ||
        target.find('/', second_slash + 1) != std::string_view::npos) {
        return refuse(
            404, "Nothing here: ask for /{delay_ms}/{message}, for example /2000/hello%20world.\n");
    }

    // 5. The delay: decimal digits only (nine at most: no overflow), up to --max-delay-ms.
    const std::string_view delay_text = target.substr(1, second_slash - 1);
    const bool is_number = delay_text.size() <= 9 &&
                           delay_text.find_first_not_of("0123456789") == std::string_view::npos;
    const long long delay_ms = is_number ? std::stoll(std::string(delay_text)) : -1;
    if (delay_ms < 0 || delay_ms > max_delay.count()) {
        return refuse(400, "The delay '" + std::string(delay_text) +
                               "' is not a whole number of milliseconds from 0 to " +
                               std::to_string(max_delay.count()) + ".\n");
    }

    // 6. The message: "hello%20world" -> "hello world" (a '+' stays a '+': in a path it is
    // not a space).
    request.body.clear();
    for (std::size_t index = second_slash + 1; index < target.size(); ++index) {
        const std::string_view hex = target.substr(index + 1, 2);
        unsigned char byte = static_cast<unsigned char>(target[index]);
        if (target[index] == '%' &&
            (hex.size() != 2 ||
             std::from_chars(hex.data(), hex.data() + 2, byte, 16).ptr != hex.data() + 2)) {
            return refuse(400, "The message has a '%' not followed by two hexadecimal digits.\n");
        }
        index += target[index] == '%' ? 2 : 0;
        request.body += static_cast<char>(byte);
    }
    request.status = 200;
    request.delay = std::chrono::milliseconds(delay_ms);
    return request;
}

inline const char* reason_phrase(int status) {
    return status == 200   ? "OK"
           : status == 400 ? "Bad Request"
           : status == 404 ? "Not Found"
           : status == 405 ? "Method Not Allowed"
           : status == 408 ? "Request Timeout"
                           : "Request Header Fields Too Large";  // 431
}

// An answer: the status line and, in this order and in lower case as the book's Rust
// server sends them (so the examples' outputs compare), the four headers every answer has,
// `allow` for a 405, the empty line, then the body (unless it is the answer to HEAD).
inline std::string build_response(int status, std::string_view body, bool send_body,
                                  std::chrono::system_clock::time_point now) {
    // The date as RFC 9110's IMF-fixdate, "Thu, 26 Nov 2026 03:40:00 GMT". strftime's
    // day and month names are English in the "C" locale, which a program has until it calls
    // setlocale (this one never does); gmtime's static result is fine on one thread.
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    char http_date[32];
    std::strftime(http_date, sizeof http_date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&seconds));

    return "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n" +
           "content-length: " + std::to_string(body.size()) + "\r\n" + "connection: close\r\n" +
           "content-type: text/plain; charset=utf-8\r\n" + "date: " + http_date + "\r\n" +
           (status == 405 ? "allow: GET, HEAD\r\n" : "") +  // a 405 must name the methods
           "\r\n" + (send_body ? std::string(body) : "");
}

// A message as the request log shows it: control characters (a newline, a NUL) are
// percent-encoded again, so that one request is always one line of the log.
inline std::string printable(std::string_view message) {
    std::string shown;
    for (const char c : message) {
        char escape[4];
        std::snprintf(escape, sizeof escape, "%%%02X", static_cast<unsigned char>(c));
        shown += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? escape : std::string(1, c);
    }
    return shown;
}

}  // namespace delayserver
