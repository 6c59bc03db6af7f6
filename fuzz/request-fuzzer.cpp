// fuzz/request-fuzzer.cpp: libFuzzer harness for the delay server's request parsing.
//
// What it shows: the functions that read untrusted bytes from the network
// (delayserver/request.hpp: read_request, which reads a request head, its delay and its
// percent-encoded message, and names it for the log) fed with millions of generated inputs.
// libFuzzer mutates inputs towards new code paths; AddressSanitizer and UndefinedBehaviorSanitizer
// turn any memory error or undefined behaviour into a crash, and the checks below turn any broken
// promise of the parser into one too.
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

// What the log prints about a request stays on one line: no control character in it (a
// message may hold any other byte; a request's name is visible ASCII only).
bool is_one_line(std::string_view text, bool ascii_only) {
    return std::all_of(text.begin(), text.end(), [ascii_only](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte >= 0x20 && byte != 0x7f && (!ascii_only || byte < 0x80);
    });
}

void check_request(std::string_view received) {
    const Request request = read_request(received, max_delay);
    const int status = request.status;
    check(status == 0 || status == 200 || status == 400 || status == 404 || status == 405 ||
              status == 431,
          "the answer is 200, 400, 404, 405 or 431, or the head is not complete yet");
    check(is_one_line(request.name, true), "the log names a request in one printable line");
    if (is_not_http(received)) {
        check(status == 400 &&
                  read_request(std::string(received) + "\r\n\r\n", max_delay).status == 400,
              "bytes that cannot start a request get 400 at once, whatever follows");
    }
    if (status == 0) {
        check(received.size() <= max_head_bytes &&
                  received.find("\r\n\r\n") == std::string_view::npos,
              "only a head without its end and within the limit asks for more");
        return;
    }
    if (status == 200) {
        check(received.starts_with("GET /") || received.starts_with("HEAD /"),
              "only GET and HEAD are answered with 200");
        check(request.delay >= std::chrono::milliseconds{0} && request.delay <= max_delay,
              "a delay is between 0 and the maximum");
        check(is_one_line(printable(request.body), false), "a message is one line of the log");
    } else {
        check(!request.body.empty() && request.body.ends_with('\n'), "an error answer says why");
    }
    // HEAD is GET without the body: the same status, delay and body (so content-length),
    // once its head is complete (not 431) and its request line well-formed.
    std::string_view rest = received;
    const std::optional<RequestLine> line = parse_request_line(take_line(rest));
    if (line && line->method == "HEAD" && status != 431) {
        const Request as_get = read_request("GET " + std::string(received.substr(5)), max_delay);
        check(!request.send_body && as_get.send_body, "the answer to HEAD has no body, GET's has");
        check(
            as_get.status == status && as_get.delay == request.delay && as_get.body == request.body,
            "HEAD gets GET's answer");
    }
    const std::string response =
        build_response(status, request.body, request.send_body, std::chrono::system_clock::now());
    check(response.starts_with("HTTP/1.1 " + std::to_string(status) + " "),
          "the response starts with its status line");
    check(response.find("\r\ncontent-length: " + std::to_string(request.body.size()) + "\r\n") !=
              std::string::npos,
          "content-length is the body's size");
    check(response.ends_with("\r\n\r\n" + (request.send_body ? request.body : "")),
          "the body follows the head, unless the request is HEAD");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_request(input);
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
