// ch08-reactor-executor: five slow requests as C++20 coroutines, on a reactor and an executor.
//
// The book's chapter 8 on ch03-poll's Poll. The reactor (reactor.hpp) waits on Poll in its
// own thread and wakes the task waiting on each event's token; the executor (executor.hpp) runs
// the tasks on the main thread. A request is one task, read top to bottom: connect, write_all,
// read_to_end, print; each co_await on a socket (awaitables.hpp) suspends it until its event.
// ch03-poll's wait loop, which kept each stream's state by hand, is gone: a task's coroutine
// frame keeps it.
//
// Usage:    ch08-reactor-executor [--address HOST:PORT] [--requests N] [--step MS]
//                                 [--timeout MS] [--timeline]   (--help lists the defaults)
//           The delay server must be running: ./run-example ch08-reactor-executor starts one.
// Platform: wherever ch03-poll has a backend (on Linux also -io-uring and -kqueue).
//
// What to watch for: ch03-poll's output, request-4 first, request-0 last, in about the
// longest delay; each RECEIVED line names the thread that resumed the task: main.
#include <algorithm>
#include <vector>

#include "arguments_and_report.hpp"  // support/, on the include path of ch03-poll's Poll
#include "awaitables.hpp"

const char program_name[] = CH08_PROGRAM;  // starts every message; CMakeLists.txt names it
const char program_purpose[] = "as coroutines on a reactor and an executor";

// Reporting errors: every call is checked on the next line; a failure prints the OS's message.
[[noreturn]] void fail(std::string_view call, const std::string& message) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 message.c_str());
    std::exit(1);
}

// ----------------------------------------------------------------------------------------
// Connecting, sending, reading: coroutines that a request's task awaits
// ----------------------------------------------------------------------------------------

// Starts a non-blocking connect, and waits until the socket is writable: connected, or failed.
Task connect(TcpStream& stream, const Arguments& arguments) {
    std::string error;
    stream.socket = start_connect(arguments.host, arguments.port, error);
    if (!stream.socket.is_open()) {
        fail_to_connect(arguments.address, error);
    }
    co_await writable(stream);  // the first wait registers the socket
    if (const long result = connect_result(stream.socket); result != 0) {
        fail_to_connect(arguments.address, socket_error_message(result));
    }
}

// Sends all of `unsent`; when the socket's buffer is full, waits until it is writable (an
// event may be spurious: the loop just sends again).
Task write_all(TcpStream& stream, std::string unsent) {
    while (!unsent.empty()) {
        const long sent = send_some(stream.socket, unsent);
        if (sent == socket_failed) {
            fail("send", socket_error_message(last_socket_error()));
        } else if (sent == would_block) {
            co_await writable(stream);
        } else {
            unsent.erase(0, static_cast<std::size_t>(sent));
        }
    }
}

constexpr std::size_t read_buffer_size = 4096;  // one page: a whole answer fits

// Reads to the end of the stream; after "would block", waits until it is readable (an event
// may be spurious: the loop just reads again).
Task read_to_end(TcpStream& stream, StreamRecord& record) {
    char buffer[read_buffer_size];
    while (true) {
        const long count = receive_some(stream.socket, buffer);
        if (count > 0) {
            record.received.append(buffer, static_cast<std::size_t>(count));  // maybe partial
        } else if (count == would_block) {
            co_await readable(stream);
        } else if (count == 0) {
            if (stream.last_event.error) {  // libkqueue and Wine's AFD tell a reset to Poll
                const long why = failure_reason(stream.last_event, stream.socket.get());
                fail("recv", why != 0 ? socket_error_message(why)
                                      : "the connection failed (the event said error, and "
                                        "recv found only the end of the stream)");
            }
            co_return;  // End of file: the server sent everything and closed.
        } else {
            fail("recv", socket_error_message(last_socket_error()));
        }
    }
}

// ----------------------------------------------------------------------------------------
// The tasks, and the program
// ----------------------------------------------------------------------------------------

// The stream's last event, as Poll gave it to the reactor, and the thread that resumed the task.
std::string describe_event(const Event& event) {
    return "Event { token: " + std::to_string(event.token.value) +
           (event.readable ? ", readable" : "") + (event.writable ? ", writable" : "") +
           (event.closed ? ", closed" : "") + (event.error ? ", error" : "") + " }, resumed on " +
           this_thread_name;
}

// One request, top to bottom; its token is the stream's index, as in ch03-poll. GET
// /5000/request-0 asks the delay server to answer "request-0" after 5000 ms.
Task request(StreamRecord& record, std::size_t token, const Arguments& arguments) {
    TcpStream stream(Token{token});
    co_await connect(stream, arguments);
    co_await write_all(stream, build_request(record.request_path));  // arguments_and_report.hpp
    record.sent_at = Clock::now();
    co_await read_to_end(stream, record);
    record.finished = true;
    record.answered_at = Clock::now();
    print_response(token, record, describe_event(stream.last_event));
}  // the stream is deregistered, then closed

// The book's async_main: spawns a task per request and ends; block_on runs them all.
Task async_main(std::vector<StreamRecord>& streams, const Arguments& arguments) {
    std::printf("Sending %d requests to %s, each on its own connection:\n", arguments.requests,
                arguments.address.c_str());
    for (std::size_t index = 0; index < streams.size(); ++index) {
        const int delay_ms = (arguments.requests - static_cast<int>(index)) * arguments.step_ms;
        streams[index].request_path =
            '/' + std::to_string(delay_ms) + "/request-" + std::to_string(index);
        spawn(request(streams[index], index, arguments));  // runs when async_main is done
        std::printf("  stream %zu: GET %s\n", index, streams[index].request_path.c_str());
    }
    std::printf("Waiting for the answers: the reactor on its thread, the tasks on main...\n\n");
    std::fflush(stdout);
    co_return;
}

int main(int argc, char** argv) {
    this_thread_name = "main";
    const Arguments arguments = parse_arguments(argc, argv);
    const SocketLibrary socket_library;  // WSAStartup on Windows
    const Clock::time_point start = Clock::now();
    std::vector<StreamRecord> streams(static_cast<std::size_t>(arguments.requests));  // never moves
    // The executor first: it is destroyed last, after the reactor's thread, which wakes it.
    Executor executor;
    Reactor reactor;
    if (!executor.block_on(async_main(streams, arguments),
                           start + std::chrono::milliseconds(arguments.timeout_ms))) {
        const auto finished = std::ranges::count(streams, true, &StreamRecord::finished);
        std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                     static_cast<std::size_t>(finished), streams.size());
        std::exit(1);
    }
    const int result = print_summary(streams, arguments, Clock::now() - start);
    if (arguments.timeline) {
        print_timeline(streams, start);
    }
    return result;
}
