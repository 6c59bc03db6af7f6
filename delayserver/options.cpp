// delayserver/options.cpp: the delay server's command line (see options.hpp).
//
// What it holds: the help text (README.md shows it, and a test keeps the two equal), and
// the checks of each option's value. Every option may be written `--name VALUE` or
// `--name=VALUE`.
//
// Usage: compiled into the delay server. Portable C++20.
#include "options.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <system_error>

namespace delayserver {
namespace {

// Options may not ask for more than a day: longer waits are certainly typos.
constexpr std::uint64_t largest_milliseconds_option = 24ULL * 60 * 60 * 1000;

constexpr const char* usage_text =
    "Usage: delayserver [--host HOST] [--port PORT] [--max-delay-ms N] [--idle-timeout-ms N]\n"
    "                   [--fault MODE] [--help]\n";

constexpr const char* help_text =
    "\n"
    "GET /{delay_ms}/{message} is answered after delay_ms milliseconds with the\n"
    "percent-decoded message as a text/plain body, then the connection is closed.\n"
    "HEAD /{delay_ms}/{message} gets the same answer after the same delay, without the\n"
    "body (its content-length still says how long the body would be).\n"
    "  curl http://127.0.0.1:8080/2000/hello%20world   prints \"hello world\" after 2 s\n"
    "  curl -I http://127.0.0.1:8080/2000/hi           prints the headers after 2 s\n"
    "\n"
    "Options (also written --name=value):\n"
    "  --host HOST          address or name to listen on (default 127.0.0.1; 0.0.0.0 or ::\n"
    "                       for every interface)\n"
    "  --port PORT          port to listen on (default 8080; 0 lets the OS pick a free one)\n"
    "  --max-delay-ms N     largest delay accepted, in milliseconds (default 60000)\n"
    "  --idle-timeout-ms N  time a client has to send its whole request head, in ms\n"
    "                       (default 10000); then a silent client is closed and a\n"
    "                       half-sent request gets 408\n"
    "  --fault MODE         misbehave on purpose, to test clients: each valid request is\n"
    "                       read, logged and delayed as usual, then instead of its answer\n"
    "                         reset     the connection is reset (RST, no answer)\n"
    "                         stall     nothing is sent; the connection stays open until\n"
    "                                   the client leaves or the server stops\n"
    "                         garbage   \"this is not HTTP\\r\\n\" is sent, then it closes\n"
    "                         truncate  the head (its content-length says the whole body)\n"
    "                                   and the first half of the body, then it closes\n"
    "                         close     the server closes without sending a byte\n"
    "                       Error answers (400, 404, ...) are sent as usual.\n"
    "  -h, --help           print this text and exit\n"
    "\n"
    "Standard output: once bound, one line \"listening on HOST:PORT\" (the real port when\n"
    "PORT is 0); then one line per valid request as it arrives: \"#1 - 2000ms: hello world\".\n"
    "Standard error: one line per error answer, naming the request: \"delayserver:\n"
    "answered 404 Not Found to GET /favicon.ico: ...\".\n"
    "\n"
    "Error answers, each with a one-sentence text body, then the connection is closed:\n"
    "  400  a first byte that cannot start a request line (such as 0x16, which starts\n"
    "       a TLS handshake: https:// instead of http://), answered at once;\n"
    "       malformed request line or header, not HTTP/1.x, no Host header in HTTP/1.1,\n"
    "       a delay that is not a whole number, negative or above --max-delay-ms,\n"
    "       bad percent-encoding, a message that is not UTF-8\n"
    "  404  any path other than /{delay_ms}/{message}\n"
    "  405  any method other than GET and HEAD (with \"allow: GET, HEAD\")\n"
    "  408  the request head did not arrive within --idle-timeout-ms\n"
    "  431  the request head is larger than 8 KiB\n"
    "One request per connection: a second request sent on the same connection is never\n"
    "answered (every answer says \"connection: close\"). A client that disconnects during\n"
    "its delay is forgotten: its timer is cancelled.\n"
    "\n"
    "Exit status: 0 after SIGINT or SIGTERM, 1 when the address cannot be bound,\n"
    "2 for a bad option.\n";

// One line saying what was wrong, then the usage, on standard error; exit 2.
[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "delayserver: %s\n%s(delayserver --help explains every option)\n",
                 message.c_str(), usage_text);
    std::exit(2);
}

// A whole decimal number from `smallest` to `largest`, or exit 2 saying what is wrong.
std::uint64_t parse_number_option(std::string_view option, std::string_view text,
                                  std::uint64_t smallest, std::uint64_t largest) {
    std::uint64_t value = 0;
    const std::from_chars_result result =
        std::from_chars(text.data(), text.data() + text.size(), value);
    const bool is_whole_number =
        !text.empty() && result.ec == std::errc() && result.ptr == text.data() + text.size();
    if (!is_whole_number || value < smallest || value > largest) {
        usage_error(std::string(option) + " needs a whole number from " + std::to_string(smallest) +
                    " to " + std::to_string(largest) + ", not '" + std::string(text) + "'");
    }
    return value;
}

}  // namespace

Settings parse_settings(int argc, char** argv) {
    Settings settings;
    for (int index = 1; index < argc; ++index) {
        std::string_view option = argv[index];
        // Both `--port 0` and `--port=0` are accepted.
        std::string_view value;
        bool has_inline_value = false;
        if (const std::size_t equals = option.find('=');
            option.starts_with("--") && equals != std::string_view::npos) {
            value = option.substr(equals + 1);
            option = option.substr(0, equals);
            has_inline_value = true;
        }
        if ((option == "--help" || option == "-h") && !has_inline_value) {
            std::printf(
                "delayserver: a slow HTTP/1.1 server for the book's event-queue "
                "examples.\n\n%s%s",
                usage_text, help_text);
            std::exit(0);
        }
        const bool takes_value = option == "--host" || option == "--port" ||
                                 option == "--max-delay-ms" || option == "--idle-timeout-ms" ||
                                 option == "--fault";
        if (!option.starts_with('-')) {
            usage_error("unexpected argument '" + std::string(option) +
                        "': every setting is an option");
        }
        if (!takes_value) {
            usage_error("unknown option '" + std::string(argv[index]) + "'");
        }
        if (!has_inline_value) {
            if (index + 1 >= argc) {
                usage_error(std::string(option) + " needs a value");
            }
            value = argv[++index];
        }
        if (option == "--host") {
            if (value.empty()) {
                usage_error("--host needs an address, such as 127.0.0.1");
            }
            settings.host = value;
        } else if (option == "--port") {
            settings.port =
                static_cast<std::uint16_t>(parse_number_option(option, value, 0, 65535));
        } else if (option == "--max-delay-ms") {
            settings.max_delay = std::chrono::milliseconds(
                parse_number_option(option, value, 0, largest_milliseconds_option));
        } else if (option == "--idle-timeout-ms") {
            settings.idle_timeout = std::chrono::milliseconds(
                parse_number_option(option, value, 1, largest_milliseconds_option));
        } else {
            const std::optional<Fault> fault = fault_named(value);
            if (!fault) {
                usage_error("--fault needs one of " + std::string(fault_names) + "; not '" +
                            std::string(value) + "'");
            }
            settings.fault = *fault;
        }
    }
    return settings;
}

}  // namespace delayserver
