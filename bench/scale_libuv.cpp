// bench/scale_libuv.cpp: N delayed requests on one thread, with libuv.
//
// The same work as scale_epoll.cpp, written the way a libuv program (or Node.js, which is
// built on libuv) writes it: each step of a request is started with a callback, and
// uv_run runs the loop on this thread and calls the callbacks as the steps complete. On
// Linux the loop is an epoll instance (src/unix/linux.c in libuv's sources); on macOS and
// the BSDs a kqueue, on Windows an IOCP.
//
// Platform: Linux (scale_client.h reads /proc for the peak memory); libuv itself is
// portable, and so is this file's use of it.
//
// What to watch for: wall time and peak memory next to bench-scale-epoll's at the same N.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "scale_client.h"

using scale::Clock;

// libuv functions return 0 or a negative error code; uv_strerror turns it into text.
void check(int result, const char* call) {
    if (result < 0) {
        std::fprintf(stderr, "%s: %s: %s\n", measure::program_name, call, uv_strerror(result));
        std::exit(1);
    }
}

struct Client;

// One request. libuv keeps pointers to the handle and the requests (uv_tcp_t,
// uv_connect_t, uv_write_t) until their callbacks have run, so a Connection never moves:
// they live in a std::deque that only grows.
struct Connection {
    uv_tcp_t socket{};
    uv_connect_t connect{};
    uv_write_t write{};
    std::string request;
    std::string received;
    scale::Outcome* outcome = nullptr;
    int index = 0;
    Client* client = nullptr;
};

struct Client {
    uv_loop_t loop{};
    uv_timer_t deadline{};
    std::deque<Connection> connections;
    int requests = 0;
    int delay_ms = 0;
    int finished = 0;
};

void on_closed(uv_handle_t*) {}  // Nothing to free: the Connection outlives the loop.

void finish(Connection& connection, std::string failure) {
    if (connection.outcome->finished) {
        return;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&connection.socket), on_closed);
    connection.outcome->finish(std::move(failure));
    Client& client = *connection.client;
    if (++client.finished == client.requests) {
        // Nothing left to wait for: with the timer closed too, uv_run has no more handles
        // and returns.
        uv_close(reinterpret_cast<uv_handle_t*>(&client.deadline), on_closed);
    }
}

// One buffer for every read: the loop runs on one thread and on_read copies what it
// needs before the next read can use the buffer again.
void give_buffer(uv_handle_t*, std::size_t, uv_buf_t* buffer) {
    static char storage[65536];
    *buffer = uv_buf_init(storage, sizeof storage);
}

void on_read(uv_stream_t* stream, ssize_t count, const uv_buf_t* buffer) {
    Connection& connection = *static_cast<Connection*>(stream->data);
    if (count > 0) {
        connection.received.append(buffer->base, static_cast<std::size_t>(count));
    } else if (count == UV_EOF) {  // The server sent everything and closed.
        finish(connection, scale::check_answer(connection.received, connection.index));
    } else if (count < 0) {
        finish(connection, std::string("read: ") + uv_strerror(static_cast<int>(count)));
    }
    // count == 0: nothing read this time (EAGAIN); libuv calls again when there is more.
}

void on_sent(uv_write_t* write, int status) {
    Connection& connection = *static_cast<Connection*>(write->data);
    if (status < 0) {
        finish(connection, std::string("write: ") + uv_strerror(status));
        return;
    }
    connection.outcome->sent_at = Clock::now();
    std::string().swap(connection.request);  // sent: give its memory back
    // Readiness underneath: libuv asks give_buffer for memory only when the socket has data,
    // so one buffer serves every connection.
    const int started =
        uv_read_start(reinterpret_cast<uv_stream_t*>(&connection.socket), give_buffer, on_read);
    if (started < 0) {
        finish(connection, std::string("uv_read_start: ") + uv_strerror(started));
    }
}

void on_connected(uv_connect_t* connect, int status) {
    Connection& connection = *static_cast<Connection*>(connect->data);
    if (status < 0) {
        finish(connection, std::string("connect: ") + uv_strerror(status));
        return;
    }
    // libuv does not copy the bytes: the request string must live until on_sent.
    connection.request = scale::build_request(connection.client->delay_ms, connection.index);
    const uv_buf_t buffer = uv_buf_init(connection.request.data(),
                                        static_cast<unsigned int>(connection.request.size()));
    const int started = uv_write(
        &connection.write, reinterpret_cast<uv_stream_t*>(&connection.socket), &buffer, 1, on_sent);
    if (started < 0) {
        finish(connection, std::string("uv_write: ") + uv_strerror(started));
    }
}

// Every wait is bounded: after the delay + 30 s the requests left are closed.
void on_deadline(uv_timer_t* timer) {
    Client& client = *static_cast<Client*>(timer->data);
    for (Connection& connection : client.connections) {
        finish(connection, "no answer within the delay + 30 s");  // those left
    }
}

int main(int argc, char** argv) {
    const scale::Options options =
        scale::parse_options(argc, argv, "bench-scale-libuv", "one thread in libuv's loop");
    std::vector<scale::Outcome> outcomes(static_cast<std::size_t>(options.requests));

    Client client;
    client.requests = options.requests;
    client.delay_ms = options.delay_ms;
    check(uv_loop_init(&client.loop), "uv_loop_init");
    check(uv_timer_init(&client.loop, &client.deadline), "uv_timer_init");
    client.deadline.data = &client;
    sockaddr_in server{};
    check(uv_ip4_addr(options.host.c_str(), options.port, &server), "uv_ip4_addr");

    const Clock::time_point start = Clock::now();
    for (int index = 0; index < options.requests; ++index) {
        Connection& connection = client.connections.emplace_back();
        connection.index = index;
        connection.outcome = &outcomes[static_cast<std::size_t>(index)];
        connection.client = &client;
        // The handle and each request carry a pointer back to their Connection.
        connection.socket.data = connection.connect.data = connection.write.data = &connection;
        check(uv_tcp_init(&client.loop, &connection.socket), "uv_tcp_init");
        const int started =
            uv_tcp_connect(&connection.connect, &connection.socket,
                           reinterpret_cast<const sockaddr*>(&server), on_connected);
        if (started < 0) {  // e.g. EMFILE: no descriptor left for the socket
            finish(connection, std::string("connect: ") + uv_strerror(started));
        }
    }
    if (client.finished < client.requests) {
        const auto limit = std::chrono::ceil<std::chrono::milliseconds>(options.time_limit());
        check(uv_timer_start(&client.deadline, on_deadline,
                             static_cast<std::uint64_t>(limit.count()), 0),
              "uv_timer_start");
    }
    check(uv_run(&client.loop, UV_RUN_DEFAULT), "uv_run");  // until no handle is left
    check(uv_loop_close(&client.loop), "uv_loop_close");
    return scale::print_summary(options, outcomes, start);
}
