// delayserver/tests/harness.hpp: what every case of the delay server's test client uses.
//
// The client (delayserver-test.cpp) runs one case per run; the cases are in cases-*.cpp,
// one file per topic. This header declares what they share, defined in harness.cpp:
// reporting a failed check, blocking sockets with timeouts, reading and checking an HTTP
// answer, running the server program itself, and reading the server's log. Platform: POSIX.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace delayserver_test {

using namespace std::chrono_literals;

// Generous: no answer in these tests should take more than a second or two.
constexpr int receive_timeout_seconds = 10;

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

extern int failed_checks;  // the checks that failed so far; main's exit status says if any

// A call that must work for the test to mean anything: name it, give the OS's message, and
// end the test as failed.
[[noreturn]] void fail_with_os_error(const std::string& call);
[[noreturn]] void fail_now(const std::string& what);
void check(bool ok, const std::string& what);
void check_equal(const std::string& what, std::string_view expected, std::string_view actual);
// Shows control characters and line endings, so a failure message shows what was sent.
std::string visible(std::string_view text);

// ---------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------

// Owns a file descriptor and closes it when it goes out of scope.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&&) = delete;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor();
    int get() const {
        return fd_;
    }

  private:
    int fd_;
};

struct Address {
    std::string host;  // 127.0.0.1 or ::1 (without brackets)
    std::string port;
};

// HOST:PORT, or [HOST]:PORT for IPv6; nothing when the text is not of that shape.
std::optional<Address> parse_address(std::string_view text);
// A connected socket whose every blocking read and write gives up after the timeout.
FileDescriptor connect_to(const Address& address);
void send_text(const FileDescriptor& socket_fd, std::string_view text);
// Reads until the server closes the connection (HTTP/1.0-style framing: the server sends
// "connection: close" and closes after every answer).
std::string read_until_closed(const FileDescriptor& socket_fd);

// How a connection ended, for the cases where the server is meant to fail: what arrived
// before the end, and the error that ended it (0 for an orderly end of file).
struct Ending {
    std::string received;
    int error = 0;  // ECONNRESET for a reset, EAGAIN when nothing came within the timeout
};
Ending read_to_end(const FileDescriptor& socket_fd);
std::string describe(const Ending& ending);

// Each connection is a file descriptor; the abuse cases hold over a thousand at once, and
// the usual soft limit is 1024. An unprivileged process may raise it up to the hard limit.
void raise_open_file_limit(unsigned long wanted);

// ---------------------------------------------------------------------------------------
// HTTP answers
// ---------------------------------------------------------------------------------------

struct Answer {
    std::string status_line;
    std::vector<std::pair<std::string, std::string>> headers;  // in the order received
    std::string body;
};
Answer parse_answer(const std::string& raw);

// The request the book's examples send: HTTP/1.1, a Host header, Connection: close.
std::string get_request(std::string_view path);
// Sends `request` on a new connection and returns everything the server sent back.
std::string send_and_receive(const Address& address, std::string_view request);
// Checks the shape every answer shares (the headers in this order, lower case):
//   HTTP/1.1 200 OK / content-length / connection: close /
//   content-type: text/plain; charset=utf-8 / date: IMF-fixdate [/ allow: GET, HEAD for 405]
// then the status line and the body (none is sent when body_is_sent is false).
void check_answer(const std::string& request, const std::string& raw,
                  std::string_view expected_status_line, std::string_view expected_body,
                  bool body_is_sent = true);
// Sends a request and checks the whole answer.
void expect_answer(const Address& address, const std::string& request,
                   std::string_view expected_status_line, std::string_view expected_body);
// After abuse, a well-formed request must still be answered: with its whole delay, and not
// much later. The bound is generous on purpose (a loaded machine, a sanitizer): the check
// is that the server still works, not how fast it is.
constexpr std::chrono::milliseconds generous_bound = 5000ms;
void expect_delayed_answer(const Address& address, int delay_ms, const std::string& message);

// The bodies of the error answers more than one topic's cases expect.
inline const std::string not_found_body =
    "Nothing here: ask for /{delay_ms}/{message}, for example /2000/hello%20world.\n";
inline const std::string malformed_request_line_body =
    "Malformed request line: expected 'GET /{delay_ms}/{message} HTTP/1.1', with single "
    "spaces and a target of visible ASCII characters (percent-encode the others).\n";
inline const std::string bad_percent_body =
    "The message has a '%' that is not followed by two hexadecimal digits.\n";
// The start of a TLS ClientHello (someone asking for https:// of this plain HTTP server),
// and the answer to it.
inline const std::string tls_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
inline const std::string not_http_body =
    "The first byte, 0x16, cannot start an HTTP request line (0x16 starts a TLS handshake: "
    "this server speaks http://, not https://).\n";

// ---------------------------------------------------------------------------------------
// Running the server program itself (--help, bad options, a port in use, a stall)
// ---------------------------------------------------------------------------------------

struct ProgramRun {
    int exit_code = -1;  // -1 when it did not exit normally
    std::string out;
    std::string err;
};
// Runs a program with its standard output and error on pipes; kills it after 10 s.
ProgramRun run_program(const std::vector<std::string>& arguments);

// A server this program starts and stops itself (case fault-stall: it must stop on SIGTERM
// while a connection is still open, which with-delayserver cannot arrange, since it stops
// the server only after the client has exited). Its standard output and error come on one
// pipe, read line by line. A failed check ends the program with std::exit, which runs no
// destructor of a local object: an atexit handler then kills the server.
class RunningServer {
  public:
    explicit RunningServer(const std::vector<std::string>& arguments);
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;
    ~RunningServer();
    // The next line of output that contains `wanted` (the others are shown and skipped);
    // fails the test after 10 s or at the end of the output.
    std::string wait_for_line(std::string_view wanted);
    // Sends SIGTERM and returns the exit code (-1 when it did not exit normally); fails
    // the test if the server has not ended within 10 s.
    int stop();

  private:
    pid_t pid_ = -1;
    int output_ = -1;
    std::string pending_;  // output read but not yet returned as lines
};

// ---------------------------------------------------------------------------------------
// The server's log (written by with-delayserver --server-log)
// ---------------------------------------------------------------------------------------

// The complete lines of the log file (with-delayserver copies the server's output there
// as it comes, so the test waits until `wanted_lines` lines are there, for 10 s at most).
std::vector<std::string> wait_for_log_lines(const std::string& log_path, std::size_t wanted_lines);
// The log holds exactly these lines, in this order.
void check_log(const std::string& log_path, const std::vector<std::string>& expected);

// ---------------------------------------------------------------------------------------
// The cases: each topic's file (cases-*.cpp) gives its cases by name
// ---------------------------------------------------------------------------------------

struct Inputs {
    Address address;         // --address: the server to talk to
    std::string server;      // --server: the server program, for the cases that start it
    std::string server_log;  // --server-log: the file with-delayserver copies its log to
};

// What a case needs, as bits of Case::needs.
constexpr unsigned needs_address = 1;
constexpr unsigned needs_server = 2;
constexpr unsigned needs_server_log = 4;
constexpr unsigned needs_address_and_log = needs_address | needs_server_log;
constexpr unsigned needs_address_and_server = needs_address | needs_server;

struct Case {
    std::string_view name;
    unsigned needs;
    void (*run)(const Inputs&);
};

std::span<const Case> request_cases();     // cases-requests.cpp: what each request gets
std::span<const Case> connection_cases();  // cases-connections.cpp: timeouts, leaving, the log
std::span<const Case> program_cases();     // cases-program.cpp: the server program itself
std::span<const Case> fault_cases();       // cases-faults.cpp: --fault MODE
std::span<const Case> abuse_cases();       // cases-abuse.cpp: abuse, and closing everything

}  // namespace delayserver_test
