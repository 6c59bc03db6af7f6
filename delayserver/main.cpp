// delayserver/main.cpp: the slow HTTP server the book's event-queue examples talk to.
//
// What it shows: one thread can keep ten thousand slow requests waiting at once, because
// a waiting request costs a socket and a timer, not a thread. The server runs one
// io_context (Asio's event loop, on top of epoll, kqueue or IOCP) on the main thread;
// every connection is a small object whose next step is always a callback: "bytes
// arrived", "the delay is over", "the answer is written". In reading order: one
// connection's life (read the head, start a timer, write the answer, close), the accept
// loop, main.
//
// Usage: delayserver [--host HOST] [--port PORT] [--max-delay-ms N] [--idle-timeout-ms N]
//                    [--fault MODE] [--help]        (--help explains each, and each error)
//   curl http://127.0.0.1:8080/2000/hello%20world    # "hello world", after 2000 ms
//   curl -I http://127.0.0.1:8080/2000/hi            # HEAD: the same headers, no body
//
// What to watch for in the output (standard output, each line flushed at once):
//   listening on 127.0.0.1:8080          once, when bound: tools/with-delayserver reads it
//   #1 - 2000ms: hello world             one line per valid request, as it ARRIVES
// The request lines appear in the order the requests arrive; the answers leave in the
// order their delays end. Errors and hints go to standard error, one line each; an error
// answer's line names the request: "answered 404 Not Found to GET /favicon.ico: ...".
//
// What a first reading may skip, each in a file of its own: request.cpp and response.cpp
// (HTTP as pure functions), options.cpp (the command line), faults.cpp (--fault MODE:
// answering wrongly on purpose, for the examples' tests), startup.cpp (the open-file
// limit, the listening socket, how failed calls are reported).
//
// Platform: anything standalone Asio supports (Linux, macOS, Windows). Build: see
// CMakeLists.txt (ASIO_STANDALONE is defined there, so no Boost is needed).
#include <asio.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "faults.hpp"
#include "options.hpp"
#include "request.hpp"
#include "response.hpp"
#include "startup.hpp"

namespace {

using namespace std::chrono_literals;
using namespace delayserver;

// After an answer is written, the server stops sending and waits this long for the client
// to close its side before it closes the socket itself (see Connection::on_written).
constexpr std::chrono::milliseconds lingering_time = 2000ms;

// How long to wait before accepting again after accept() failed, e.g. with EMFILE (no
// file descriptor left): retrying at once would spin, as the waiting connection keeps the
// listening socket readable.
constexpr std::chrono::milliseconds accept_retry_pause = 100ms;

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
        // In the other phases the bytes are discarded: a request body, or a second request
        // on the same connection, never answered: one request per connection, and every
        // answer says "connection: close", which HTTP/1.1 allows (RFC 9112 section 9.6).
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
        const HeadScan scan = scan_request_head(head_);
        switch (scan.state) {
            case HeadState::incomplete:
                break;  // keep reading
            case HeadState::too_large:
                answer_error(431, "The request head is larger than 8 KiB.\n");
                break;
            case HeadState::not_a_request:  // such as a TLS handshake: no need to wait for more
                answer_error(refuse_not_a_request(head_));
                break;
            case HeadState::complete:
                on_head_complete(std::string_view(head_).substr(0, scan.length));
                break;
        }
    }

    void on_head_complete(std::string_view head) {
        RequestOutcome outcome = interpret_request_head(head, server_.settings.max_delay);
        if (outcome.status_code != 200) {
            answer_error(outcome);
            return;
        }
        head_.clear();
        head_.shrink_to_fit();  // ten thousand waiting connections need not keep their heads
        request_number_ = ++server_.requests_logged;
        delay_ = outcome.delay;
        message_ = std::move(outcome.body);
        send_body_ = outcome.send_body;  // false for HEAD: the same answer, without the body
        // One printf rather than "#" + std::to_string(...) + ...: GCC 12 at -O3 warns
        // wrongly about that chain of string additions (-Wrestrict, GCC bug 105651).
        std::printf("#%llu - %lldms: %s\n", static_cast<unsigned long long>(request_number_),
                    static_cast<long long>(delay_.count()), printable(message_).c_str());
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
            misbehave(plan_fault(server_.settings.fault, message_));  // on purpose (--fault)
            return;
        }
        answer(200, message_, send_body_);
    }

    // One line on standard error per error answer, naming the request it answers (from the
    // head received so far), then the answer itself.
    void answer_error(const RequestOutcome& outcome) {
        std::fprintf(stderr, "delayserver: answered %d %s to %s: %s", outcome.status_code,
                     std::string(reason_phrase(outcome.status_code)).c_str(),
                     describe_request(head_).c_str(), outcome.body.c_str());
        answer(outcome.status_code, outcome.body, outcome.send_body);
    }

    void answer_error(int status_code, std::string explanation) {
        answer_error(RequestOutcome{status_code, 0ms, std::move(explanation), true});
    }

    void answer(int status_code, std::string_view body, bool send_body = true) {
        send_response(build_response(
            status_code, body, format_http_date(std::chrono::system_clock::now()), send_body));
    }

    // --fault: instead of the answer, what faults.cpp planned: some bytes (or none) and the
    // usual close, a reset, or a stall.
    void misbehave(FaultPlan plan) {
        std::fprintf(stderr, "delayserver: #%llu: %.*s instead of answering (--fault)\n",
                     static_cast<unsigned long long>(request_number_),
                     static_cast<int>(plan.saying.size()), plan.saying.data());
        switch (plan.action) {
            case FaultAction::send_then_close:
                send_response(std::move(plan.bytes));  // on_written closes, as after an answer
                break;
            case FaultAction::reset: {
                // SO_LINGER with a zero timeout makes close() discard the connection and send
                // a reset (RST) instead of the orderly end (FIN). See socket(7), SO_LINGER.
                std::error_code error;
                socket_.set_option(asio::socket_base::linger(true, 0), error);
                if (error) {
                    warn("setsockopt SO_LINGER", error);  // close() below still ends it, with FIN
                }
                close();
                break;
            }
            case FaultAction::stall:
                // No write, no timer: the read still pending notices the client leaving
                // (on_end_of_stream). SIGTERM does not wait for it: io.stop() ends the loop,
                // and the pending read is dropped with it.
                phase_ = Phase::stalled;
                break;
        }
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
    std::string head_;       // the request head received so far
    std::string response_;   // the answer being written (or, with --fault, what replaces it)
    std::string message_;    // the decoded message, answered after the delay
    bool send_body_ = true;  // false for HEAD: the answer is GET's, without the message
    std::chrono::milliseconds delay_{0};
    std::uint64_t request_number_ = 0;
    bool peer_has_closed_ = false;
};

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

}  // namespace

int main(int argc, char** argv) {
    ServerState server{parse_settings(argc, argv)};
    raise_open_file_limit();

    // Concurrency hint 1: only this thread ever runs the io_context, so Asio can skip
    // its internal locking. Declared after `server`, so it is destroyed first, together
    // with the connections its pending callbacks still hold.
    asio::io_context io(1);
    asio::ip::tcp::acceptor acceptor = open_listening_socket(io, server.settings);
    std::error_code error;
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

    // The one machine-readable line (tools/with-delayserver and the tests parse it), then,
    // for a person at a terminal, a hint on standard error (standard output is the log).
    const std::string address = describe(bound);
    std::printf("listening on %s\n", address.c_str());
    std::fflush(stdout);
    if (started_from_terminal()) {
        std::fprintf(stderr,
                     "Try: curl http://%s/2000/hello%%20world  (answered after 2000 ms)\n"
                     "Each request is logged on standard output as it arrives. Stop with Ctrl+C.\n",
                     address.c_str());
    }
    if (server.settings.fault != Fault::none) {
        std::fprintf(stderr,
                     "delayserver: --fault is set: valid requests get a faulty answer, on "
                     "purpose (see --help)\n");
    }

    io.run();  // until io.stop(): every callback above runs from here, on this thread
    return 0;
}
