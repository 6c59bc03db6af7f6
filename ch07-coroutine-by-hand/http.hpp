// ch07-coroutine-by-hand/http.hpp: the book's http.rs: one HTTP GET as a leaf future.
//
// A leaf future does the real work: it owns a non-blocking socket, and each poll sends or
// reads what the OS takes or has now, and says "not ready" where the OS says "would block".
// No event queue tells it when to try again: the caller polls it again and again (chapter
// 8's reactor is what lets it sleep until the OS says so). The socket calls are ch03-poll's
// socket layer (sockets.hpp: BSD sockets or Winsock), linked through the build.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "delay_server_client.hpp"  // support/: build_request, fail_to_connect
#include "future.hpp"
#include "sockets.hpp"  // ch03-poll's: Socket, start_connect, send_some, receive_some

extern const char program_name[];  // the program's name starts every message

// The book writes "127.0.0.1:8080" in http.rs; here main sets it from --address.
struct DelayServer {
    std::string address = "localhost:8080";
    std::string host = "localhost";
    std::string port = "8080";
};
inline DelayServer delay_server;

[[noreturn]] inline void fail(std::string_view call, const std::string& message) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 message.c_str());
    std::exit(1);
}

// The book's HttpGetFuture: start the operation on the first poll, then read to the end.
class HttpGetFuture : public Future {
  public:
    explicit HttpGetFuture(std::string path) : path(std::move(path)) {}

    PollState poll() override {
        if (!stream.is_open()) {
            std::puts("FIRST POLL - START OPERATION");
            std::string error;
            stream = start_connect(delay_server.host, delay_server.port, error);
            if (!stream.is_open()) {
                fail_to_connect(delay_server.address, error);
            }
            unsent = build_request(path);
            return not_ready;  // the book sends here; our connect is still under way
        }
        if (!unsent.empty() && !send_request()) {
            return not_ready;
        }
        char chunk[4096];
        while (true) {  // read until the OS has nothing more for now, or the stream ends
            const long count = receive_some(stream, chunk);
            if (count > 0) {
                buffer.append(chunk, static_cast<std::size_t>(count));
            } else if (count == 0) {
                return buffer;  // End of file: the server sent everything and closed.
            } else if (count == would_block) {
                return not_ready;
            } else {
                fail("recv", socket_error_message(last_socket_error()));
            }
        }
    }

  private:
    // Sends what the socket takes now; true once the whole request is sent.
    bool send_request() {
        if (const long result = check_connect(stream); result == connect_under_way) {
            return false;
        } else if (result != 0) {
            fail_to_connect(delay_server.address,
                            socket_error_message(result));  // refused: no server there
        }
        const long sent = send_some(stream, unsent);
        if (sent == socket_failed) {
            fail("send", socket_error_message(last_socket_error()));
        } else if (sent != would_block) {
            unsent.erase(0, static_cast<std::size_t>(sent));
        }
        return unsent.empty();
    }

    std::string path;    // "/600/HelloWorld1"
    Socket stream;       // the book's Option<TcpStream>: closed until the first poll
    std::string unsent;  // what of the request the socket has not taken yet
    std::string buffer;  // the answer so far
};

// The book's get_path(i) (ch07/b-async-await): "/0/HelloWorld0", "/1000/HelloWorld1", ...
// (Appended piece by piece: GCC 12 at -O3 warns falsely on "/" + std::string, its bug 105329.)
inline std::string get_path(int index) {
    std::string path = "/";
    path += std::to_string(index * 1000);
    path += "/HelloWorld";
    path += std::to_string(index);
    return path;
}

// The book's Http::get(path).
inline FuturePointer http_get(std::string path) {
    return std::make_unique<HttpGetFuture>(std::move(path));
}
