// fuzz/request-fuzzer.cpp: libFuzzer harness for the delay server's request parsing.
//
// What it shows: the functions that read untrusted bytes from the network
// (delayserver/request.hpp: the head scanner, the request line, percent-decoding, the
// delay number, the names the log gives requests) fed with millions of generated inputs. libFuzzer
// mutates inputs towards new code paths; AddressSanitizer and UndefinedBehaviorSanitizer turn any
// memory error or undefined behaviour into a crash, and the checks below turn any broken promise of
// the parser into one too.
//
// Usage: built by the fuzz preset (clang only):
//   cmake --workflow --preset fuzz              build, then fuzz for 60 s (the CTest test)
//   build/fuzz/fuzz/request-fuzzer CORPUS_DIR fuzz/corpus -max_total_time=600
// A crash leaves its input in build/fuzz/fuzz/crash-*; copy it into fuzz/regressions/ and
// the fuzz-regressions test replays it on every run from then on.
//
// The command line is libFuzzer's: flags take one dash (-help=1 lists them), and any other
// argument is a corpus folder, or an input to replay. libFuzzer ignores arguments that start
// with "--" and only warns about flags it does not know, then fuzzes until stopped; so
// LLVMFuzzerInitialize, at the end, answers --help and -h, and refuses any "--" option, as
// every program here does.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "request.hpp"
#include "response.hpp"

namespace {

using namespace delayserver;
constexpr std::chrono::milliseconds max_delay{60000};

// A broken promise of the parser is a bug like any crash: report it and abort, so
// libFuzzer saves the input.
void check(bool condition, const char* promise) {
    if (!condition) {
        std::fprintf(stderr, "request-fuzzer: broken promise: %s\n", promise);
        std::abort();
    }
}

// Where the request line starts: after the empty lines that request.cpp skips (CRLF or LF).
std::string_view::size_type request_line_start(std::string_view head) {
    std::string_view::size_type position = 0;
    while (true) {
        if (head.substr(position).starts_with("\r\n")) {
            position += 2;
        } else if (head.substr(position).starts_with("\n")) {
            position += 1;
        } else {
            return position;
        }
    }
}

// HEAD is GET without the body: a head whose request line is well-formed with the method
// HEAD gets the answer the same head with GET would get (status, delay, body and so
// content-length), and no body is sent.
void check_head_method(std::string_view head, const RequestOutcome& outcome) {
    const auto start = request_line_start(head);
    std::string_view line = head.substr(start, head.find('\n', start) - start);
    if (line.ends_with('\r')) {
        line.remove_suffix(1);
    }
    const std::optional<RequestLine> request_line = parse_request_line(line);
    const bool is_head = request_line && request_line->method == "HEAD";
    const bool is_get = request_line && request_line->method == "GET";
    check(outcome.status_code != 405 || (!is_head && !is_get), "GET and HEAD never get 405");
    if (!is_head) {
        if (is_get) {
            check(outcome.send_body, "the answer to GET has its body");
        }
        return;
    }
    check(!outcome.send_body, "the answer to HEAD has no body");
    const std::string as_get =
        std::string(head.substr(0, start)) + "GET" + std::string(head.substr(start + 4));
    const RequestOutcome get_outcome = interpret_request_head(as_get, max_delay);
    check(get_outcome.status_code == outcome.status_code && get_outcome.delay == outcome.delay &&
              get_outcome.body == outcome.body,
          "HEAD gets GET's answer: the same status, delay and content-length");
}

// What the log prints about a request stays on one line of printable ASCII.
bool is_one_printable_line(std::string_view text) {
    return text.find_first_of("\r\n") == std::string_view::npos &&
           std::all_of(text.begin(), text.end(), [](char c) {
               const auto byte = static_cast<unsigned char>(c);
               return byte >= 0x20 && byte != 0x7f;
           });
}

// Bytes refused at their first byte: the 400 says which byte, and a complete head made of
// the same bytes would have been refused with 400 as well (so nothing is refused early
// that a complete head would have had answered otherwise).
void check_not_a_request(std::string_view received) {
    const RequestOutcome refusal = refuse_not_a_request(received);
    check(refusal.status_code == 400 && refusal.body.starts_with("The first byte, 0x"),
          "bytes that are not a request get a 400 naming their first byte");
    check(describe_request(received) == "bytes that are not HTTP",
          "the log calls them bytes that are not HTTP");
    const std::string completed = std::string(received) + "\r\n\r\n";
    check(scan_request_head(completed).state == HeadState::not_a_request,
          "more bytes do not turn them into a request");
    check(interpret_request_head(completed, max_delay).status_code == 400,
          "a complete head of the same bytes is refused with 400 too");
}

void check_head(std::string_view received) {
    const HeadScan scan = scan_request_head(received);
    check(is_one_printable_line(describe_request(received)),
          "the log names a request in one line of printable ASCII");
    switch (scan.state) {
        case HeadState::incomplete:
            check(received.size() <= max_request_head_bytes + 4,
                  "an incomplete head is never longer than the limit (and its line end)");
            return;
        case HeadState::too_large:
            check(received.size() > max_request_head_bytes, "too_large only past the limit");
            return;
        case HeadState::not_a_request:
            check_not_a_request(received);
            return;
        case HeadState::complete:
            break;
    }
    check(scan.length > 0 && scan.length <= received.size(), "a head lies within the bytes");
    check(received.substr(0, scan.length).ends_with("\n"), "a head ends with a line end");

    const RequestOutcome outcome =
        interpret_request_head(received.substr(0, scan.length), max_delay);
    const int status = outcome.status_code;
    check(status == 200 || status == 400 || status == 404 || status == 405,
          "the answer is 200, 400, 404 or 405");
    check(!reason_phrase(status).empty(), "every status sent has a reason phrase");
    if (status == 200) {
        check(outcome.delay >= std::chrono::milliseconds{0} && outcome.delay <= max_delay,
              "a delay is between 0 and the maximum");
        check(is_valid_utf8(outcome.body), "a message answered as UTF-8 is UTF-8");
        check(printable(outcome.body).find_first_of("\r\n") == std::string::npos,
              "a message is one line of the request log");
    } else {
        check(!outcome.body.empty(), "an error answer says why");
    }
    const std::string response =
        build_response(status, outcome.body, "Thu, 26 Nov 2026 03:40:00 GMT", outcome.send_body);
    check(response.starts_with("HTTP/1.1 " + std::to_string(status) + " "),
          "the response starts with its status line");
    const std::string length_header =
        "\r\ncontent-length: " + std::to_string(outcome.body.size()) + "\r\n";
    check(response.find(length_header) != std::string::npos, "content-length is the body size");
    if (!outcome.send_body) {
        check(response.ends_with("\r\n\r\n") && response.find("\r\n\r\n") == response.size() - 4,
              "an answer without its body ends with the empty line after the headers");
    }
    check_head_method(received.substr(0, scan.length), outcome);
}

void check_pieces(std::string_view text) {
    if (const auto decoded = percent_decode(text)) {
        check(decoded->size() <= text.size(), "decoding never makes text longer");
    }
    const ParsedDelay delay = parse_delay(text, max_delay);
    if (delay.problem == DelayProblem::none) {
        check(delay.delay >= std::chrono::milliseconds{0} && delay.delay <= max_delay,
              "an accepted delay is between 0 and the maximum");
        check(!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos,
              "an accepted delay is decimal digits only");
    }
    if (const auto line = parse_request_line(text)) {
        check(line->method.size() + line->target.size() + line->version.size() + 2 == text.size(),
              "a request line is its three parts and two spaces");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_head(input);
    check_pieces(input);
    return 0;
}

namespace {

constexpr const char* usage_text =
    "Usage: request-fuzzer [LIBFUZZER_FLAG | CORPUS_DIR | INPUT]...\n"
    "Fuzzes the delay server's request parsing (libFuzzer, ASan, UBSan).\n"
    "  CORPUS_DIR   inputs to start from; the first one also gets what the fuzzer finds\n"
    "  INPUT        a file: replayed once, no fuzzing\n"
    "  -max_total_time=SECONDS, -runs=N, ...  libFuzzer's flags (one dash; -help=1 lists them)\n"
    "  -h, --help   print this text and exit\n";

}  // namespace

// Called by libFuzzer before it reads its flags.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    for (int index = 1; index < *argc; ++index) {
        const std::string_view argument = (*argv)[index];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        }
        if (argument.starts_with("--")) {
            std::fprintf(
                stderr, "request-fuzzer: unknown option '%s' (libFuzzer's flags take one dash)\n%s",
                (*argv)[index], usage_text);
            std::exit(2);
        }
    }
    return 0;
}
