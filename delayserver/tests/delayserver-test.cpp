// delayserver/tests/delayserver-test.cpp: the client the delay server's CTest tests run.
//
// What it does: one case per run, chosen by name, each asserting exact bytes (status
// line, headers in their order, body; the date is the one part that varies) and order.
// Most cases talk to a server that tools/with-delayserver started on a free port
// (--address); the others start the server program themselves (--server), to stop it
// with a signal or to give it a small open-file limit. What the server logs is checked by
// the CTest test (CMakeLists.txt), from its standard error. Starting a server, waiting for
// it and saying what failed (exit code 2) are tools/run-captured.h's, as for the test tools.
//
// Usage: delayserver-test CASE [--address HOST:PORT] [--server PATH]   (--help lists CASEs)
// Platform: POSIX.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>

#include "command_line.hpp"
#include "run-captured.h"  // spawn_program, wait_for, how_it_ended, fail, ...

const char tool_name[] = "delayserver-test";

namespace {

// Shows line ends and other control bytes, so that a failure shows what was sent.
std::string visible(const std::string& text) {
    std::string shown;
    for (const char c : text) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned char>(c));
        shown += c == '\r'                ? "\\r"
                 : c == '\n'              ? "\\n"
                 : (c < ' ' || c == 0x7f) ? escape
                                          : std::string(1, c);
    }
    return shown;
}

void check_equal(const std::string& what, const std::string& expected, const std::string& actual) {
    if (expected != actual) {
        fail(what + ":\n  expected \"" + visible(expected) + "\"\n  received \"" + visible(actual) +
             "\"");
    }
}

// A connected socket, closed when it goes out of scope. Every read gives up after 10 s
// (then it reports EAGAIN), so no case can hang.
struct Socket {
    int fd;
    explicit Socket(const std::string& address) : fd(socket(AF_INET, SOCK_STREAM, 0)) {
        const std::size_t colon = address.rfind(':');
        sockaddr_in server{};
        server.sin_family = AF_INET;
        server.sin_port = htons(static_cast<std::uint16_t>(std::atoi(address.c_str() + colon + 1)));
        const timeval timeout{10, 0};
        if (fd < 0 || inet_pton(AF_INET, address.substr(0, colon).c_str(), &server.sin_addr) != 1 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
            connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
            fail_with_os_error("connect to " + address);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        close(fd);
    }

    void send(const std::string& bytes) const {
        if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(bytes.size())) {
            fail_with_os_error("send");
        }
    }
    // Everything until the server closes; `error` is how it ended: 0 for end-of-file,
    // ECONNRESET for a reset, EAGAIN when nothing more came for 10 s.
    std::string receive_all(int* error = nullptr) const {
        std::string received;
        char buffer[4096];
        ssize_t count;
        while ((count = recv(fd, buffer, sizeof buffer, 0)) > 0) {
            received.append(buffer, static_cast<std::size_t>(count));
        }
        if (error) {
            *error = count == 0 ? 0 : errno;
        } else if (count < 0) {
            fail("recv after \"" + visible(received) +
                 "\": " + (errno == EAGAIN ? "nothing more for 10 s" : std::strerror(errno)));
        }
        return received;
    }
};

std::string get(const std::string& path, const std::string& method = "GET") {
    return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

// The answer's date, "Thu, 26 Nov 2026 03:40:00 GMT", checked for its shape and replaced
// by DATE, so that the rest can be compared byte for byte.
std::string with_date_masked(std::string answer) {
    const std::size_t start = answer.find("\r\ndate: ");
    const std::size_t end = answer.find("\r\n", start + 2);
    if (start == std::string::npos || end - start - 8 != 29 ||
        answer.compare(end - 4, 4, " GMT") != 0) {
        fail("no date header of the IMF-fixdate shape in \"" + visible(answer) + "\"");
    }
    return answer.replace(start + 8, 29, "DATE");
}

// What the server sends: the status line, the four headers in this order, `allow` for
// a 405, then the body unless it answers HEAD.
std::string answer(const std::string& status_line, const std::string& body, bool send_body = true) {
    return "HTTP/1.1 " + status_line + "\r\ncontent-length: " + std::to_string(body.size()) +
           "\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ndate: DATE\r\n" +
           (status_line.starts_with("405") ? "allow: GET, HEAD\r\n" : "") + "\r\n" +
           (send_body ? body : "");
}

void expect(const std::string& address, const std::string& request, const std::string& expected) {
    const Socket socket(address);
    socket.send(request);
    check_equal("the answer to \"" + visible(request) + "\"", expected,
                with_date_masked(socket.receive_all()));
}

// The request the examples send, and its answer.
const std::string hello_request = get("/50/hello%20world");
const std::string hello_answer = answer("200 OK", "hello world");

std::string bad_request(const std::string& sentence) {
    return answer("400 Bad Request", sentence);
}
std::string bad_delay(const std::string& delay, int max_delay_ms) {
    return bad_request("The delay '" + delay +
                       "' is not a whole number of milliseconds from 0 to " +
                       std::to_string(max_delay_ms) + ".\n");
}

// A client that sends part of a head and no more gets 408 after the idle timeout.
void expect_request_timeout(const std::string& address, int idle_timeout_ms) {
    expect(address, "GET /50/x HTTP/1.1\r\nHost: loc",
           answer("408 Request Timeout", "The request head did not arrive within " +
                                             std::to_string(idle_timeout_ms) + " ms.\n"));
}

const std::string not_found =
    "Nothing here: ask for /{delay_ms}/{message}, for example /2000/hello%20world.\n";
const std::string tls_client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

// A server this program starts itself, with its standard output on a pipe. The pipe stays
// open, unread after the first line, so that the server's log never fails to be written.
struct Server {
    pid_t pid = -1;
    int output = -1;
    std::string address;  // from its first line, "listening on HOST:PORT"
};

Server start_server(const std::vector<std::string>& arguments) {
    int pipe_ends[2];
    make_pipe(pipe_ends);
    Server server{spawn_program(arguments, {{pipe_ends[1], STDOUT_FILENO}}), pipe_ends[0], ""};
    close(pipe_ends[1]);
    std::string output;
    while (output.find('\n') == std::string::npos && read_more(server.output, output)) {
    }
    if (output.starts_with("listening on ")) {  // else it exited, as with a port in use
        server.address = output.substr(13, output.find('\n') - 13);
    }
    return server;
}

// For an OS call that returns 0, or -1 with errno set when it fails.
void check_call(int result, const std::string& call) {
    if (result != 0) {
        fail_with_os_error(call);
    }
}

// Sends the server `signal_number` and waits for it: how it ended ("exit code 0", ...).
std::string stop(const Server& server, int signal_number) {
    check_call(kill(server.pid, signal_number), "kill");
    return how_it_ended(wait_for(server.pid));
}

// ---------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------

struct Inputs {
    std::string address;  // the server with-delayserver started
    std::string server;   // the server program, for the cases that start it
};

// The request shape the examples send: the message is percent-decoded. (The test checks
// the log line "#1 - 50ms: hello world".)
void case_ok(const Inputs& in) {
    expect(in.address, hello_request, hello_answer);
}

// Run with --host=0.0.0.0: it listens on every interface, and its first line says so.
void case_host(const Inputs& in) {
    check_equal("the address it listens on", "0.0.0.0",
                in.address.substr(0, in.address.rfind(':')));
    case_ok(in);
}

// Sent 300, 200, 100 ms, in that order, on three connections: answered in reverse order.
void case_ordering(const Inputs& in) {
    std::vector<std::unique_ptr<Socket>> sockets;
    std::vector<pollfd> waiting;
    for (const int delay : {300, 200, 100}) {
        sockets.push_back(std::make_unique<Socket>(in.address));
        sockets.back()->send(get("/" + std::to_string(delay) + "/d" + std::to_string(delay)));
        waiting.push_back(pollfd{sockets.back()->fd, POLLIN, 0});
    }
    std::string order;
    while (order.size() < 3 * 5) {
        if (poll(waiting.data(), waiting.size(), 10000) <= 0) {
            fail("no answer within 10 s; answered so far: " + order);
        }
        for (std::size_t index = 0; index < waiting.size(); ++index) {
            if (waiting[index].revents != 0) {
                const std::string received = sockets[index]->receive_all();
                order += received.substr(received.size() - 4) + " ";
                waiting[index].fd = -1;  // poll ignores it from now on
            }
        }
    }
    check_equal("the order of the answers", "d100 d200 d300 ", order);
}

// HEAD, as `curl -I` sends it: GET's headers after the delay, content-length included,
// no body.
void case_head(const Inputs& in) {
    expect(in.address, get("/100/x", "HEAD"), answer("200 OK", "x", false));
}

// Every malformed, oversized or non-HTTP request gets its 4xx and its one sentence.
void case_refusals(const Inputs& in) {
    for (const std::string delay : {"abc", "-5", "1001", "99999999999999999999"}) {
        expect(in.address, get("/" + delay + "/x"), bad_delay(delay, 1000));
    }
    expect(in.address, get("/1000/at-most"), answer("200 OK", "at-most"));
    expect(in.address, get("/50/%zz"),
           bad_request("The message has a '%' not followed by two hexadecimal digits.\n"));
    for (const std::string path : {"/", "/hello", "/50/", "//x", "/50/a/b", "/favicon.ico"}) {
        expect(in.address, get(path), answer("404 Not Found", not_found));
    }
    expect(in.address, get("/50/x", "POST"),
           answer("405 Method Not Allowed",
                  "Method 'POST' is not allowed: this server answers GET and HEAD only.\n"));
    const std::string malformed_line =
        bad_request("Malformed request line: expected 'GET /{delay_ms}/{message} HTTP/1.1'.\n");
    for (const std::string line :
         {"GET /50/x  HTTP/1.1", "get /50/x HTTP/1.1", "GET /50/x", "GET /50/\x01 HTTP/1.1"}) {
        expect(in.address, line + "\r\nHost: localhost\r\n\r\n", malformed_line);
    }
    expect(in.address, "GET /50/x HTTP/2.0\r\nHost: localhost\r\n\r\n",
           bad_request("This server speaks HTTP/1.0 and HTTP/1.1 only.\n"));
    expect(in.address, "GET /50/x HTTP/1.1\r\nHost localhost\r\n\r\n",
           bad_request("Malformed header line: expected 'Name: value'.\n"));
    expect(in.address, "GET /50/x HTTP/1.1\r\n\r\n",
           bad_request("An HTTP/1.1 request must have a Host header.\n"));
    expect(in.address, "GET /50/http10 HTTP/1.0\r\n\r\n", answer("200 OK", "http10"));  // no Host
    // A head that goes on past 8 KiB: 431 (the server lingers, so the client reads it all).
    expect(
        in.address, get("/50/" + std::string(9000, 'x')),
        answer("431 Request Header Fields Too Large", "The request head is larger than 8 KiB.\n"));
    // A TLS ClientHello, with no end of head ever: 400 at once. The server runs with a
    // 10-minute idle timeout, so waiting for more would time this client's read out.
    expect(
        in.address, tls_client_hello,
        bad_request("This server speaks http://, not https:// (0x16 starts a TLS handshake).\n"));
    expect(in.address, "\r\n" + get("/50/x"),
           bad_request("Not HTTP: a request starts with a method.\n"));
}

// A second request behind the first, on the same connection: never answered.
void case_pipelined(const Inputs& in) {
    expect(in.address, get("/50/first") + get("/0/second"), answer("200 OK", "first"));
}

// Run with --idle-timeout-ms=300: a silent client is closed without a byte; one that sent
// part of a head gets 408.
void case_idle_timeout(const Inputs& in) {
    check_equal("what a silent client receives", "", Socket(in.address).receive_all());
    expect_request_timeout(in.address, 300);
}

// A client that leaves during its delay; the next request is still answered (the test
// checks that both were logged).
void case_client_leaves(const Inputs& in) {
    {
        const Socket socket(in.address);
        socket.send(get("/2000/gone"));
        usleep(300 * 1000);  // time for the server to read it: without it, it leaves earlier
    }
    expect(in.address, get("/0/next"), answer("200 OK", "next"));
}

// --fault MODE, byte for byte, instead of hello_answer.
void expect_ending(const Inputs& in, const std::string& expected, int expected_error) {
    const Socket socket(in.address);
    socket.send(hello_request);
    int error = 0;
    const std::string received = socket.receive_all(&error);
    check_equal(
        "what came", expected,
        received.find("\r\ndate: ") == std::string::npos ? received : with_date_masked(received));
    check_equal("how it ended", std::strerror(expected_error), std::strerror(error));
}
void case_fault_reset(const Inputs& in) {
    expect_ending(in, "", ECONNRESET);
}
void case_fault_garbage(const Inputs& in) {
    expect_ending(in, "this is not HTTP\r\n", 0);
}
void case_fault_truncate(const Inputs& in) {
    expect_ending(in, hello_answer.substr(0, hello_answer.size() - 6), 0);  // "hello": 5 of 11
}
void case_fault_close(const Inputs& in) {
    expect_ending(in, "", 0);
}

// --fault stall: nothing, the connection stays open; SIGTERM still stops the server.
void case_fault_stall(const Inputs& in) {
    const Server server = start_server({in.server, "--port", "0", "--fault", "stall"});
    const Socket socket(server.address);
    socket.send(get("/50/stalled"));
    pollfd readable{socket.fd, POLLIN, 0};
    if (poll(&readable, 1, 1000) != 0) {
        fail("something came, or the connection ended, instead of a stall");
    }
    check_equal("how it ended after SIGTERM", "exit code 0", stop(server, SIGTERM));
}

// Ctrl+C stops it too, with exit status 0.
void case_sigint(const Inputs& in) {
    const Server server = start_server({in.server, "--port", "0"});
    check_equal("how it ended after SIGINT", "exit code 0", stop(server, SIGINT));
}

// A second server on the port of the first exits with 1 (the test checks its message).
void case_port_in_use(const Inputs& in) {
    const Server first = start_server({in.server, "--port", "0"});
    const std::string port = first.address.substr(first.address.rfind(':') + 1);
    const Server second = start_server({in.server, "--port", port});
    check_equal("how the second server ended", "exit code 1", how_it_ended(wait_for(second.pid)));
    stop(first, SIGTERM);
}

// Two thousand connections waiting at once, on a server started with a soft open-file
// limit of 1024: it must raise its limit, or accept fails (the test checks that it never
// says so). bench/ runs the same with ten thousand.
void case_many_waiting(const Inputs& in) {
    constexpr int connection_count = 2000;
    rlimit limit{};
    check_call(getrlimit(RLIMIT_NOFILE, &limit), "getrlimit");
    if (limit.rlim_max < connection_count + 100) {
        fail("the hard open-file limit is below " + std::to_string(connection_count + 100));
    }
    const rlim_t own_soft_limit = limit.rlim_cur;
    limit.rlim_cur = 1024;  // what the server inherits
    check_call(setrlimit(RLIMIT_NOFILE, &limit), "setrlimit");
    const Server server = start_server({in.server, "--port", "0"});
    limit.rlim_cur = std::max<rlim_t>(own_soft_limit, connection_count + 100);
    check_call(setrlimit(RLIMIT_NOFILE, &limit), "setrlimit");
    std::vector<std::unique_ptr<Socket>> sockets;
    for (int index = 0; index < connection_count; ++index) {
        sockets.push_back(std::make_unique<Socket>(server.address));
        sockets.back()->send(get("/1000/c" + std::to_string(index)));
    }
    for (int index = 0; index < connection_count; ++index) {
        check_equal("answer " + std::to_string(index),
                    answer("200 OK", "c" + std::to_string(index)),
                    with_date_masked(sockets[static_cast<std::size_t>(index)]->receive_all()));
    }
    stop(server, SIGTERM);
}

// Run under valgrind --track-fds=yes (--idle-timeout-ms=1000): one connection for each way
// a connection ends in the server, so that every path that closes a socket runs. Its
// output is compared with expected-closes-everything.txt.
void case_closes_everything(const Inputs& in) {
    expect(in.address, get("/50/answered"), answer("200 OK", "answered"));
    std::printf("answered\n");
    expect(in.address, get("/abc/x"), bad_delay("abc", 60000));
    std::printf("refused\n");
    expect_request_timeout(in.address, 1000);
    std::printf("timed out\n");
    check_equal("what a silent client receives", "", Socket(in.address).receive_all());
    std::printf("silent, closed by the server\n");
    { const Socket socket(in.address); }
    std::printf("left at once\n");
    case_client_leaves(in);
    std::printf("left during its delay\n");
}

}  // namespace

int main(int argc, char** argv) {
    const std::map<std::string, std::function<void(const Inputs&)>> cases = {
        {"ok", case_ok},
        {"host", case_host},
        {"ordering", case_ordering},
        {"head", case_head},
        {"refusals", case_refusals},
        {"pipelined", case_pipelined},
        {"idle-timeout", case_idle_timeout},
        {"client-leaves", case_client_leaves},
        {"fault-reset", case_fault_reset},
        {"fault-garbage", case_fault_garbage},
        {"fault-truncate", case_fault_truncate},
        {"fault-close", case_fault_close},
        {"fault-stall", case_fault_stall},
        {"sigint", case_sigint},
        {"port-in-use", case_port_in_use},
        {"many-waiting", case_many_waiting},
        {"closes-everything", case_closes_everything},
    };
    std::vector<std::string> names;
    for (const auto& [name, run] : cases) {
        names.push_back(name);
    }
    Inputs in;
    std::string case_name;
    CLI::App app("delayserver-test: the client of the delay server's tests; runs one case.",
                 "delayserver-test");
    app.add_option("case", case_name, "the case to run")->required()->check(CLI::IsMember(names));
    app.add_option("--address", in.address, "a running server (IPv4)")->option_text("HOST:PORT");
    app.add_option("--server", in.server, "the server program, for the cases that start it")
        ->option_text("PATH");
    parse_command_line(app, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    cases.at(case_name)(in);
    return 0;
}
