// ch03-poll: five slow requests, one thread, one Poll; the same program on every OS.
//
// ch03-epoll's story on the chapter's common denominator, not one OS's queue: poll.hpp's
// Poll, Registry, Token and Interest, named as in the book's chapter 4 and mio, and called
// by those names here (register_source, reregister, deregister). The build
// picks the backend (epoll on Linux, kqueue on macOS and the BSDs, AFD polls on Windows; on
// Linux also io_uring and libkqueue); the socket calls that differ are in sockets.hpp.
//
// Each connection is made without blocking, and that is where reregister comes in: a socket
// is registered writable, which it becomes when its connect completes; the request is sent
// then, and the socket is re-registered readable, for the answer. Every registration is
// one-shot (poll.hpp says why): after each event the socket is re-armed.
//
// In reading order: main (create the Poll, connect, register), the wait loop (poll, send or
// read, reregister), reading a stream; then connecting and sending, and reporting errors,
// which support the story and which a first reading may skip.
//
// Usage:    ch03-poll [--address HOST:PORT] [--requests N] [--step MS] [--timeout MS]
//                     [--timeline]           (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-poll starts one.
// Platform: Linux (also ch03-poll-io-uring, ch03-poll-kqueue), macOS, the BSDs, Windows.
//
// What to watch for: ch03-epoll's output: request-4 first, request-0 last, in about the
// longest delay; and the same output from every backend.
#include <utility>
#include <vector>

#include "arguments_and_report.hpp"  // also <chrono>, <cstdio>, <cstdlib>, <string>, <string_view>
#include "poll.hpp"
#include "sockets.hpp"

// ch03-poll, or ch03-poll-io-uring, ch03-poll-kqueue: CMakeLists.txt names each program.
const char program_name[] = CH03_POLL_PROGRAM;  // starts every message
const char program_purpose[] = "answered through one Poll, the same on every OS";

// One connection to the delay server: its socket, and what it asked and got (StreamRecord).
struct Stream : StreamRecord {
    Socket socket;
    std::string unsent;  // the request, until the socket has taken all of it
};

// Defined below the story, in the order a reader meets them.
void wait_loop(Poll& poll, std::vector<Stream>& streams, const Arguments& arguments,
               Clock::time_point deadline);
bool read_stream(Stream& stream);
Socket connect_to(const Arguments& arguments);
bool send_all(Stream& stream, const Arguments& arguments);
[[noreturn]] void fail(std::string_view call, const std::string& message);

// ----------------------------------------------------------------------------------------
// The program
// ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    const Arguments arguments = parse_arguments(argc, argv);
    const SocketLibrary socket_library;  // WSAStartup on Windows
    const Clock::time_point start = Clock::now();
    Made<Poll> made = Poll::open();  // the OS's queue, behind Poll: made, or why not
    if (!made) {
        fail("Poll", describe(made.error()));
    }
    Poll& poll = *made;

    std::vector<Stream> streams;
    std::printf("Sending %d requests to %s, each on its own connection:\n", arguments.requests,
                arguments.address.c_str());
    for (int index = 0; index < arguments.requests; ++index) {
        const int delay_ms = (arguments.requests - index) * arguments.step_ms;
        Stream stream{StreamRecord{}, connect_to(arguments), ""};
        stream.request_path = '/' + std::to_string(delay_ms) + "/request-" + std::to_string(index);
        stream.unsent = build_request(stream.request_path);
        // Report once when the connect is done (the socket turns writable), with the token
        // (the stream's index in the stream list) to tell which stream: the request is sent
        // then (wait_loop).
        if (const PollError error = poll.registry().register_source(
                stream.socket.get(), Token{streams.size()}, Interest{.writable = true})) {
            fail("register", describe(error));
        }
        std::printf("  stream %d: GET %s\n", index, stream.request_path.c_str());
        streams.push_back(std::move(stream));
    }
    std::printf("Waiting for the answers on one thread...\n\n");
    std::fflush(stdout);

    wait_loop(poll, streams, arguments, start + std::chrono::milliseconds(arguments.timeout_ms));
    const int result = print_summary(streams, arguments, Clock::now() - start);
    if (arguments.timeline) {
        print_timeline(streams, start);
    }
    return result;
}

// ----------------------------------------------------------------------------------------
// The wait loop
// ----------------------------------------------------------------------------------------

// Events taken per poll: the five streams of a run fit; any more wait for the next.
constexpr std::size_t max_events_per_wait = 16;

// What Poll handed back for the stream's last event, in Poll's own terms: the same on every
// backend (the book prints mio's Event; ch03-epoll prints the epoll_event under it).
std::string describe_event(const Event& event) {
    return "Event { token: " + std::to_string(event.token.value) +
           (event.readable ? ", readable" : "") + (event.writable ? ", writable" : "") +
           (event.closed ? ", closed" : "") + (event.error ? ", error" : "") + " }";
}

void wait_loop(Poll& poll, std::vector<Stream>& streams, const Arguments& arguments,
               Clock::time_point deadline) {
    std::size_t finished_streams = 0;
    Events events(max_events_per_wait);
    while (finished_streams < streams.size()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        // Sleeps until at least one registration has an event, or the time is up: no events
        // means that. A signal is not an error: poll waits again by itself.
        if (const PollError error = poll.poll(events, left)) {
            fail("poll", describe(error));
        }
        if (events.list.empty()) {
            std::fprintf(stderr, "%s: timed out with %zu of %zu responses\n", program_name,
                         finished_streams, streams.size());
            std::exit(1);
        }
        for (const Event& event : events.list) {
            const std::size_t token = event.token.value;
            Stream& stream = streams[token];
            Interest next = {.readable = true};
            if (!stream.unsent.empty()) {
                // Writable: connected. Send, then wait for the answer (or for room to send the
                // rest): the same socket, re-armed for another interest.
                next = send_all(stream, arguments) ? next : Interest{.writable = true};
            } else if (read_stream(stream)) {  // may be spurious: it reads to "would block"
                if (event.error) {  // libkqueue and Wine's AFD tell a reset to Poll, not to recv
                    const long why = failure_reason(event, stream.socket.get());  // poll.hpp
                    fail("recv", why != 0 ? socket_error_message(why)
                                          : "the connection failed (the event said error, and "
                                            "recv found only the end of the stream)");
                }
                stream.finished = true;
                stream.answered_at = Clock::now();
                ++finished_streams;
                print_response(token, stream, describe_event(event));
                // Deregistered before its socket is closed (at the end of main).
                if (const PollError error = poll.registry().deregister(stream.socket.get())) {
                    fail("deregister", describe(error));
                }
                continue;
            }
            // One-shot: nothing more is reported for this socket until it is re-armed, here
            // for the answer (or for room to send the rest of the request).
            if (const PollError error =
                    poll.registry().reregister(stream.socket.get(), Token{token}, next)) {
                fail("reregister", describe(error));
            }
        }
    }
}

// ----------------------------------------------------------------------------------------
// Reading a stream
// ----------------------------------------------------------------------------------------

// One page: a whole answer of the delay server fits, and we read until "would block" anyway.
constexpr std::size_t read_buffer_size = 4096;

// Reads everything the stream has for us, until the socket says "would block" ("nothing more
// for now"): an event may be spurious, and what is left unread would not be reported until
// the re-arm. Returns true when the stream reached end of file just now.
bool read_stream(Stream& stream) {
    char buffer[read_buffer_size];
    while (true) {
        const long count = receive_some(stream.socket, buffer);
        if (count > 0) {
            stream.received.append(buffer, static_cast<std::size_t>(count));  // maybe partial
            continue;
        }
        if (count == 0) {
            return true;  // End of file: the server sent everything and closed.
        }
        if (count == would_block) {
            return false;  // Read all there is for now; re-arm and wait for the next event.
        }
        fail("recv", socket_error_message(last_socket_error()));
    }
}

// ----------------------------------------------------------------------------------------
// Connecting and sending
// ----------------------------------------------------------------------------------------

// Starts a non-blocking connect to host:port: it goes on in the kernel, and the socket is
// reported writable when it is done (or failed).
Socket connect_to(const Arguments& arguments) {
    std::string error;
    Socket socket = start_connect(arguments.host, arguments.port, error);
    if (!socket.is_open()) {
        fail_to_connect(arguments.address, error);
    }
    return socket;
}

// Sends what the socket takes now; true when all of it is sent (the time is noted for the
// timeline). A connect that failed shows here: the delay server is not there.
bool send_all(Stream& stream, const Arguments& arguments) {
    if (const long error = connect_result(stream.socket); error != 0) {
        fail_to_connect(arguments.address, socket_error_message(error));
    }
    while (!stream.unsent.empty()) {
        const long sent = send_some(stream.socket, stream.unsent);
        if (sent == would_block) {
            return false;  // The socket's buffer is full: the rest when it is writable again.
        }
        if (sent == socket_failed) {
            fail("send", socket_error_message(last_socket_error()));
        }
        stream.unsent.erase(0, static_cast<std::size_t>(sent));
    }
    stream.sent_at = Clock::now();
    return true;
}

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

void print_error(std::string_view call, const std::string& message) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 message.c_str());
}

// Every call is checked on the next line; a failure prints the OS's own message.
[[noreturn]] void fail(std::string_view call, const std::string& message) {
    print_error(call, message);
    std::exit(1);
}
