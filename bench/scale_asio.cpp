// bench/scale_asio.cpp: N delayed requests on one thread, with standalone Asio.
//
// The same work as scale_epoll.cpp, written the way an Asio program writes it: each step
// of a request (connect, write, read to end of file) is started with a callback, and one
// thread runs the io_context, which calls the callbacks as the steps complete. Underneath,
// on Linux, the io_context is an epoll instance much like the raw client's (plus a timerfd
// for timers and an eventfd to wake it); the scale test measures what the library's
// comfort costs, in time and memory, next to the raw loop.
//
// Platform: Linux (scale_client.h reads /proc for the peak memory); Asio itself is
// portable, and so is this file's use of it.
//
// What to watch for: wall time and peak memory next to bench-scale-epoll's at the same N.
#include <asio.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "scale_client.h"

using scale::Clock;

// One request: its socket, what it sends and receives, and its outcome.
struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::string request;
    std::string received;
    scale::Outcome* outcome = nullptr;
    int index = 0;
};

class Client {
  public:
    Client(asio::io_context& io, const scale::Options& options,
           std::vector<scale::Outcome>& outcomes)
        : io_(io), options_(options), outcomes_(outcomes), deadline_(io) {}

    // Starts every request (each one's first step: connect) and the deadline; returns at
    // once. io_context::run does the rest.
    void start() {
        const asio::ip::tcp::endpoint server(asio::ip::make_address_v4(options_.host),
                                             options_.port);
        for (int index = 0; index < options_.requests; ++index) {
            Connection& connection = connections_.emplace_back(io_);  // deque: never moves
            connection.index = index;
            connection.outcome = &outcomes_[static_cast<std::size_t>(index)];
            connection.socket.async_connect(server,
                                            [this, &connection](const std::error_code& error) {
                                                on_connected(connection, error);
                                            });
        }
        // Every wait is bounded: after the delay + 30 s the requests left are closed,
        // which ends their pending operations with operation_aborted.
        deadline_.expires_after(options_.time_limit());
        deadline_.async_wait([this](const std::error_code& error) {
            if (error) {
                return;  // Cancelled: every request finished in time.
            }
            for (Connection& connection : connections_) {
                finish(connection, "no answer within the delay + 30 s");  // those left
            }
        });
    }

  private:
    void on_connected(Connection& connection, const std::error_code& error) {
        if (error) {
            finish(connection, "connect: " + error.message());
            return;
        }
        // The request must live until its write completes: Asio, like IOCP, is given the
        // buffer when the operation starts and hands it back in the callback.
        connection.request = scale::build_request(options_.delay_ms, connection.index);
        asio::async_write(connection.socket, asio::buffer(connection.request),
                          [this, &connection](const std::error_code& error, std::size_t) {
                              on_sent(connection, error);
                          });
    }

    void on_sent(Connection& connection, const std::error_code& error) {
        if (error) {
            finish(connection, "write: " + error.message());
            return;
        }
        connection.outcome->sent_at = Clock::now();
        std::string().swap(connection.request);  // sent: give its memory back
        // Reads until end of file: async_read completes only when the buffer is full or an
        // error happens, and end of file is reported as the error asio::error::eof. Here
        // too the buffer is named when the read starts, so each waiting connection holds
        // one (the string grows by at least 512 bytes per read); a readiness loop like
        // scale_epoll.cpp's reads into one shared buffer, and only when data is there.
        asio::async_read(connection.socket, asio::dynamic_buffer(connection.received),
                         [this, &connection](const std::error_code& error, std::size_t) {
                             on_read(connection, error);
                         });
    }

    void on_read(Connection& connection, const std::error_code& error) {
        if (error == asio::error::eof) {
            finish(connection, scale::check_answer(connection.received, connection.index));
        } else {
            finish(connection, "read: " + error.message());
        }
    }

    // Does nothing for a request already finished (a read that ends after the deadline
    // failed it, the deadline after its answer).
    void finish(Connection& connection, std::string failure) {
        if (connection.outcome->finished) {
            return;
        }
        std::error_code ignored;  // Closing a socket that failed may fail again: not news.
        connection.socket.close(ignored);
        connection.outcome->finish(std::move(failure));
        if (++finished_ == options_.requests) {
            deadline_.cancel();  // Nothing left to wait for: run() returns.
        }
    }

    asio::io_context& io_;
    const scale::Options& options_;
    std::vector<scale::Outcome>& outcomes_;
    std::deque<Connection> connections_;
    asio::steady_timer deadline_;
    int finished_ = 0;
};

int main(int argc, char** argv) {
    const scale::Options options =
        scale::parse_options(argc, argv, "bench-scale-asio", "one thread in Asio's io_context");
    std::vector<scale::Outcome> outcomes(static_cast<std::size_t>(options.requests));

    const Clock::time_point start = Clock::now();
    try {
        // Concurrency hint 1: only this thread runs the io_context, so Asio may leave out
        // the locking it would need for several.
        asio::io_context io(1);
        Client client(io, options, outcomes);
        client.start();
        io.run();  // Returns when no operation is pending: every request finished.
    } catch (const std::system_error& error) {
        // Asio reports a failed OS call it cannot hand to a callback (creating its epoll
        // instance, for one) by throwing; the message names the call and the OS's reason.
        std::fprintf(stderr, "%s: %s\n", measure::program_name, error.what());
        return 1;
    }
    return scale::print_summary(options, outcomes, start);
}
