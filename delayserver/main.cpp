// delayserver/main.cpp: the slow HTTP server the book's event-queue examples talk to.
//
// What it shows: one thread can keep ten thousand slow requests waiting at once, because
// a waiting request costs a socket and a timer, not a thread. The server runs one
// io_context (Asio's event loop, on top of epoll, kqueue or IOCP) on the main thread;
// every connection is a small object whose next step is always a callback: "bytes
// arrived", "the delay is over", "the answer is written".
//
// Usage:
//   delayserver [--host HOST] [--port PORT] [--max-delay-ms N] [--idle-timeout-ms N]
//               [--fault MODE]
//   curl http://127.0.0.1:8080/2000/hello%20world    # "hello world", after 2000 ms
// `delayserver --help` explains every option and every error answer.
//
// What to watch for in the output (standard output, each line flushed at once):
//   listening on 127.0.0.1:8080          once, when bound: tools/with-delayserver reads it
//   #1 - 2000ms: hello world             one line per valid request, as it ARRIVES
// The request lines appear in the order the requests arrive; the answers leave in the
// order their delays end. Errors and hints go to standard error.
//
// --fault MODE makes the server answer wrongly on purpose (reset, stall, garbage, truncate,
// close), so that the examples' tests can show what a client does when a server fails it.
// All of that code is in the section "Fault modes" below; without --fault it never runs.
//
// Platform: anything standalone Asio supports (Linux, macOS, Windows); raising the
// open-file limit is POSIX only. Build: see CMakeLists.txt (ASIO_STANDALONE is defined
// there, so no Boost is needed).
#include <asio.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#if !defined(_WIN32)
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#endif

#include "request.hpp"
#include "response.hpp"

namespace {

using namespace std::chrono_literals;

// After an answer is written, the server stops sending and waits this long for the client
// to close its side before it closes the socket itself (see Connection::on_written).
constexpr std::chrono::milliseconds lingering_time = 2000ms;

// How long to wait before accepting again after accept() failed, e.g. with EMFILE (no
// file descriptor left): retrying at once would spin, as the waiting connection keeps the
// listening socket readable.
constexpr std::chrono::milliseconds accept_retry_pause = 100ms;

// Options may not ask for more than a day: longer waits are certainly typos.
constexpr std::uint64_t largest_milliseconds_option = 24ULL * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

// --fault MODE: what the server sends instead of each 200 answer (see "Fault modes").
enum class Fault { none, reset, stall, garbage, truncate, close };

struct Settings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::chrono::milliseconds max_delay = 60000ms;
    std::chrono::milliseconds idle_timeout = 10000ms;
    Fault fault = Fault::none;
};

constexpr const char* help_text =
    "delayserver: a slow HTTP/1.1 server for the book's event-queue examples.\n"
    "\n"
    "Usage: delayserver [--host HOST] [--port PORT] [--max-delay-ms N] [--idle-timeout-ms N]\n"
    "                   [--fault MODE]\n"
    "\n"
    "GET /{delay_ms}/{message} is answered after delay_ms milliseconds with the\n"
    "percent-decoded message as a text/plain body, then the connection is closed.\n"
    "  curl http://127.0.0.1:8080/2000/hello%20world   prints \"hello world\" after 2 s\n"
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
    "  --help               print this text and exit\n"
    "\n"
    "Standard output: once bound, one line \"listening on HOST:PORT\" (the real port when\n"
    "PORT is 0); then one line per valid request as it arrives: \"#1 - 2000ms: hello world\".\n"
    "\n"
    "Error answers, each with a one-sentence text body, then the connection is closed:\n"
    "  400  malformed request line or header, not HTTP/1.x, no Host header in HTTP/1.1,\n"
    "       a delay that is not a whole number, negative or above --max-delay-ms,\n"
    "       bad percent-encoding, a message that is not UTF-8\n"
    "  404  any path other than /{delay_ms}/{message}\n"
    "  405  any method other than GET (with \"allow: GET\")\n"
    "  408  the request head did not arrive within --idle-timeout-ms\n"
    "  431  the request head is larger than 8 KiB\n"
    "A client that disconnects during its delay is forgotten: its timer is cancelled.\n"
    "\n"
    "Exit status: 0 after SIGINT or SIGTERM, 1 when the address cannot be bound,\n"
    "2 for a bad option.\n";

[[noreturn]] void option_error(const std::string& message) {
    std::fprintf(stderr, "delayserver: %s\n(delayserver --help lists the options)\n",
                 message.c_str());
    std::exit(2);
}

// The MODE of --fault, or exit 2 naming the modes there are.
Fault parse_fault_option(std::string_view text) {
    if (text == "reset") {
        return Fault::reset;
    } else if (text == "stall") {
        return Fault::stall;
    } else if (text == "garbage") {
        return Fault::garbage;
    } else if (text == "truncate") {
        return Fault::truncate;
    } else if (text == "close") {
        return Fault::close;
    }
    option_error("--fault needs one of reset, stall, garbage, truncate, close; not '" +
                 std::string(text) + "'");
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
        option_error(std::string(option) + " needs a whole number from " +
                     std::to_string(smallest) + " to " + std::to_string(largest) + ", not '" +
                     std::string(text) + "'");
    }
    return value;
}

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
        if (option == "--help" && !has_inline_value) {
            std::fputs(help_text, stdout);
            std::exit(0);
        }
        const bool takes_value = option == "--host" || option == "--port" ||
                                 option == "--max-delay-ms" || option == "--idle-timeout-ms" ||
                                 option == "--fault";
        if (!takes_value) {
            option_error("unknown option '" + std::string(argv[index]) + "'");
        }
        if (!has_inline_value) {
            if (index + 1 >= argc) {
                option_error(std::string(option) + " needs a value");
            }
            value = argv[++index];
        }
        if (option == "--host") {
            if (value.empty()) {
                option_error("--host needs an address, such as 127.0.0.1");
            }
            settings.host = value;
        } else if (option == "--port") {
            settings.port =
                static_cast<std::uint16_t>(parse_number_option(option, value, 0, 65535));
        } else if (option == "--max-delay-ms") {
            settings.max_delay = std::chrono::milliseconds(
                parse_number_option(option, value, 0, largest_milliseconds_option));
        } else if (option == "--fault") {
            settings.fault = parse_fault_option(value);
        } else {
            settings.idle_timeout = std::chrono::milliseconds(
                parse_number_option(option, value, 1, largest_milliseconds_option));
        }
    }
    return settings;
}

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

// A failed call that the server cannot go on without: name it, give the OS's message,
// exit 1. Asio reports the OS's errors as std::error_code; message() is the OS's text
// (strerror on POSIX, FormatMessage on Windows).
[[noreturn]] void fail(std::string_view call, const std::error_code& error) {
    std::fprintf(stderr, "delayserver: %.*s: %s\n", static_cast<int>(call.size()), call.data(),
                 error.message().c_str());
    std::exit(1);
}

// A failed call that concerns one connection only: say so, and carry on with the others.
void warn(std::string_view call, const std::error_code& error) {
    std::fprintf(stderr, "delayserver: %.*s: %s\n", static_cast<int>(call.size()), call.data(),
                 error.message().c_str());
}

// The message as the log shows it: control characters (a newline, a NUL, ...) are shown
// percent-encoded again, so that every request stays exactly one line of the log.
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

// "127.0.0.1:8080", or "[::1]:8080" for IPv6, where the address itself contains colons.
std::string describe(const asio::ip::tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    const std::string port = std::to_string(endpoint.port());
    return endpoint.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

// ---------------------------------------------------------------------------------------
// One connection: read a request head, wait, answer, close
// ---------------------------------------------------------------------------------------

// What all connections share. There is one thread, so no lock is needed.
struct ServerState {
    Settings settings;
    std::uint64_t requests_logged = 0;  // numbers the log lines: #1, #2, ...
};

// A connection lives as long as an Asio operation (a read, a write, a timer wait) still
// has to call it back: each callback holds a shared_ptr to it (shared_from_this), and the
// last one to finish frees it. That is Asio's usual way to tie an object's life to its
// pending operations.
//
// Exactly one read is pending on the socket from start() until close(). While the head is
// coming in, it collects the head; afterwards it discards whatever else arrives and,
// above all, it is how the server notices a client that goes away during its delay
// (the read completes with end-of-file or an error).
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(asio::ip::tcp::socket socket, ServerState& server)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server) {}

    void start() {
        // The whole request head must arrive within the idle timeout, however slowly it
        // trickles in: a client cannot hold a connection by sending one byte at a time.
        timer_.expires_after(server_.settings.idle_timeout);
        timer_.async_wait([self = shared_from_this()](const std::error_code& error) {
            self->on_head_deadline(error);
        });
        read_more();
    }

  private:
    enum class Phase {
        reading_head,  // collecting the request head; the timer is the idle deadline
        delaying,      // a valid request is waiting; the timer is its delay
        answering,     // the answer is being written
        lingering,     // answer sent, sending side shut down; the timer bounds the wait
        stalled,       // --fault stall: no answer ever; the pending read waits for the client
        closed,        // socket closed; callbacks still pending just return
    };

    // --fault: what to do instead of answering; defined in the section "Fault modes".
    void misbehave();

    void read_more() {
        socket_.async_read_some(
            asio::buffer(read_buffer_),
            [self = shared_from_this()](const std::error_code& error, std::size_t byte_count) {
                self->on_read(error, byte_count);
            });
    }

    void on_read(const std::error_code& error, std::size_t byte_count) {
        if (phase_ == Phase::closed) {
            return;
        }
        if (error) {
            on_end_of_stream(error);
            return;
        }
        if (phase_ == Phase::reading_head) {
            take_head_bytes(std::string_view(read_buffer_.data(), byte_count));
        }
        // In the other phases the bytes are discarded: a request body, or a second
        // request, which this server never answers (it closes after one answer).
        if (phase_ != Phase::closed) {
            read_more();
        }
    }

    // The client closed its side (asio::error::eof) or the connection broke (a reset).
    void on_end_of_stream(const std::error_code& error) {
        switch (phase_) {
            case Phase::reading_head:
                close();  // gone before finishing its request: nothing to answer
                break;
            case Phase::delaying:
                // Nobody is waiting for the answer any more: cancel the delay (close()
                // cancels the timer) instead of answering into a dead socket later.
                std::fprintf(stderr, "delayserver: #%llu left during its %lld ms delay (%s)\n",
                             static_cast<unsigned long long>(request_number_),
                             static_cast<long long>(delay_.count()),
                             error == asio::error::eof ? "closed" : error.message().c_str());
                close();
                break;
            case Phase::answering:
                peer_has_closed_ = true;  // on_written closes when the write is over
                break;
            case Phase::lingering:
                close();  // the client has read the answer and closed: all done
                break;
            case Phase::stalled:
                std::fprintf(stderr, "delayserver: #%llu left while stalled (--fault stall)\n",
                             static_cast<unsigned long long>(request_number_));
                close();
                break;
            case Phase::closed:
                break;
        }
    }

    void take_head_bytes(std::string_view bytes) {
        head_.append(bytes);
        const delayserver::HeadScan scan = delayserver::scan_request_head(head_);
        switch (scan.state) {
            case delayserver::HeadState::incomplete:
                break;  // keep reading
            case delayserver::HeadState::too_large:
                answer_error(431, "The request head is larger than 8 KiB.\n");
                break;
            case delayserver::HeadState::complete:
                on_head_complete(std::string_view(head_).substr(0, scan.length));
                break;
        }
    }

    void on_head_complete(std::string_view head) {
        delayserver::RequestOutcome outcome =
            delayserver::interpret_request_head(head, server_.settings.max_delay);
        head_.clear();
        head_.shrink_to_fit();  // ten thousand waiting connections need not keep their heads
        if (outcome.status_code != 200) {
            answer_error(outcome.status_code, outcome.body, outcome.send_body);
            return;
        }
        request_number_ = ++server_.requests_logged;
        delay_ = outcome.delay;
        message_ = std::move(outcome.body);
        const std::string log_line = "#" + std::to_string(request_number_) + " - " +
                                     std::to_string(delay_.count()) + "ms: " + printable(message_) +
                                     "\n";
        std::fwrite(log_line.data(), 1, log_line.size(), stdout);
        std::fflush(stdout);  // a pipe would otherwise hold the line back

        // Re-arming the timer cancels the idle deadline; on_head_deadline then sees the
        // new phase and does nothing.
        phase_ = Phase::delaying;
        timer_.expires_after(delay_);
        timer_.async_wait([self = shared_from_this()](const std::error_code& error) {
            self->on_delay_over(error);
        });
    }

    void on_head_deadline(const std::error_code& error) {
        // A cancelled wait, or one whose completion was already queued when the phase
        // moved on: either way the deadline no longer applies.
        if (error || phase_ != Phase::reading_head) {
            return;
        }
        if (head_.empty()) {
            close();  // never said anything: just close (as browsers' idle preconnections expect)
            return;
        }
        answer_error(408, "The request head did not arrive within " +
                              std::to_string(server_.settings.idle_timeout.count()) + " ms.\n");
    }

    void on_delay_over(const std::error_code& error) {
        if (error || phase_ != Phase::delaying) {
            return;
        }
        if (server_.settings.fault != Fault::none) {
            misbehave();  // answers wrongly on purpose (--fault)
            return;
        }
        answer(200, message_);
    }

    void answer_error(int status_code, const std::string& explanation, bool send_body = true) {
        std::fprintf(stderr, "delayserver: answered %d %s: %s", status_code,
                     std::string(delayserver::reason_phrase(status_code)).c_str(),
                     explanation.c_str());
        answer(status_code, explanation, send_body);
    }

    void answer(int status_code, std::string_view body, bool send_body = true) {
        send_response(delayserver::build_response(
            status_code, body, delayserver::format_http_date(std::chrono::system_clock::now()),
            send_body));
    }

    // Writes the response; on_written then ends the connection.
    void send_response(std::string response) {
        phase_ = Phase::answering;
        timer_.cancel();  // no deadline while writing; lingering sets a new one
        // The response must stay alive until the write completes: it is a member.
        response_ = std::move(response);
        asio::async_write(socket_, asio::buffer(response_),
                          [self = shared_from_this()](const std::error_code& error, std::size_t) {
                              self->on_written(error);
                          });
    }

    void on_written(const std::error_code& error) {
        if (phase_ == Phase::closed) {
            return;
        }
        if (error || peer_has_closed_) {
            close();
            return;
        }
        // Closing a socket that still has unread input makes the kernel send a reset,
        // which can destroy the answer before the client has read it (this bites the 431
        // answer, sent while the client may still be sending). So: shut down the sending
        // side (the client sees end-of-file after the answer), let the pending read drain
        // the input until the client closes too, and close after lingering_time at most.
        std::error_code shutdown_error;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, shutdown_error);
        if (shutdown_error) {
            close();  // typically ENOTCONN: the client has already reset the connection
            return;
        }
        phase_ = Phase::lingering;
        timer_.expires_after(lingering_time);
        timer_.async_wait([self = shared_from_this()](const std::error_code& wait_error) {
            if (!wait_error && self->phase_ == Phase::lingering) {
                self->close();
            }
        });
    }

    void close() {
        phase_ = Phase::closed;
        timer_.cancel();  // frees the connection without waiting for a long delay to end
        std::error_code error;
        socket_.close(error);  // also cancels the pending read
        if (error) {
            warn("close", error);
        }
    }

    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;  // one timer, three uses: idle deadline, delay, lingering
    ServerState& server_;
    Phase phase_ = Phase::reading_head;
    std::array<char, 1024> read_buffer_{};
    std::string head_;      // the request head received so far
    std::string response_;  // the answer being written (or, with --fault, what replaces it)
    std::string message_;   // the decoded message, answered after the delay
    std::chrono::milliseconds delay_{0};
    std::uint64_t request_number_ = 0;
    bool peer_has_closed_ = false;
};

// ---------------------------------------------------------------------------------------
// Fault modes (--fault): answering wrongly on purpose
// ---------------------------------------------------------------------------------------

// The examples' tests use these to show what a client does when the server fails it. Each
// valid request has been read, logged and delayed as usual; this replaces only its answer.
// The connection then ends the way a real failure would end it.
void Connection::misbehave() {
    const auto say = [this](const char* what) {  // one line per fault, for people
        std::fprintf(stderr, "delayserver: #%llu: %s instead of answering (--fault)\n",
                     static_cast<unsigned long long>(request_number_), what);
    };
    switch (server_.settings.fault) {
        case Fault::reset: {
            say("resetting the connection");
            // SO_LINGER with a zero timeout makes close() discard the connection and send a
            // reset (RST) instead of the orderly end (FIN): the client's next read fails with
            // ECONNRESET (WSAECONNRESET on Windows). See socket(7), SO_LINGER.
            std::error_code error;
            socket_.set_option(asio::socket_base::linger(true, 0), error);
            if (error) {
                warn("setsockopt SO_LINGER", error);  // close() below still ends it, with FIN
            }
            close();
            break;
        }
        case Fault::stall:
            say("stalling (nothing will be sent)");
            // Nothing is sent and no timer is set: the read still pending notices the
            // client leaving (on_end_of_stream). Stopping the server (SIGTERM) does not wait
            // for it: io.stop() ends the loop, and the pending read is dropped with it.
            phase_ = Phase::stalled;
            break;
        case Fault::garbage:
            say("sending bytes that are not HTTP");
            send_response("this is not HTTP\r\n");  // then on_written closes, as after an answer
            break;
        case Fault::truncate: {
            say("sending the head and half the body");
            // The head announces the whole body (content-length), but only its first half
            // follows before the server closes: the client sees end of file too early.
            const std::string whole = delayserver::build_response(
                200, message_, delayserver::format_http_date(std::chrono::system_clock::now()));
            send_response(whole.substr(0, whole.size() - (message_.size() + 1) / 2));
            break;
        }
        case Fault::close:
            say("closing without sending a byte");
            send_response("");  // nothing to write: on_written closes at once, with FIN
            break;
        case Fault::none:
            break;  // not called without --fault
    }
}

// ---------------------------------------------------------------------------------------
// The listening socket: accept connections forever
// ---------------------------------------------------------------------------------------

class Listener {
  public:
    Listener(asio::ip::tcp::acceptor& acceptor, ServerState& server)
        : acceptor_(acceptor), retry_timer_(acceptor.get_executor()), server_(server) {}

    void accept_next() {
        acceptor_.async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
            on_accepted(error, std::move(socket));
        });
    }

  private:
    void on_accepted(const std::error_code& error, asio::ip::tcp::socket socket) {
        if (error == asio::error::operation_aborted) {
            return;  // the server is stopping
        }
        if (error) {
            // EMFILE/ENFILE (out of file descriptors), ENOBUFS, ENOMEM: the waiting client
            // stays queued and will be accepted once something is freed. Say so once per
            // episode, not once per retry, and retry after a pause instead of spinning.
            if (!accept_is_failing_) {
                warn("accept (retrying every 100 ms)", error);
                accept_is_failing_ = true;
            }
            retry_timer_.expires_after(accept_retry_pause);
            retry_timer_.async_wait([this](const std::error_code& wait_error) {
                if (!wait_error) {
                    accept_next();
                }
            });
            return;
        }
        if (accept_is_failing_) {
            std::fprintf(stderr, "delayserver: accept works again\n");
            accept_is_failing_ = false;
        }
        std::make_shared<Connection>(std::move(socket), server_)->start();
        accept_next();
    }

    asio::ip::tcp::acceptor& acceptor_;
    asio::steady_timer retry_timer_;
    ServerState& server_;
    bool accept_is_failing_ = false;
};

// ---------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------

#if defined(_WIN32)
void raise_open_file_limit() {
    // Windows has no RLIMIT_NOFILE: sockets are handles, limited only by memory.
}
#else
// Each connection is a file descriptor, and the usual soft limit is 1024. The hard limit
// is the ceiling an unprivileged process may raise its own soft limit to.
void raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        std::fprintf(stderr, "delayserver: getrlimit: %s\n", std::strerror(errno));
        return;  // the server still works, with fewer connections
    }
    // macOS reports an unlimited hard limit but refuses a soft limit above OPEN_MAX
    // (10240) with EINVAL; see COMPATIBILITY in its setrlimit(2) man page.
    constexpr rlim_t open_max_on_macos = 10240;
    const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? open_max_on_macos : limit.rlim_max;
    if (limit.rlim_cur >= wanted) {
        return;
    }
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        std::fprintf(stderr, "delayserver: setrlimit(RLIMIT_NOFILE, %llu): %s\n",
                     static_cast<unsigned long long>(wanted), std::strerror(errno));
    }
}
#endif

// SO_REUSEADDR lets a restarted server bind its port while connections of the previous
// run are still in TIME_WAIT; on POSIX it still refuses a port that another socket is
// listening on. On Windows it would allow exactly that (two servers on one port), so it
// is left off there.
#if defined(_WIN32)
constexpr bool reuse_address_is_safe = false;
#else
constexpr bool reuse_address_is_safe = true;
#endif

// HOST may be an address (127.0.0.1, ::1) or a name (localhost), which is resolved.
asio::ip::tcp::endpoint endpoint_to_bind(asio::io_context& io, const Settings& settings) {
    std::error_code error;
    const asio::ip::address address = asio::ip::make_address(settings.host, error);
    if (!error) {
        return asio::ip::tcp::endpoint(address, settings.port);
    }
    asio::ip::tcp::resolver resolver(io);
    const asio::ip::tcp::resolver::results_type results =
        resolver.resolve(settings.host, std::to_string(settings.port), error);
    if (error) {
        fail("resolve " + settings.host, error);
    }
    return results.begin()->endpoint();  // resolve() succeeds only with at least one result
}

}  // namespace

int main(int argc, char** argv) {
    ServerState server{parse_settings(argc, argv)};
    raise_open_file_limit();

    // Concurrency hint 1: only this thread ever runs the io_context, so Asio can skip
    // its internal locking. Declared after `server`, so it is destroyed first, together
    // with the connections its pending callbacks still hold.
    asio::io_context io(1);

    const asio::ip::tcp::endpoint wanted = endpoint_to_bind(io, server.settings);
    const std::string wanted_text = describe(wanted);
    asio::ip::tcp::acceptor acceptor(io);
    std::error_code error;
    acceptor.open(wanted.protocol(), error);
    if (error) {
        fail("socket", error);
    }
    if (reuse_address_is_safe) {
        acceptor.set_option(asio::socket_base::reuse_address(true), error);
        if (error) {
            fail("setsockopt SO_REUSEADDR", error);
        }
    }
    acceptor.bind(wanted, error);
    if (error) {
        fail("bind " + wanted_text, error);  // e.g. "Address already in use"
    }
    acceptor.listen(asio::socket_base::max_listen_connections, error);  // SOMAXCONN
    if (error) {
        fail("listen", error);
    }
    const asio::ip::tcp::endpoint bound = acceptor.local_endpoint(error);
    if (error) {
        fail("getsockname", error);
    }

    // SIGINT (Ctrl+C) and SIGTERM (what tools/with-delayserver sends) stop the loop; the
    // program then ends normally, with exit status 0.
    asio::signal_set stop_signals(io);
    for (const int signal_number : {SIGINT, SIGTERM}) {
        stop_signals.add(signal_number, error);
        if (error) {
            fail("signal_set add", error);
        }
    }
    stop_signals.async_wait([&io](const std::error_code& wait_error, int signal_number) {
        if (!wait_error) {
            std::fprintf(stderr, "delayserver: %s received, stopping\n",
                         signal_number == SIGINT ? "SIGINT" : "SIGTERM");
            io.stop();
        }
    });

    Listener listener(acceptor, server);
    listener.accept_next();

    // The one machine-readable line (tools/with-delayserver and the tests parse it), then
    // a hint for people, on standard error so that standard output stays the request log.
    const std::string address = describe(bound);
    std::printf("listening on %s\n", address.c_str());
    std::fflush(stdout);
    std::fprintf(stderr,
                 "Try: curl http://%s/2000/hello%%20world  (answered after 2000 ms)\n"
                 "Each request is logged on standard output as it arrives. Stop with Ctrl+C.\n",
                 address.c_str());

    if (server.settings.fault != Fault::none) {
        std::fprintf(stderr,
                     "delayserver: --fault is set: valid requests get a faulty answer, on "
                     "purpose (see --help)\n");
    }

    io.run();  // until io.stop(): every callback above runs from here, on this thread
    return 0;
}
