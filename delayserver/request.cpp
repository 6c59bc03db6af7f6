// delayserver/request.cpp: reading one HTTP/1.1 request head, as pure functions.
//
// What it shows: how little of HTTP/1.1 a server must understand to answer one GET
// correctly, and where RFC 9112 (HTTP/1.1 messages) and RFC 9110 (HTTP semantics) say
// what to do with input that is not quite right. See request.hpp for the functions.
//
// Usage: compiled into the delay server and into its libFuzzer harness
// (fuzz/request-fuzzer.cpp). Portable C++20: no operating system calls, no allocation
// beyond std::string.
#include "request.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

namespace delayserver {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_hex_digit(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return c - 'A' + 10;
}

// A "tchar" of RFC 9110 section 5.6.2: the characters allowed in a method and in a
// header field name.
bool is_token_character(char c) {
    const bool is_letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return is_letter || is_digit(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_token_character);
}

// Visible ASCII, no space: what a request target may contain (RFC 3986 characters; any
// other byte must be percent-encoded by the client).
bool is_visible_ascii(char c) {
    return c > ' ' && c < 0x7f;
}

// ASCII-only case folding: header names and URI schemes are case-insensitive, and
// std::tolower would depend on the C locale.
char to_lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower_case_word) {
    return text.size() == lower_case_word.size() &&
           std::equal(text.begin(), text.end(), lower_case_word.begin(),
                      [](char a, char b) { return to_lower_ascii(a) == b; });
}

bool starts_with_ignoring_case(std::string_view text, std::string_view lower_case_prefix) {
    return text.size() >= lower_case_prefix.size() &&
           equals_ignoring_case(text.substr(0, lower_case_prefix.size()), lower_case_prefix);
}

// RFC 9112 section 2.2: "a server that is expecting to receive and parse a request-line
// SHOULD ignore at least one empty line (CRLF) received prior to the request-line".
std::size_t skip_leading_empty_lines(std::string_view text) {
    std::size_t position = 0;
    while (true) {
        if (text.substr(position).starts_with("\r\n")) {
            position += 2;
        } else if (text.substr(position).starts_with("\n")) {
            position += 1;
        } else {
            return position;
        }
    }
}

// Removes the first line from `rest` and returns it without its CRLF or LF.
std::string_view take_line(std::string_view& rest) {
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (line.ends_with('\r')) {
        line.remove_suffix(1);
    }
    return line;
}

RequestOutcome refuse(int status_code, std::string body) {
    return RequestOutcome{status_code, std::chrono::milliseconds{0}, std::move(body), true};
}

RequestOutcome bad_request(std::string body) {
    return refuse(400, std::move(body));
}

// Checks the header lines that follow the request line, up to the empty line.
std::optional<RequestOutcome> check_header_lines(std::string_view rest) {
    while (!rest.empty()) {
        const std::string_view line = take_line(rest);
        if (line.empty()) {
            break;  // the empty line that ends the head
        }
        // A line starting with white space continues the previous one ("obsolete line
        // folding"); RFC 9112 section 5.2 lets a server reject it with 400.
        if (line.front() == ' ' || line.front() == '\t') {
            return bad_request("A header line starts with white space (obsolete line folding).\n");
        }
        const std::size_t colon = line.find(':');
        // RFC 9112 section 5.1: no white space is allowed between the name and the colon.
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
            return bad_request("Malformed header line: expected 'Name: value'.\n");
        }
        // RFC 9110 section 5.5: control characters (a NUL, a bare CR) make a field value
        // invalid. A horizontal tab is allowed.
        const std::string_view value = line.substr(colon + 1);
        const bool has_control_character = std::any_of(value.begin(), value.end(), [](char c) {
            const auto byte = static_cast<unsigned char>(c);
            return (byte < ' ' && byte != '\t') || byte == 0x7f;
        });
        if (has_control_character) {
            return bad_request("A header value contains a control character.\n");
        }
    }
    return std::nullopt;
}

// Counts the Host header lines (header names are case-insensitive). Call it on lines that
// passed check_header_lines().
int count_host_fields(std::string_view rest) {
    int host_fields = 0;
    for (std::string_view line = take_line(rest); !line.empty(); line = take_line(rest)) {
        if (equals_ignoring_case(line.substr(0, line.find(':')), "host")) {
            ++host_fields;
        }
    }
    return host_fields;
}

// Turns an absolute-form target (`http://localhost:8080/2000/hi`, which RFC 9112 section
// 3.2.2 says a server MUST accept) into the path part; leaves `/2000/hi` as it is.
std::string_view path_of_target(std::string_view target) {
    for (const std::string_view scheme :
         {std::string_view("http://"), std::string_view("https://")}) {
        if (starts_with_ignoring_case(target, scheme)) {
            const std::string_view after_scheme = target.substr(scheme.size());
            const std::size_t path_start = after_scheme.find_first_of("/?");
            if (path_start == std::string_view::npos || after_scheme[path_start] == '?') {
                return "/";  // "http://host" and "http://host?x" both mean the path "/"
            }
            return after_scheme.substr(path_start);
        }
    }
    return target;
}

// The first byte of the request line (after any empty lines) cannot start a method, so
// no empty line needs to be waited for: the answer is 400 whatever follows. A lone CR at
// the end may still become an empty line (CRLF), so it is not judged yet.
bool cannot_start_request_line(std::string_view received, std::size_t request_line_start) {
    if (request_line_start >= received.size()) {
        return false;  // nothing but empty lines so far
    }
    const char first = received[request_line_start];
    if (first == '\r' && request_line_start + 1 == received.size()) {
        return false;
    }
    return !is_token_character(first);
}

// Where a request target is longer than this, the log shows only its start.
constexpr std::size_t max_logged_target_characters = 200;

}  // namespace

HeadScan scan_request_head(std::string_view received) {
    const std::size_t request_line_start = skip_leading_empty_lines(received);
    if (cannot_start_request_line(received, request_line_start)) {
        return HeadScan{HeadState::not_a_request, 0};
    }
    // The head ends with an empty line: a line ending (LF) followed directly by another
    // one (CRLF or LF).
    std::size_t newline = received.find('\n', request_line_start);
    while (newline != std::string_view::npos) {
        std::size_t next = newline + 1;
        if (next < received.size() && received[next] == '\r') {
            ++next;
        }
        if (next < received.size() && received[next] == '\n') {
            const std::size_t length = next + 1;
            if (length > max_request_head_bytes) {
                return HeadScan{HeadState::too_large, 0};
            }
            return HeadScan{HeadState::complete, length};
        }
        newline = received.find('\n', newline + 1);
    }
    if (received.size() > max_request_head_bytes) {
        return HeadScan{HeadState::too_large, 0};
    }
    return HeadScan{HeadState::incomplete, 0};
}

std::optional<RequestLine> parse_request_line(std::string_view line) {
    // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3),
    // with exactly one space between the parts.
    const std::size_t first_space = line.find(' ');
    if (first_space == std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos) {
        return std::nullopt;
    }
    const RequestLine parts{line.substr(0, first_space),
                            line.substr(first_space + 1, second_space - first_space - 1),
                            line.substr(second_space + 1)};
    if (!is_token(parts.method) || parts.target.empty() ||
        !std::all_of(parts.target.begin(), parts.target.end(), is_visible_ascii)) {
        return std::nullopt;
    }
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 section 2.3).
    const std::string_view version = parts.version;
    if (version.size() != 8 || !version.starts_with("HTTP/") || !is_digit(version[5]) ||
        version[6] != '.' || !is_digit(version[7])) {
        return std::nullopt;
    }
    return parts;
}

std::optional<std::string> percent_decode(std::string_view encoded) {
    std::string decoded;
    decoded.reserve(encoded.size());
    for (std::size_t index = 0; index < encoded.size(); ++index) {
        if (encoded[index] != '%') {
            decoded += encoded[index];
            continue;
        }
        if (index + 2 >= encoded.size()) {
            return std::nullopt;  // fewer than two characters follow the '%'
        }
        if (!is_hex_digit(encoded[index + 1]) || !is_hex_digit(encoded[index + 2])) {
            return std::nullopt;
        }
        decoded +=
            static_cast<char>(hex_value(encoded[index + 1]) * 16 + hex_value(encoded[index + 2]));
        index += 2;
    }
    return decoded;
}

bool is_valid_utf8(std::string_view text) {
    std::size_t index = 0;
    while (index < text.size()) {
        const auto lead = static_cast<unsigned char>(text[index]);
        if (lead < 0x80) {
            ++index;  // ASCII
            continue;
        }
        // The lead byte says how many continuation bytes follow, and which code points
        // that length may encode: a shorter form exists for anything below `smallest`
        // ("overlong" forms are invalid, RFC 3629 section 3).
        std::size_t continuation_bytes = 0;
        std::uint32_t code_point = 0;
        std::uint32_t smallest = 0;
        if ((lead & 0xE0) == 0xC0) {
            continuation_bytes = 1;
            code_point = lead & 0x1F;
            smallest = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            continuation_bytes = 2;
            code_point = lead & 0x0F;
            smallest = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            continuation_bytes = 3;
            code_point = lead & 0x07;
            smallest = 0x10000;
        } else {
            return false;  // a continuation byte without a lead byte, or 0xF8..0xFF
        }
        if (text.size() - index - 1 < continuation_bytes) {
            return false;  // cut short
        }
        for (std::size_t offset = 1; offset <= continuation_bytes; ++offset) {
            const auto continuation = static_cast<unsigned char>(text[index + offset]);
            if ((continuation & 0xC0) != 0x80) {
                return false;
            }
            code_point = (code_point << 6) | (continuation & 0x3F);
        }
        const bool is_surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
        if (code_point < smallest || code_point > 0x10FFFF || is_surrogate) {
            return false;
        }
        index += 1 + continuation_bytes;
    }
    return true;
}

ParsedDelay parse_delay(std::string_view text, std::chrono::milliseconds max_delay) {
    const bool is_negative = text.starts_with('-');
    const std::string_view digits = is_negative ? text.substr(1) : text;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
        return ParsedDelay{DelayProblem::not_a_number, {}};
    }
    if (is_negative) {
        return ParsedDelay{DelayProblem::negative, {}};
    }
    std::uint64_t milliseconds = 0;
    const std::from_chars_result result =
        std::from_chars(digits.data(), digits.data() + digits.size(), milliseconds);
    if (result.ec == std::errc::result_out_of_range) {
        return ParsedDelay{DelayProblem::too_many_digits, {}};
    }
    if (milliseconds > static_cast<std::uint64_t>(max_delay.count())) {
        return ParsedDelay{DelayProblem::above_maximum, {}};
    }
    return ParsedDelay{DelayProblem::none,
                       std::chrono::milliseconds{static_cast<std::int64_t>(milliseconds)}};
}

namespace {

// The answer to a request, body included: interpret_request_head() then leaves the body out
// for HEAD.
RequestOutcome answer_with_body(std::string_view head, std::chrono::milliseconds max_delay) {
    std::string_view rest = head.substr(skip_leading_empty_lines(head));

    // 1. The request line: its shape, then its version.
    const std::optional<RequestLine> request_line = parse_request_line(take_line(rest));
    if (!request_line) {
        return bad_request(
            "Malformed request line: expected 'GET /{delay_ms}/{message} HTTP/1.1', with single "
            "spaces and a target of visible ASCII characters (percent-encode the others).\n");
    }
    const char major_version = request_line->version[5];
    const char minor_version = request_line->version[7];
    if (major_version != '1') {
        return bad_request("This server speaks HTTP/1.0 and HTTP/1.1 only, not " +
                           std::string(request_line->version) + ".\n");
    }

    // 2. The header lines. Only Host matters: RFC 9112 section 3.2 says a server MUST
    // answer 400 to an HTTP/1.1 request without one, and to any request with two.
    if (std::optional<RequestOutcome> refusal = check_header_lines(rest)) {
        return std::move(*refusal);
    }
    const int host_fields = count_host_fields(rest);
    if (host_fields > 1 || (host_fields == 0 && minor_version >= '1')) {
        return bad_request(
            "An HTTP/1.1 request must have exactly one Host header (RFC 9112 section 3.2).\n");
    }

    // 3. The method: GET, or HEAD, which is GET without the body (RFC 9110 section 9.3.2;
    // section 9.1: a general-purpose server supports both). Method names are case-sensitive.
    // 405 must say which methods are allowed (the server adds allow: GET, HEAD).
    if (request_line->method != "GET" && request_line->method != "HEAD") {
        return refuse(405, "Method '" + std::string(request_line->method) +
                               "' is not allowed: this server answers GET and HEAD only.\n");
    }

    // 4. The path: /{delay_ms}/{message}, two non-empty segments. A query is ignored.
    std::string_view path = path_of_target(request_line->target);
    if (!path.starts_with('/')) {
        return bad_request("The request target must be a path, such as /2000/hello.\n");
    }
    path = path.substr(0, path.find('?'));
    const std::size_t second_slash = path.find('/', 1);
    const std::string_view delay_text = path.substr(1, second_slash - 1);
    const std::string_view encoded_message =
        second_slash == std::string_view::npos ? std::string_view() : path.substr(second_slash + 1);
    if (delay_text.empty() || encoded_message.empty() ||
        encoded_message.find('/') != std::string_view::npos) {
        return refuse(404,
                      "Nothing here: ask for /{delay_ms}/{message}, for example "
                      "/2000/hello%20world.\n");
    }

    // 5. The delay.
    const ParsedDelay parsed = parse_delay(delay_text, max_delay);
    const std::string quoted_delay = "'" + std::string(delay_text) + "'";
    switch (parsed.problem) {
        case DelayProblem::none:
            break;
        case DelayProblem::not_a_number:
            return bad_request("The delay " + quoted_delay +
                               " is not a whole number of milliseconds.\n");
        case DelayProblem::negative:
            return bad_request("The delay " + quoted_delay + " is negative.\n");
        case DelayProblem::too_many_digits:
            return bad_request("The delay " + quoted_delay + " is too large a number.\n");
        case DelayProblem::above_maximum:
            return bad_request("The delay " + std::string(delay_text) +
                               " ms is above this server's maximum of " +
                               std::to_string(max_delay.count()) + " ms.\n");
    }

    // 6. The message.
    std::optional<std::string> message = percent_decode(encoded_message);
    if (!message) {
        return bad_request(
            "The message has a '%' that is not followed by two hexadecimal digits.\n");
    }
    if (!is_valid_utf8(*message)) {
        return bad_request("The decoded message is not valid UTF-8.\n");
    }
    return RequestOutcome{200, parsed.delay, std::move(*message), true};
}

}  // namespace

RequestOutcome interpret_request_head(std::string_view head, std::chrono::milliseconds max_delay) {
    RequestOutcome outcome = answer_with_body(head, max_delay);
    // The answer to HEAD is the answer GET would get, status, delay and content-length
    // included, without its body (RFC 9110 section 9.3.2): for an error answer too.
    std::string_view rest = head.substr(skip_leading_empty_lines(head));
    const std::optional<RequestLine> request_line = parse_request_line(take_line(rest));
    outcome.send_body = !(request_line && request_line->method == "HEAD");
    return outcome;
}

RequestOutcome refuse_not_a_request(std::string_view received) {
    const std::size_t request_line_start = skip_leading_empty_lines(received);
    const auto first = static_cast<unsigned char>(received.at(request_line_start));
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", first);
    // A TLS handshake record starts with content type 22 (RFC 8446 section 5.1): someone
    // asked for https:// of a plain HTTP server.
    const std::string hint = first == 0x16 ? " (0x16 starts a TLS handshake: this server "
                                             "speaks http://, not https://)"
                                           : "";
    return bad_request("The first byte, " + std::string(byte) +
                       ", cannot start an HTTP request line" + hint + ".\n");
}

std::string describe_request(std::string_view received) {
    std::string_view rest = received.substr(skip_leading_empty_lines(received));
    if (cannot_start_request_line(received, received.size() - rest.size())) {
        return "bytes that are not HTTP";
    }
    if (rest.find('\n') == std::string_view::npos) {
        return "an unfinished request line";
    }
    const std::optional<RequestLine> request_line = parse_request_line(take_line(rest));
    if (!request_line) {
        return "a malformed request line";
    }
    // Method and target hold visible ASCII only (parse_request_line checks): safe to log.
    std::string target(request_line->target.substr(0, max_logged_target_characters));
    if (request_line->target.size() > max_logged_target_characters) {
        target += "...";
    }
    return std::string(request_line->method) + " " + target;
}

std::string printable(std::string_view message) {
    std::string shown;
    for (const char c : message) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            char escape[4];
            std::snprintf(escape, sizeof escape, "%%%02X", byte);
            shown += escape;
        } else {
            shown += c;
        }
    }
    return shown;
}

}  // namespace delayserver
