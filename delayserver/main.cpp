// delayserver/main.cpp: the slow HTTP server the book's event-queue examples talk to.
//
// What it shows: the examples' idea seen from the other side. They send many requests and
// wait for every answer with one event queue; this server waits on all those connections
// with one event queue too: one asio::io_context (Asio's event loop, on epoll, kqueue or
// IOCP) on the main thread. Each connection is a small object with one timer, whose next
// step is always a callback: "bytes arrived", "the delay is over", "the answer is
// written". A waiting request costs a socket and a timer, not a thread, so ten thousand
// of them wait at once. In reading order: a connection's life, the accept loop, the
// open-file limit, main; below main, the command line.
//
// Usage: delayserver [--host HOST] [--port PORT] [--max-delay-ms N] [--idle-timeout-ms N]
//                    [--fault MODE]                     (--help explains each)
//   curl http://127.0.0.1:8080/2000/hello%20world       # "hello world", after 2000 ms
//
// What to watch for: "listening on 127.0.0.1:8080" once bound (with --port 0, the port the
// OS chose); then "#1 - 2000ms: hello world" for each valid request as it ARRIVES, while
// the answers leave in the order their delays end. Standard error: one line per error
// answer, naming the request. Platform: anything standalone Asio supports.
#include <asio.hpp>
#if !defined(_WIN32)
#include <sys/resource.h>
#endif

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "command_line.hpp"
#include "request.hpp"

namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using delayserver::Request;

// The settings, and what all connections share. There is one thread, so no lock is needed.
struct Server {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    long long max_delay_ms = 60000;
    long long idle_timeout_ms = 10000;
    std::string fault;                  // empty, or one of reset, stall, garbage, truncate, close
    std::uint64_t requests_logged = 0;  // numbers the log lines: #1, #2, ...
};

// After an answer, the server waits this long at most for the client to close first.
constexpr std::chrono::milliseconds lingering_time = 2000ms;

// ---- One connection: read the request head, wait its delay, answer, close ----

// A connection lives as long as an Asio operation (a read, a write, a timer wait) still
// has to call it back: each callback holds a shared_ptr to it (shared_from_this), and the
// last one to finish frees it. Exactly one read is pending from start() to close(): it
// collects the head, then discards whatever else comes (a second request is never
// answered: every answer says "connection: close"), and it is how the server notices a
// client that leaves during its delay (the read ends with end-of-file or a reset).
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket socket, Server& server)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server) {}

    void start() {
        // The whole head must arrive within the idle timeout, however slowly it trickles
        // in: a client cannot hold a connection by sending one byte at a time.
        after(std::chrono::milliseconds(server_.idle_timeout_ms), &Connection::on_idle_timeout);
        read_more();
    }

  private:
    enum class Phase { reading, delaying, answering, lingering, stalled, closed };

    // The one timer: calls `then` after `duration`, unless the phase has moved on by then.
    // Setting the timer again cancels its earlier wait (whose callback gets an error); a
    // callback already queued when the phase moved on sees the new phase and does nothing.
    void after(std::chrono::milliseconds duration, void (Connection::*then)()) {
        timer_.expires_after(duration);
        timer_.async_wait(
            [self = shared_from_this(), phase = phase_, then](const std::error_code& error) {
                if (!error && self->phase_ == phase) {
                    (self.get()->*then)();
                }
            });
    }

    void read_more() {
        socket_.async_read_some(
            asio::buffer(buffer_),
            [self = shared_from_this()](const std::error_code& error, std::size_t byte_count) {
                self->on_read(error, byte_count);
            });
    }

    void on_read(const std::error_code& error, std::size_t byte_count) {
        if (error) {
            // The client closed its side or reset the connection. While an answer is being
            // written, on_written ends it; otherwise it ends here, and a delay or a stall
            // is forgotten (close() cancels the timer) instead of answered into a dead socket.
            if (phase_ != Phase::answering && phase_ != Phase::closed) {
                close();
            }
            return;
        }
        if (phase_ == Phase::reading) {
            head_.append(buffer_.data(), byte_count);
            on_head_bytes(
                delayserver::read_request(head_, std::chrono::milliseconds(server_.max_delay_ms)));
        }
        if (phase_ != Phase::closed) {
            read_more();  // in the other phases the bytes are thrown away
        }
    }

    void on_head_bytes(Request request) {
        if (request.status == 0) {
            return;  // the head is not complete yet
        }
        if (request.status != 200) {
            answer_error(request);
            return;
        }
        head_ = std::string();  // ten thousand waiting connections need not keep their heads
        request_ = std::move(request);
        std::printf("#%llu - %lldms: %s\n",
                    static_cast<unsigned long long>(++server_.requests_logged),
                    static_cast<long long>(request_.delay.count()),
                    delayserver::printable(request_.body).c_str());
        std::fflush(stdout);  // a pipe would otherwise hold the line back
        phase_ = Phase::delaying;
        after(request_.delay, &Connection::on_delay_over);  // this ends the idle timeout
    }

    void on_idle_timeout() {
        if (head_.empty()) {
            close();  // it never said anything: just close, as browsers' preconnections expect
            return;
        }
        answer_error(Request{408, 0ms,
                             "The request head did not arrive within " +
                                 std::to_string(server_.idle_timeout_ms) + " ms.\n",
                             true, delayserver::describe_request(head_)});
    }

    void on_delay_over() {
        const std::string& fault = server_.fault;
        const auto now = std::chrono::system_clock::now();
        // --fault: the request was read, logged and delayed as usual; then, instead of
        // its answer, ...
        if (fault.empty()) {
            send(delayserver::build_response(200, request_.body, request_.send_body, now));
        } else if (fault == "reset") {
            // ...a reset (RST): SO_LINGER with a zero timeout makes close() discard the
            // connection instead of ending it with FIN (socket(7), SO_LINGER).
            std::error_code error;
            socket_.set_option(asio::socket_base::linger(true, 0), error);
            close();
        } else if (fault == "stall") {
            phase_ = Phase::stalled;  // ...nothing: the pending read waits for the client to leave
        } else if (fault == "garbage") {
            send("this is not HTTP\r\n");  // ...bytes that are not HTTP, then the usual close
        } else if (fault == "truncate") {
            // ...the head, whose content-length announces the whole body, and only the first
            // half of the body: the client sees end-of-file too early.
            const std::string whole = delayserver::build_response(200, request_.body, true, now);
            send(whole.substr(0, whole.size() - (request_.body.size() + 1) / 2));
        } else {
            send("");  // close: ...not a byte, then the usual close
        }
    }

    // One line on standard error per error answer, naming the request it answers.
    void answer_error(const Request& request) {
        std::fprintf(stderr, "delayserver: answered %d %s to %s: %s", request.status,
                     delayserver::reason_phrase(request.status), request.name.c_str(),
                     request.body.c_str());
        send(delayserver::build_response(request.status, request.body, request.send_body,
                                         std::chrono::system_clock::now()));
    }

    void send(std::string bytes) {
        phase_ = Phase::answering;
        timer_.cancel();          // no deadline while writing
        out_ = std::move(bytes);  // it must stay alive until the write completes
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](const std::error_code& error, std::size_t) {
                              self->on_written(error);
                          });
    }

    void on_written(const std::error_code& error) {
        // Closing a socket that still has unread input makes the kernel send a reset,
        // which can destroy the answer before the client has read it (this bites the 431
        // answer, sent while the client may still be sending). So: shut down the sending
        // side (the client sees end-of-file after the answer), let the pending read drain
        // the input until the client closes too, and close after lingering_time at most.
        std::error_code shutdown_error;
        if (!error) {
            socket_.shutdown(tcp::socket::shutdown_send, shutdown_error);
        }
        if (error || shutdown_error) {
            close();  // the write failed, or the client had already gone
            return;
        }
        phase_ = Phase::lingering;
        after(lingering_time, &Connection::close);
    }

    void close() {
        phase_ = Phase::closed;
        timer_.cancel();  // frees the connection without waiting for a long delay to end
        std::error_code error;
        socket_.close(error);  // also cancels the pending read
    }

    tcp::socket socket_;
    asio::steady_timer timer_;  // one timer, three uses: idle deadline, delay, lingering
    Server& server_;
    Phase phase_ = Phase::reading;
    std::array<char, 1024> buffer_{};
    std::string head_;  // the request head received so far
    Request request_;   // the valid request, answered after its delay
    std::string out_;   // the bytes being written
};

// ---- The listening socket: accept connections forever ----

void accept_next(tcp::acceptor& acceptor, asio::steady_timer& retry_timer, Server& server) {
    acceptor.async_accept([&](const std::error_code& error, tcp::socket socket) {
        if (!error) {
            std::make_shared<Connection>(std::move(socket), server)->start();
            accept_next(acceptor, retry_timer, server);
        } else if (error != asio::error::operation_aborted) {
            // EMFILE (no descriptor left) and the like: the client stays queued, and the
            // listening socket readable, so retrying at once would spin: pause first.
            std::fprintf(stderr, "delayserver: accept: %s (retrying in 100 ms)\n",
                         error.message().c_str());
            retry_timer.expires_after(100ms);
            retry_timer.async_wait([&](const std::error_code& wait_error) {
                if (!wait_error) {
                    accept_next(acceptor, retry_timer, server);
                }
            });
        }
    });
}

Server parse_settings(int argc, char** argv);

// Each connection is a file descriptor, and the usual soft limit is 1024: raise it to the
// hard limit, the most an unprivileged process may ask for. SO_REUSEADDR lets a restarted
// server bind its port while the last run's connections are in TIME_WAIT. Windows has no
// such limit, and there SO_REUSEADDR would let a second server take a port in use.
#if defined(_WIN32)
constexpr bool reuse_address_is_safe = false;
void raise_open_file_limit() {}
#else
constexpr bool reuse_address_is_safe = true;
void raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        // macOS reports an unlimited hard limit but refuses a soft limit above OPEN_MAX
        // (10240); see COMPATIBILITY in its setrlimit(2) man page.
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? 10240 : limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            std::perror("delayserver: setrlimit RLIMIT_NOFILE");  // fewer connections, still works
        }
    }
}
#endif

}  // namespace

int main(int argc, char** argv) {
    Server server = parse_settings(argc, argv);
    raise_open_file_limit();

    // Concurrency hint 1: only this thread runs the io_context, so Asio can skip its
    // locking. Declared after `server`, so it is destroyed first, together with the
    // connections its pending callbacks still hold.
    asio::io_context io(1);
    tcp::acceptor acceptor(io);
    try {
        // HOST may be an address (127.0.0.1, ::1) or a name.
        tcp::resolver resolver(io);
        const tcp::endpoint wanted =
            resolver.resolve(server.host, std::to_string(server.port)).begin()->endpoint();
        acceptor = tcp::acceptor(io, wanted, /*reuse_addr=*/reuse_address_is_safe);
    } catch (const std::system_error& error) {  // "bind: Address already in use"
        std::fprintf(stderr, "delayserver: %s:%u: %s\n", server.host.c_str(),
                     static_cast<unsigned>(server.port), error.what());
        return 1;
    }

    // SIGINT (Ctrl+C) and SIGTERM (what tools/with-delayserver sends) stop the loop; the
    // program then ends normally, with exit status 0.
    asio::signal_set stop_signals(io, SIGINT, SIGTERM);
    stop_signals.async_wait([&io](const std::error_code& error, int signal_number) {
        if (!error) {
            std::fprintf(stderr, "delayserver: %s received, stopping\n",
                         signal_number == SIGINT ? "SIGINT" : "SIGTERM");
            io.stop();
        }
    });

    asio::steady_timer accept_retry_timer(io);
    accept_next(acceptor, accept_retry_timer, server);

    // The one line that tools/with-delayserver reads: the port the OS chose for --port 0.
    const tcp::endpoint bound = acceptor.local_endpoint();
    const std::string address = bound.address().to_string();
    std::printf(bound.address().is_v6() ? "listening on [%s]:%u\n" : "listening on %s:%u\n",
                address.c_str(), static_cast<unsigned>(bound.port()));
    std::fflush(stdout);

    io.run();  // until io.stop(): every callback above runs from here, on this thread
    return 0;
}

namespace {

Server parse_settings(int argc, char** argv) {
    Server server;
    CLI::App app("delayserver: a slow HTTP/1.1 server for the book's event-queue examples.",
                 "delayserver");
    app.get_formatter()->column_width(26);
    // An option given twice takes the last value (tools/with-delayserver adds its own --host).
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--host", server.host, "address or name to listen on (default 127.0.0.1)")
        ->option_text("HOST");
    app.add_option("--port", server.port, "port (default 8080; 0: the OS picks a free one)")
        ->option_text("PORT");
    app.add_option("--max-delay-ms", server.max_delay_ms, "largest delay accepted (default 60000)")
        ->option_text("N")
        ->check(CLI::Range(0LL, 86400000LL));
    app.add_option("--idle-timeout-ms", server.idle_timeout_ms,
                   "time to send a head (default 10000)")
        ->option_text("N")
        ->check(CLI::Range(1LL, 86400000LL));
    app.add_option("--fault", server.fault, "misbehave on purpose, to test clients (below)")
        ->option_text("MODE")
        ->check(CLI::IsMember({"reset", "stall", "garbage", "truncate", "close"}));
    app.footer(R"(GET /{delay_ms}/{message} is answered after delay_ms milliseconds with the
percent-decoded message as its text/plain body (HEAD: without the body), then the
connection is closed; anything else gets a 4xx answer at once, saying why.
  curl http://127.0.0.1:8080/2000/hello%20world   prints "hello world" after 2 s
--fault MODE: each valid request is read, logged and delayed as usual, then
instead of its answer: reset: a reset (RST); stall: nothing, the connection
stays open; garbage: "this is not HTTP\r\n"; truncate: the head and half the
body; close: not a byte. Exit status: 0 after SIGINT or SIGTERM, 1 when the
address cannot be bound, 2 for a bad option.)");
    parse_command_line(app, argc, argv);
    return server;
}

}  // namespace
