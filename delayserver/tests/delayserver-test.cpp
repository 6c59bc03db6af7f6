// delayserver/tests/delayserver-test.cpp: the delay server's test client, one case per run.
//
// What it shows: what the delay server promises, as a client sees it: exact status lines,
// headers and bodies, answers arriving in the order their delays end, errors for bad input,
// a server that carries on when clients misbehave (a thousand idle connections, a burst of
// malformed requests), and exactly the faults its --fault modes promise. It speaks HTTP
// over plain blocking POSIX sockets; every read has a timeout (SO_RCVTIMEO), so a broken
// server makes a test fail, never hang.
//
// Usage (CMakeLists.txt registers one CTest test per case):
//   delayserver-test CASE [--address HOST:PORT] [--server PATH] [--server-log FILE]
//   with-delayserver --server delayserver -- delayserver-test ok --address {address}
// --address is the server to talk to (with-delayserver replaces {address}); --server-log
// is the file with-delayserver copies the server's log to (same option there); --server
// is the server program, for the cases that start it themselves. `delayserver-test --help`
// lists the cases and what each needs.
//
// Output: one line per request and what came back; "FAILED: ..." lines for every check
// that failed; exit status 0 when all checks passed, 1 otherwise, 2 for bad usage.
//
// Platform: POSIX (Linux, macOS).
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "run-captured.h"

namespace {

using namespace std::chrono_literals;

// Generous: no answer in these tests should take more than a second or two.
constexpr int receive_timeout_seconds = 10;

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

int failed_checks = 0;

// A call that must work for the test to mean anything: name it, give the OS's message, and
// end the test as failed.
[[noreturn]] void fail_with_os_error(const std::string& call) {
    std::printf("FAILED: %s: %s\n", call.c_str(), std::strerror(errno));
    std::exit(1);
}

[[noreturn]] void fail_now(const std::string& what) {
    std::printf("FAILED: %s\n", what.c_str());
    std::exit(1);
}

void check(bool ok, const std::string& what) {
    if (!ok) {
        std::printf("FAILED: %s\n", what.c_str());
        ++failed_checks;
    }
}

// Shows control characters and line endings, so a failure message shows what was sent.
std::string visible(std::string_view text) {
    std::string shown;
    for (const char c : text) {
        if (c == '\r') {
            shown += "\\r";
        } else if (c == '\n') {
            shown += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\x%02X", static_cast<unsigned char>(c));
            shown += escape;
        } else {
            shown += c;
        }
    }
    return shown;
}

void check_equal(const std::string& what, std::string_view expected, std::string_view actual) {
    check(expected == actual,
          what + ": expected \"" + visible(expected) + "\", got \"" + visible(actual) + "\"");
}

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
    ~FileDescriptor() {
        if (fd_ >= 0 && close(fd_) != 0) {
            std::printf("warning: close: %s\n", std::strerror(errno));
        }
    }
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
std::optional<Address> parse_address(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    if (host.starts_with('[') && host.ends_with(']')) {
        host = host.substr(1, host.size() - 2);  // [::1]:40123
    }
    return Address{std::string(host), std::string(text.substr(colon + 1))};
}

FileDescriptor connect_to(const Address& address) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;  // an address, never a name lookup
    addrinfo* found = nullptr;
    const int lookup_error =
        getaddrinfo(address.host.c_str(), address.port.c_str(), &hints, &found);
    if (lookup_error != 0) {
        fail_now("getaddrinfo " + address.host + ": " + gai_strerror(lookup_error));
    }
    FileDescriptor socket_fd(socket(found->ai_family, found->ai_socktype, found->ai_protocol));
    if (socket_fd.get() < 0) {
        freeaddrinfo(found);
        fail_with_os_error("socket");
    }
    const int connect_result = connect(socket_fd.get(), found->ai_addr, found->ai_addrlen);
    const int connect_errno = errno;
    freeaddrinfo(found);
    if (connect_result != 0) {
        errno = connect_errno;
        fail_with_os_error("connect " + address.host + ":" + address.port);
    }
    // Every blocking read and write gives up after the timeout (recv then fails with EAGAIN).
    timeval timeout{};
    timeout.tv_sec = receive_timeout_seconds;
    if (setsockopt(socket_fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        fail_with_os_error("setsockopt SO_RCVTIMEO");
    }
    if (setsockopt(socket_fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0) {
        fail_with_os_error("setsockopt SO_SNDTIMEO");
    }
    return socket_fd;
}

void send_text(const FileDescriptor& socket_fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t sent = send(socket_fd.get(), text.data(), text.size(), 0);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent < 0) {
            fail_with_os_error("send");
        }
        text.remove_prefix(static_cast<std::size_t>(sent));
    }
}

// Reads until the server closes the connection (HTTP/1.0-style framing: the server sends
// "connection: close" and closes after every answer).
std::string read_until_closed(const FileDescriptor& socket_fd) {
    std::string received;
    char buffer[4096];
    while (true) {
        const ssize_t count = recv(socket_fd.get(), buffer, sizeof buffer, 0);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fail_now("the server did not close the connection within " +
                     std::to_string(receive_timeout_seconds) + " s; received so far: \"" +
                     visible(received) + "\"");
        }
        if (count < 0) {
            fail_with_os_error("recv");
        }
        if (count == 0) {
            return received;
        }
        received.append(buffer, static_cast<std::size_t>(count));
    }
}

// How a connection ended, for the cases where the server is meant to fail: what arrived
// before the end, and the error that ended it (0 for an orderly end of file).
struct Ending {
    std::string received;
    int error = 0;  // ECONNRESET for a reset, EAGAIN when nothing came within the timeout
};

Ending read_to_end(const FileDescriptor& socket_fd) {
    Ending ending;
    char buffer[4096];
    while (true) {
        const ssize_t count = recv(socket_fd.get(), buffer, sizeof buffer, 0);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count <= 0) {
            ending.error = count < 0 ? errno : 0;
            return ending;
        }
        ending.received.append(buffer, static_cast<std::size_t>(count));
    }
}

std::string describe(const Ending& ending) {
    const std::string how = ending.error == 0 ? "end of file" : std::strerror(ending.error);
    return how + " after \"" + visible(ending.received) + "\"";
}

// Each connection is a file descriptor; the abuse cases hold over a thousand at once, and
// the usual soft limit is 1024. An unprivileged process may raise it up to the hard limit.
void raise_open_file_limit(rlim_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail_with_os_error("getrlimit");
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) {
        return;
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
        fail_now("this case needs " + std::to_string(wanted) +
                 " open files, above the hard limit of " + std::to_string(limit.rlim_max) +
                 " (ulimit -Hn)");
    }
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        fail_with_os_error("setrlimit RLIMIT_NOFILE");
    }
}

// ---------------------------------------------------------------------------------------
// HTTP answers
// ---------------------------------------------------------------------------------------

struct Answer {
    std::string status_line;
    std::vector<std::pair<std::string, std::string>> headers;  // in the order received
    std::string body;
};

Answer parse_answer(const std::string& raw) {
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        fail_now("the answer has no empty line after its head: \"" + visible(raw) + "\"");
    }
    Answer answer;
    answer.body = raw.substr(head_end + 4);
    std::istringstream head(raw.substr(0, head_end + 2));
    std::getline(head, answer.status_line);
    if (answer.status_line.ends_with('\r')) {
        answer.status_line.pop_back();
    }
    for (std::string line; std::getline(head, line);) {
        if (line.ends_with('\r')) {
            line.pop_back();
        }
        const std::size_t colon = line.find(": ");
        if (colon == std::string::npos) {
            fail_now("malformed header line in the answer: \"" + visible(line) + "\"");
        }
        answer.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    return answer;
}

// The request the book's examples send: HTTP/1.1, a Host header, Connection: close.
std::string get_request(std::string_view path) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

// Sends `request` on a new connection and returns everything the server sent back.
std::string send_and_receive(const Address& address, std::string_view request) {
    const FileDescriptor socket_fd = connect_to(address);
    send_text(socket_fd, request);
    return read_until_closed(socket_fd);
}

// Checks the shape every answer shares (the headers in this order, lower case):
//   HTTP/1.1 200 OK / content-length / connection: close /
//   content-type: text/plain; charset=utf-8 / date: IMF-fixdate [/ allow: GET, HEAD for 405]
// then the status line and the body.
void check_answer(const std::string& request, const std::string& raw,
                  std::string_view expected_status_line, std::string_view expected_body,
                  bool body_is_sent = true) {
    const std::string first_line = request.substr(0, request.find_first_of("\r\n"));
    std::printf(
        "%s -> %s \"%s\"\n", visible(first_line).c_str(),
        visible(raw.substr(0, raw.find("\r\n"))).c_str(),
        visible(raw.find("\r\n\r\n") == std::string::npos ? std::string()
                                                          : raw.substr(raw.find("\r\n\r\n") + 4))
            .c_str());
    const Answer answer = parse_answer(raw);
    const std::string what = "answer to \"" + visible(first_line) + "\"";
    check_equal(what + ", status line", expected_status_line, answer.status_line);
    std::vector<std::string> expected_names = {"content-length", "connection", "content-type",
                                               "date"};
    if (expected_status_line.starts_with("HTTP/1.1 405")) {
        expected_names.push_back("allow");
    }
    std::string names;
    for (const auto& header : answer.headers) {
        names += (names.empty() ? "" : ", ") + header.first;
    }
    std::string wanted_names;
    for (const std::string& name : expected_names) {
        wanted_names += (wanted_names.empty() ? "" : ", ") + name;
    }
    check_equal(what + ", header names", wanted_names, names);
    if (names != wanted_names) {
        return;
    }
    check_equal(what + ", content-length", std::to_string(expected_body.size()),
                answer.headers[0].second);
    check_equal(what + ", connection", "close", answer.headers[1].second);
    check_equal(what + ", content-type", "text/plain; charset=utf-8", answer.headers[2].second);
    // IMF-fixdate, RFC 9110 section 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT".
    static const std::regex imf_fixdate(
        "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
        "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
        "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT");
    check(std::regex_match(answer.headers[3].second, imf_fixdate),
          what + ": date \"" + answer.headers[3].second + "\" is not an IMF-fixdate");
    if (expected_names.size() == 5) {
        check_equal(what + ", allow", "GET, HEAD", answer.headers[4].second);
    }
    check_equal(what + ", body", body_is_sent ? expected_body : "", answer.body);
}

// Sends a request and checks the whole answer.
void expect_answer(const Address& address, const std::string& request,
                   std::string_view expected_status_line, std::string_view expected_body) {
    check_answer(request, send_and_receive(address, request), expected_status_line, expected_body);
}

// After abuse, a well-formed request must still be answered: with its whole delay, and not
// much later. The bound is generous on purpose (a loaded machine, a sanitizer): the check
// is that the server still works, not how fast it is.
constexpr std::chrono::milliseconds generous_bound = 5000ms;

void expect_delayed_answer(const Address& address, int delay_ms, const std::string& message) {
    const std::string request = get_request("/" + std::to_string(delay_ms) + "/" + message);
    const auto start = std::chrono::steady_clock::now();
    const std::string raw = send_and_receive(address, request);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    check_answer(request, raw, "HTTP/1.1 200 OK", message);
    const std::string took = "answered after " + std::to_string(waited.count()) + " ms";
    check(waited.count() >= delay_ms, took + ", before its delay of " + std::to_string(delay_ms));
    check(waited <= std::chrono::milliseconds(delay_ms) + generous_bound,
          took + ", more than " + std::to_string(generous_bound.count()) + " ms after its delay");
}

// ---------------------------------------------------------------------------------------
// Running the server program itself (--help, bad options, a port in use, a stall)
// ---------------------------------------------------------------------------------------

struct ProgramRun {
    int exit_code = -1;  // -1 when it did not exit normally
    std::string out;
    std::string err;
};

// Runs a program with its standard output and error on pipes; kills it after 10 s.
ProgramRun run_program(const std::vector<std::string>& arguments) {
    const CapturedRun captured = run_captured(arguments, 10s, fail_with_os_error);
    check(!captured.timed_out, arguments[0] + " did not end within 10 s");
    ProgramRun run;
    run.out = captured.out;
    run.err = captured.err;
    const int status = captured.status;
    if (WIFEXITED(status)) {
        run.exit_code = WEXITSTATUS(status);
    }
    std::string command;
    for (const std::string& argument : arguments) {
        command += (command.empty() ? "" : " ") + argument;
    }
    std::printf("$ %s\n%s%s-> exit code %d\n", command.c_str(), run.out.c_str(), run.err.c_str(),
                run.exit_code);
    return run;
}

// A server this program starts and stops itself (case fault-stall: it must stop on SIGTERM
// while a connection is still open, which with-delayserver cannot arrange, since it stops
// the server only after the client has exited). Its standard output and error come on one
// pipe, read line by line.
//
// A failed check ends this program with std::exit, which runs no destructor of a local
// object; so the server's process id is also kept here, for an atexit handler to kill it.
pid_t started_server_pid = -1;

void kill_started_server() {
    if (started_server_pid > 0) {
        kill(started_server_pid, SIGKILL);
        waitpid(started_server_pid, nullptr, 0);
        started_server_pid = -1;
    }
}

class RunningServer {
  public:
    explicit RunningServer(const std::vector<std::string>& arguments) {
        int output_pipe[2];
        if (pipe(output_pipe) != 0) {
            fail_with_os_error("pipe");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, output_pipe[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, output_pipe[1], STDERR_FILENO);
        posix_spawn_file_actions_addclose(&actions, output_pipe[0]);
        posix_spawn_file_actions_addclose(&actions, output_pipe[1]);
        std::vector<char*> argv;
        for (const std::string& argument : arguments) {
            argv.push_back(const_cast<char*>(argument.c_str()));
        }
        argv.push_back(nullptr);
        const int spawn_error =
            posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (spawn_error != 0) {
            errno = spawn_error;
            fail_with_os_error("posix_spawn " + arguments[0]);
        }
        close(output_pipe[1]);
        output_ = output_pipe[0];
        started_server_pid = pid_;
        if (std::atexit(kill_started_server) != 0) {
            fail_now("atexit failed");
        }
    }
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;
    ~RunningServer() {
        kill_started_server();  // only if stop() has not already ended it
        if (output_ >= 0 && close(output_) != 0) {
            std::printf("warning: close: %s\n", std::strerror(errno));
        }
    }

    // The next line of output that contains `wanted` (the others are shown and skipped);
    // fails the test after 10 s or at the end of the output.
    std::string wait_for_line(std::string_view wanted) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (true) {
            for (std::size_t newline = pending_.find('\n'); newline != std::string::npos;
                 newline = pending_.find('\n')) {
                const std::string line = pending_.substr(0, newline);
                pending_.erase(0, newline + 1);
                std::printf("server: %s\n", line.c_str());
                if (line.find(wanted) != std::string::npos) {
                    return line;
                }
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd readable = {output_, POLLIN, 0};
            const int ready =
                left.count() > 0 ? poll(&readable, 1, static_cast<int>(left.count())) : 0;
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            if (ready < 0) {
                fail_with_os_error("poll");
            }
            if (ready == 0) {
                fail_now("the server printed no line with \"" + std::string(wanted) +
                         "\" within 10 s");
            }
            char buffer[4096];
            const ssize_t count = read(output_, buffer, sizeof buffer);
            if (count < 0 && errno == EINTR) {
                continue;
            }
            if (count < 0) {
                fail_with_os_error("read");
            }
            if (count == 0) {
                fail_now("the server's output ended before a line with \"" + std::string(wanted) +
                         "\"");
            }
            pending_.append(buffer, static_cast<std::size_t>(count));
        }
    }

    // Sends SIGTERM and returns the exit code (-1 when it did not exit normally); fails
    // the test if the server has not ended within 10 s.
    int stop() {
        if (kill(pid_, SIGTERM) != 0) {
            fail_with_os_error("kill");
        }
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        int status = 0;
        while (true) {
            const pid_t ended = waitpid(pid_, &status, WNOHANG);
            if (ended < 0 && errno == EINTR) {
                continue;
            }
            if (ended < 0) {
                fail_with_os_error("waitpid");
            }
            if (ended == pid_) {
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                fail_now("the server did not stop within 10 s of SIGTERM");
            }
            std::this_thread::sleep_for(50ms);
        }
        started_server_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

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
std::vector<std::string> wait_for_log_lines(const std::string& log_path, std::size_t wanted_lines) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::vector<std::string> lines;
    while (true) {
        lines.clear();
        std::ifstream log(log_path, std::ios::binary);
        std::string contents((std::istreambuf_iterator<char>(log)),
                             std::istreambuf_iterator<char>());
        std::size_t line_start = 0;
        for (std::size_t newline = contents.find('\n'); newline != std::string::npos;
             newline = contents.find('\n', line_start)) {
            lines.push_back(contents.substr(line_start, newline - line_start));
            line_start = newline + 1;
        }
        if (lines.size() >= wanted_lines || std::chrono::steady_clock::now() > deadline) {
            return lines;
        }
        std::this_thread::sleep_for(50ms);
    }
}

void check_log(const std::string& log_path, const std::vector<std::string>& expected) {
    const std::vector<std::string> lines = wait_for_log_lines(log_path, expected.size());
    check_equal("number of lines in the server's log " + log_path, std::to_string(expected.size()),
                std::to_string(lines.size()));
    for (std::size_t index = 0; index < expected.size() && index < lines.size(); ++index) {
        check_equal("log line " + std::to_string(index + 1), expected[index], lines[index]);
    }
    for (const std::string& line : lines) {
        std::printf("log: %s\n", line.c_str());
    }
}

// ---------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------

const std::string not_found_body =
    "Nothing here: ask for /{delay_ms}/{message}, for example /2000/hello%20world.\n";
const std::string malformed_request_line_body =
    "Malformed request line: expected 'GET /{delay_ms}/{message} HTTP/1.1', with single "
    "spaces and a target of visible ASCII characters (percent-encode the others).\n";
const std::string bad_percent_body =
    "The message has a '%' that is not followed by two hexadecimal digits.\n";

void case_ok(const Address& address) {
    expect_answer(address, get_request("/50/hello%20world"), "HTTP/1.1 200 OK", "hello world");
    expect_answer(address, get_request("/0/caf%C3%A9"), "HTTP/1.1 200 OK", "caf\xC3\xA9");
}

// Forms of a request that are unusual but valid, and accepted.
void case_accepted_forms(const Address& address) {
    // RFC 9112 section 3.2.2: a server MUST accept the absolute form of a target.
    expect_answer(address, "GET http://localhost/10/absolute HTTP/1.1\r\nHost: localhost\r\n\r\n",
                  "HTTP/1.1 200 OK", "absolute");
    // Section 2.2: an empty line before the request line is ignored; bare LF line ends.
    expect_answer(address, "\r\nGET /10/leading-empty-line HTTP/1.1\r\nHost: localhost\r\n\r\n",
                  "HTTP/1.1 200 OK", "leading-empty-line");
    expect_answer(address, "GET /10/bare-lf HTTP/1.1\nHost: localhost\n\n", "HTTP/1.1 200 OK",
                  "bare-lf");
    // HTTP/1.0 needs no Host header.
    expect_answer(address, "GET /10/http-1.0 HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK", "http-1.0");
    // A query is ignored; a '+' in a path is a plus, not a space.
    expect_answer(address, get_request("/10/with-query?x=1"), "HTTP/1.1 200 OK", "with-query");
    expect_answer(address, get_request("/10/one+two"), "HTTP/1.1 200 OK", "one+two");
    // A body after the head (it has none to give to a GET) is read and ignored.
    expect_answer(address,
                  "GET /10/with-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
                  "HTTP/1.1 200 OK", "with-body");
}

// Three requests sent in the order 300, 200, 100 ms, each on its own connection, all at
// once: the answers must arrive in the reverse order.
void case_ordering(const Address& address) {
    const std::vector<std::string> paths = {"/300/request-1", "/200/request-2", "/100/request-3"};
    std::vector<FileDescriptor> sockets;
    for (const std::string& path : paths) {
        sockets.push_back(connect_to(address));
        send_text(sockets.back(), get_request(path));
        std::printf("sent GET %s\n", path.c_str());
    }
    std::vector<pollfd> waiting;
    for (const FileDescriptor& socket_fd : sockets) {
        waiting.push_back(pollfd{socket_fd.get(), POLLIN, 0});
    }
    std::vector<std::string> received(sockets.size());
    std::vector<std::string> finished_bodies;
    while (finished_bodies.size() < sockets.size()) {
        const int ready = poll(waiting.data(), waiting.size(), receive_timeout_seconds * 1000);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            fail_with_os_error("poll");
        }
        if (ready == 0) {
            fail_now("no answer within " + std::to_string(receive_timeout_seconds) + " s");
        }
        for (std::size_t index = 0; index < waiting.size(); ++index) {
            if (waiting[index].fd < 0 || waiting[index].revents == 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t count = recv(waiting[index].fd, buffer, sizeof buffer, 0);
            if (count < 0) {
                fail_with_os_error("recv");
            }
            if (count > 0) {
                received[index].append(buffer, static_cast<std::size_t>(count));
                continue;
            }
            // The server closed the connection: this answer is complete.
            waiting[index].fd = -1;  // poll ignores negative descriptors
            const Answer answer = parse_answer(received[index]);
            std::printf("answer %zu: %s \"%s\"\n", finished_bodies.size() + 1,
                        answer.status_line.c_str(), answer.body.c_str());
            check_equal("status line", "HTTP/1.1 200 OK", answer.status_line);
            finished_bodies.push_back(answer.body);
        }
    }
    check_equal("order of the answers", "request-3 request-2 request-1",
                finished_bodies[0] + " " + finished_bodies[1] + " " + finished_bodies[2]);
}

void case_delay_not_a_number(const Address& address) {
    for (const std::string delay : {"abc", "+5", "5ms", "1.5", "%35"}) {
        expect_answer(address, get_request("/" + delay + "/x"), "HTTP/1.1 400 Bad Request",
                      "The delay '" + delay + "' is not a whole number of milliseconds.\n");
    }
}

void case_delay_negative(const Address& address) {
    expect_answer(address, get_request("/-5/x"), "HTTP/1.1 400 Bad Request",
                  "The delay '-5' is negative.\n");
}

void case_delay_too_many_digits(const Address& address) {
    // 2^64 does not fit in 64 bits; 2^63 does (as an unsigned number) but is above the cap.
    expect_answer(address, get_request("/18446744073709551616/x"), "HTTP/1.1 400 Bad Request",
                  "The delay '18446744073709551616' is too large a number.\n");
    expect_answer(address, get_request("/99999999999999999999999999/x"), "HTTP/1.1 400 Bad Request",
                  "The delay '99999999999999999999999999' is too large a number.\n");
    expect_answer(address, get_request("/9223372036854775808/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 9223372036854775808 ms is above this server's maximum of 60000 ms.\n");
}

// Run with --max-delay-ms=1000.
void case_delay_above_maximum(const Address& address) {
    expect_answer(address, get_request("/1001/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 1001 ms is above this server's maximum of 1000 ms.\n");
    expect_answer(address, get_request("/1000/just-right"), "HTTP/1.1 200 OK", "just-right");
}

void case_bad_percent_encoding(const Address& address) {
    for (const std::string message : {"bad%zzescape", "cut%4", "end%", "%G0"}) {
        expect_answer(address, get_request("/50/" + message), "HTTP/1.1 400 Bad Request",
                      bad_percent_body);
    }
}

void case_not_utf8(const Address& address) {
    // A lone 0xFF; "/" written in two bytes (overlong); a UTF-16 surrogate; a cut sequence.
    for (const std::string message : {"%FF", "%C0%AF", "%ED%A0%80", "%E2%82"}) {
        expect_answer(address, get_request("/50/" + message), "HTTP/1.1 400 Bad Request",
                      "The decoded message is not valid UTF-8.\n");
    }
}

void case_unknown_path(const Address& address) {
    for (const std::string path : {"/", "/hello", "/favicon.ico", "/50/", "/50/a/b", "//x"}) {
        expect_answer(address, get_request(path), "HTTP/1.1 404 Not Found", not_found_body);
    }
}

void case_method_not_allowed(const Address& address) {
    // Method names are case-sensitive (RFC 9110 section 9.1): "get" and "head" are not GET
    // and HEAD.
    for (const std::string method : {"POST", "DELETE", "get", "head"}) {
        expect_answer(
            address, method + " /50/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "HTTP/1.1 405 Method Not Allowed",
            "Method '" + method + "' is not allowed: this server answers GET and HEAD only.\n");
    }
}

// HEAD is GET without the body (RFC 9110 section 9.3.2): the same status line and headers,
// content-length included, after the same delay, and nothing after the empty line. The
// request is what `curl -I http://HOST:PORT/100/x` sends.
void case_head_method(const Address& address) {
    const std::string request =
        "HEAD /100/x HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
    const auto start = std::chrono::steady_clock::now();
    const std::string raw = send_and_receive(address, request);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    // content-length: 1, the length of GET's body "x"; and no body at all.
    check_answer(request, raw, "HTTP/1.1 200 OK", "x", false);
    check(raw.ends_with("\r\n\r\n"),
          "the answer to HEAD ends with the empty line after its headers");
    const std::string took = "answered after " + std::to_string(waited.count()) + " ms";
    check(waited >= 100ms, took + ", before its delay of 100");
    check(waited <= 100ms + generous_bound,
          took + ", more than " + std::to_string(generous_bound.count()) + " ms after its delay");
    // An error answer to HEAD has no body either; its content-length is that of GET's.
    const std::string missing = "HEAD /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n";
    check_answer(missing, send_and_receive(address, missing), "HTTP/1.1 404 Not Found",
                 not_found_body, false);
}

void case_malformed_request_line(const Address& address) {
    const std::string host = "Host: localhost\r\n\r\n";
    for (const std::string request_line :
         {"GARBAGE", "GET /50/x", "GET  /50/x HTTP/1.1", "GET /50/x HTTP/1.1 ",
          "GET /50/x http/1.1", "GET /50/x HTTP/1.1x", "GET /50/caf\xC3\xA9 HTTP/1.1",
          "GET /50/a\tb HTTP/1.1"}) {
        expect_answer(address, request_line + "\r\n" + host, "HTTP/1.1 400 Bad Request",
                      malformed_request_line_body);
    }
    expect_answer(address, "GET /50/x HTTP/2.0\r\n" + host, "HTTP/1.1 400 Bad Request",
                  "This server speaks HTTP/1.0 and HTTP/1.1 only, not HTTP/2.0.\n");
    expect_answer(address, "GET /50/x HTTP/0.9\r\n" + host, "HTTP/1.1 400 Bad Request",
                  "This server speaks HTTP/1.0 and HTTP/1.1 only, not HTTP/0.9.\n");
    expect_answer(address, "GET x/50/y HTTP/1.1\r\n" + host, "HTTP/1.1 400 Bad Request",
                  "The request target must be a path, such as /2000/hello.\n");
}

void case_malformed_header(const Address& address) {
    const std::string start = "GET /50/x HTTP/1.1\r\nHost: localhost\r\n";
    const std::string malformed = "Malformed header line: expected 'Name: value'.\n";
    expect_answer(address, start + "NoColon\r\n\r\n", "HTTP/1.1 400 Bad Request", malformed);
    expect_answer(address, start + "Space-Before : colon\r\n\r\n", "HTTP/1.1 400 Bad Request",
                  malformed);
    expect_answer(address, start + "X-Folded: one\r\n two\r\n\r\n", "HTTP/1.1 400 Bad Request",
                  "A header line starts with white space (obsolete line folding).\n");
    expect_answer(address, start + std::string("X-Control: a\x01z\r\n\r\n"),
                  "HTTP/1.1 400 Bad Request", "A header value contains a control character.\n");
    expect_answer(address, start + std::string("X-Bare-CR: a\rz\r\n\r\n"),
                  "HTTP/1.1 400 Bad Request", "A header value contains a control character.\n");
}

void case_missing_host(const Address& address) {
    const std::string one_host =
        "An HTTP/1.1 request must have exactly one Host header (RFC 9112 section 3.2).\n";
    expect_answer(address, "GET /50/x HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request", one_host);
    expect_answer(address, "GET /50/x HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
                  "HTTP/1.1 400 Bad Request", one_host);
    expect_answer(address, "GET /50/no-host HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK", "no-host");
}

// A head that goes on past 8 KiB without its empty line.
void case_head_too_large(const Address& address) {
    const std::string request =
        "GET /50/x HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(9000, 'a');
    expect_answer(address, request, "HTTP/1.1 431 Request Header Fields Too Large",
                  "The request head is larger than 8 KiB.\n");
    expect_delayed_answer(address, 100, "after-a-head-too-large");
}

// Run with --idle-timeout-ms=300: a client that says nothing is closed, without an answer.
void case_idle_timeout_silent(const Address& address) {
    const FileDescriptor socket_fd = connect_to(address);
    const auto start = std::chrono::steady_clock::now();
    const std::string received = read_until_closed(socket_fd);
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::printf("(sent nothing) -> closed after %lld ms, received \"%s\"\n",
                static_cast<long long>(waited.count()), visible(received).c_str());
    check_equal("what a silent client receives", "", received);
}

// Run with --idle-timeout-ms=300: a half-sent request head gets 408.
void case_idle_timeout_partial(const Address& address) {
    const std::string timed_out = "The request head did not arrive within 300 ms.\n";
    expect_answer(address, "GET /50/x HTTP/1.1\r\nHost: loc", "HTTP/1.1 408 Request Timeout",
                  timed_out);
    // A head that never ends: one byte every 50 ms, never the empty line. The idle timeout
    // bounds the whole head, not the pause between two bytes, so this gets 408 as well.
    const std::string endless = "GET /50/x HTTP/1.1\r\nHost: localhost\r\nX-Trickle: " +
                                std::string(200, 'a');  // 10 s of bytes at most
    const FileDescriptor socket_fd = connect_to(address);
    bool answered = false;
    for (std::size_t sent = 0; sent < endless.size() && !answered; ++sent) {
        send_text(socket_fd, std::string_view(endless).substr(sent, 1));
        pollfd readable = {socket_fd.get(), POLLIN, 0};
        const int ready = poll(&readable, 1, 50);
        if (ready < 0 && errno != EINTR) {
            fail_with_os_error("poll");
        }
        answered = ready > 0;
    }
    check(answered, "no answer while the head trickled in for 10 s");
    check_answer(endless, read_until_closed(socket_fd), "HTTP/1.1 408 Request Timeout", timed_out);
    expect_delayed_answer(address, 100, "after-two-heads-that-never-ended");
}

// A client that goes away during its delay; the server must forget it and carry on.
void case_client_disconnects(const Address& address, const std::string& log_path) {
    {
        const FileDescriptor socket_fd = connect_to(address);
        send_text(socket_fd, get_request("/2000/gone"));
        // Wait until the server has logged the request (so it is in its delay), then close.
        wait_for_log_lines(log_path, 1);
        std::printf("sent GET /2000/gone, closing the connection during its delay\n");
    }
    expect_answer(address, get_request("/50/after"), "HTTP/1.1 200 OK", "after");
    check_log(log_path, {"#1 - 2000ms: gone", "#2 - 50ms: after"});
}

// The log line of each request: "#{count} - {delay_ms}ms: {decoded message}". Control
// characters in the message stay percent-encoded there, so one request is one line.
void case_log_format(const Address& address, const std::string& log_path) {
    expect_answer(address, get_request("/50/hello%20world"), "HTTP/1.1 200 OK", "hello world");
    expect_answer(address, get_request("/10/caf%C3%A9%0Anext"), "HTTP/1.1 200 OK",
                  "caf\xC3\xA9\nnext");
    expect_answer(address, get_request("/abc/not-logged"), "HTTP/1.1 400 Bad Request",
                  "The delay 'abc' is not a whole number of milliseconds.\n");
    expect_answer(address, get_request("/0/third"), "HTTP/1.1 200 OK", "third");
    check_log(log_path,
              {"#1 - 50ms: hello world", "#2 - 10ms: caf\xC3\xA9%0Anext", "#3 - 0ms: third"});
}

// One request per connection: a second request sent right behind the first, on the same
// connection, is not answered (the answer says "connection: close", then the server closes).
void case_pipelined(const Address& address) {
    const std::string second = "GET /10/second HTTP/1.1\r\nHost: localhost\r\n\r\n";
    expect_answer(address, "GET /10/first HTTP/1.1\r\nHost: localhost\r\n\r\n" + second,
                  "HTTP/1.1 200 OK", "first");
}

// The start of a TLS ClientHello (someone asking for https:// of this plain HTTP server):
// its first byte, 0x16, cannot start a request line, so the 400 comes at once, without
// the empty line that would end a head. Run with an idle timeout far longer than the
// client's 10 s receive timeout: had the server waited for more, the answer would be a
// 408 that never comes in time, and the case would fail without measuring any time.
const std::string tls_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
const std::string not_http_body =
    "The first byte, 0x16, cannot start an HTTP request line (0x16 starts a TLS handshake: "
    "this server speaks http://, not https://).\n";

void case_not_http(const Address& address) {
    expect_answer(address, tls_hello, "HTTP/1.1 400 Bad Request", not_http_body);
    // The same after the empty lines a server skips before a request line (RFC 9112 2.2).
    expect_answer(address, "\r\n" + tls_hello, "HTTP/1.1 400 Bad Request", not_http_body);
    expect_answer(address, " GET /10/x HTTP/1.1\r\n", "HTTP/1.1 400 Bad Request",
                  "The first byte, 0x20, cannot start an HTTP request line.\n");
    expect_delayed_answer(address, 10, "after-bytes-that-are-not-http");
}

// Each error answer's line on the server's standard error names the request it answers:
// a 404 for /favicon.ico (which browsers ask for) is told from any other 404. This case
// starts the server itself, to read its standard error.
void case_error_log(const std::string& server_path) {
    RunningServer server({server_path, "--host", "127.0.0.1", "--port", "0"});
    const std::string listening = server.wait_for_line("listening on ");
    const std::optional<Address> found = parse_address(listening.substr(listening.find("on ") + 3));
    if (!found) {
        fail_now("no HOST:PORT in the server's line \"" + listening + "\"");
    }
    struct Logged {
        std::string request;
        std::string line;  // the server's line for its answer
    };
    const std::vector<Logged> expected = {
        {get_request("/favicon.ico"),
         "delayserver: answered 404 Not Found to GET /favicon.ico: " + not_found_body},
        {get_request("/abc/x"),
         "delayserver: answered 400 Bad Request to GET /abc/x: The delay 'abc' is not a whole "
         "number of milliseconds."},
        {"DELETE /50/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
         "delayserver: answered 405 Method Not Allowed to DELETE /50/x: Method 'DELETE' is not "
         "allowed: this server answers GET and HEAD only."},
        {"GET /50/x\r\n\r\n",
         "delayserver: answered 400 Bad Request to a malformed request "
         "line: " +
             malformed_request_line_body},
        {tls_hello,
         "delayserver: answered 400 Bad Request to bytes that are not HTTP: " + not_http_body},
    };
    for (const Logged& logged : expected) {
        send_and_receive(*found, logged.request);
        std::string line = logged.line;
        if (line.ends_with('\n')) {
            line.pop_back();
        }
        check_equal("the server's line for its answer", line,
                    server.wait_for_line("delayserver: answered "));
    }
    check_equal("exit code after SIGTERM", "0", std::to_string(server.stop()));
}

// A second server on the port the first one holds must fail: exit 1, the OS's message.
void case_port_in_use(const Address& address, const std::string& server_path) {
    const ProgramRun run =
        run_program({server_path, "--host", address.host, "--port", address.port});
    check_equal("exit code of a server whose port is taken", "1", std::to_string(run.exit_code));
    const std::string expected_message = std::strerror(EADDRINUSE);  // "Address already in use"
    check(run.err.find("bind") != std::string::npos &&
              run.err.find(expected_message) != std::string::npos,
          "standard error should name bind and say \"" + expected_message + "\"");
    check_equal("standard output", "", run.out);
}

void case_help(const std::string& server_path) {
    const ProgramRun run = run_program({server_path, "--help"});
    check_equal("exit code of --help", "0", std::to_string(run.exit_code));
    for (const char* mention : {"Usage: delayserver", "--host", "--port", "--max-delay-ms",
                                "--idle-timeout-ms", "--fault", "reset", "stall", "garbage",
                                "truncate", "close", "--help", "/{delay_ms}/{message}"}) {
        check(run.out.find(mention) != std::string::npos,
              std::string("--help should mention ") + mention);
    }
    check_equal("standard error of --help", "", run.err);
    const ProgramRun short_form = run_program({server_path, "-h"});
    check_equal("exit code of -h", "0", std::to_string(short_form.exit_code));
    check(short_form.out == run.out, "-h should print what --help prints");
}

void case_bad_option(const std::string& server_path) {
    const ProgramRun run = run_program({server_path, "--bogus"});
    check_equal("exit code for an unknown option", "2", std::to_string(run.exit_code));
    check_equal("the first line of standard error", "delayserver: unknown option '--bogus'",
                run.err.substr(0, run.err.find('\n')));
    check(run.err.find("Usage: delayserver") != std::string::npos,
          "the usage should follow on standard error");
    check_equal("standard output", "", run.out);
    const ProgramRun positional = run_program({server_path, "8080"});
    check_equal("exit code for an argument that is not an option", "2",
                std::to_string(positional.exit_code));
}

void case_bad_value(const std::string& server_path) {
    const std::vector<std::vector<std::string>> bad_values = {
        {"--port", "70000"},        {"--port", "http"}, {"--port=-1"},  {"--max-delay-ms", "1e3"},
        {"--idle-timeout-ms", "0"}, {"--port"},         {"--host", ""}, {"--fault", "explode"},
        {"--fault=RESET"},          {"--fault"},
    };
    for (const std::vector<std::string>& options : bad_values) {
        std::vector<std::string> arguments = {server_path};
        arguments.insert(arguments.end(), options.begin(), options.end());
        const ProgramRun run = run_program(arguments);
        check_equal("exit code for " + options[0], "2", std::to_string(run.exit_code));
        const std::string option_name = options[0].substr(0, options[0].find('='));
        check(run.err.find(option_name) != std::string::npos,
              "standard error should name " + option_name);
    }
}

// ---------------------------------------------------------------------------------------
// The fault modes (--fault): each replaces the answer to a valid request, after its delay
// ---------------------------------------------------------------------------------------

// Error answers are never replaced: a fault concerns valid requests only.
void expect_error_answered_as_usual(const Address& address) {
    expect_answer(address, get_request("/abc/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 'abc' is not a whole number of milliseconds.\n");
}

// Sends GET /50/{message} and returns how the connection ended.
Ending request_with_fault(const Address& address, const std::string& message) {
    const FileDescriptor socket_fd = connect_to(address);
    send_text(socket_fd, get_request("/50/" + message));
    const Ending ending = read_to_end(socket_fd);
    std::printf("GET /50/%s -> %s\n", message.c_str(), describe(ending).c_str());
    return ending;
}

// Run with --fault=reset: no answer, but a reset (RST): recv fails with ECONNRESET.
void case_fault_reset(const Address& address) {
    const Ending ending = request_with_fault(address, "reset-me");
    check(ending.error == ECONNRESET,
          "expected \"" + std::string(std::strerror(ECONNRESET)) + "\", got " + describe(ending));
    check_equal("bytes before the reset", "", ending.received);
    expect_error_answered_as_usual(address);
}

// Run with --fault=garbage: bytes that are not HTTP, then end of file.
void case_fault_garbage(const Address& address) {
    const Ending ending = request_with_fault(address, "garbage");
    check_equal("what came instead of the answer", "this is not HTTP\r\n", ending.received);
    check(ending.error == 0, "expected end of file, got " + describe(ending));
    expect_error_answered_as_usual(address);
}

// Run with --fault=truncate: the whole head, whose content-length announces the whole
// body, then only the first half of the body ("hello" of "hello world"), then end of file.
void case_fault_truncate(const Address& address) {
    const Ending ending = request_with_fault(address, "hello%20world");
    check(ending.error == 0, "expected end of file, got " + describe(ending));
    const Answer answer = parse_answer(ending.received);
    check_equal("status line", "HTTP/1.1 200 OK", answer.status_line);
    check(!answer.headers.empty() && answer.headers[0].first == "content-length",
          "the first header should be content-length");
    if (!answer.headers.empty()) {
        check_equal("content-length (the whole body's)", "11", answer.headers[0].second);
    }
    check_equal("the body that came (its first half)", "hello", answer.body);
    expect_error_answered_as_usual(address);
}

// Run with --fault=close: the server closes without sending a byte (end of file).
void case_fault_close(const Address& address) {
    const Ending ending = request_with_fault(address, "closed-early");
    check_equal("bytes before end of file", "", ending.received);
    check(ending.error == 0, "expected end of file, got " + describe(ending));
    expect_error_answered_as_usual(address);
}

// --fault=stall: the request is read (and logged) but never answered; the connection stays
// open, and SIGTERM still stops the server at once, stalled connection and all. This case
// starts the server itself, to stop it while the connection is still open.
void case_fault_stall(const std::string& server_path) {
    RunningServer server({server_path, "--host", "127.0.0.1", "--port", "0", "--fault", "stall"});
    const std::string listening = server.wait_for_line("listening on ");
    const std::optional<Address> found = parse_address(listening.substr(listening.find("on ") + 3));
    if (!found) {
        fail_now("no HOST:PORT in the server's line \"" + listening + "\"");
    }
    const Address& address = *found;
    const FileDescriptor socket_fd = connect_to(address);
    send_text(socket_fd, get_request("/50/stalled"));
    check_equal("the server's log line", "#1 - 50ms: stalled", server.wait_for_line("#1 - "));
    server.wait_for_line("#1: stalling");  // its delay is over: now it stalls
    // Nothing comes, and the connection stays open (no end of file either).
    pollfd readable = {socket_fd.get(), POLLIN, 0};
    const int ready = poll(&readable, 1, 500);
    if (ready < 0) {
        fail_with_os_error("poll");
    }
    check(ready == 0, "something arrived on a stalled connection (data or its end)");
    std::printf("GET /50/stalled -> nothing after the delay; stopping the server (SIGTERM)\n");
    check_equal("exit code after SIGTERM, with a stalled connection open", "0",
                std::to_string(server.stop()));
    // The server is gone, and so is the connection.
    const Ending ending = read_to_end(socket_fd);
    std::printf("then: %s\n", describe(ending).c_str());
    check(ending.received.empty() && ending.error == 0,
          "expected end of file once the server stopped, got " + describe(ending));
}

// ---------------------------------------------------------------------------------------
// Abuse: the server carries on, and still answers a well-formed request with its delay
// ---------------------------------------------------------------------------------------

// Run with --idle-timeout-ms=1500. A thousand clients connect and never send anything
// (as idle preconnections do, or an attack): the server answers another client meanwhile,
// with its delay, and closes each idle one, without a byte, when its idle time is up.
void case_idle_connections_1000(const Address& address) {
    constexpr std::size_t idle_count = 1000;
    raise_open_file_limit(idle_count + 64);  // and a few for the other connections
    std::vector<FileDescriptor> idle;
    idle.reserve(idle_count);
    for (std::size_t index = 0; index < idle_count; ++index) {
        idle.push_back(connect_to(address));
    }
    std::printf("opened %zu connections that send nothing\n", idle_count);
    expect_delayed_answer(address, 100, "after-1000-idle-connections");
    std::size_t closed_silently = 0;
    for (const FileDescriptor& socket_fd : idle) {
        // read_until_closed fails the test if the server has not closed it within 10 s.
        closed_silently += read_until_closed(socket_fd).empty() ? 1 : 0;
    }
    std::printf("the server closed %zu of them without a byte\n", closed_silently);
    check_equal("idle connections closed without a byte", std::to_string(idle_count),
                std::to_string(closed_silently));
}

// 200 malformed requests, each on its own connection, all sent before any answer is read:
// every one gets its error answer, and the next well-formed request is answered as usual.
void case_malformed_burst(const Address& address) {
    struct Malformed {
        std::string request;
        std::string status_line;
    };
    const std::string bad_request = "HTTP/1.1 400 Bad Request";
    const std::vector<Malformed> kinds = {
        {"GARBAGE\r\n\r\n", bad_request},
        {tls_hello, bad_request},                     // someone speaking HTTPS to an HTTP port
        {"GET /50/x HTTP/1.1\r\n\r\n", bad_request},  // no Host
        {"GET /abc/x HTTP/1.1\r\nHost: localhost\r\n\r\n", bad_request},
        {"GET /50/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n", bad_request},
        {"GET /50/x HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n", bad_request},
        {"GET /50/x HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(9000, 'a'),
         "HTTP/1.1 431 Request Header Fields Too Large"},
    };
    constexpr std::size_t burst = 200;
    std::vector<FileDescriptor> sockets;
    sockets.reserve(burst);
    for (std::size_t index = 0; index < burst; ++index) {
        sockets.push_back(connect_to(address));
        send_text(sockets.back(), kinds[index % kinds.size()].request);
    }
    std::printf("sent %zu malformed requests of %zu kinds, one per connection\n", burst,
                kinds.size());
    std::size_t as_expected = 0;
    for (std::size_t index = 0; index < burst; ++index) {
        const std::string raw = read_until_closed(sockets[index]);
        const std::string status_line = raw.substr(0, raw.find("\r\n"));
        const std::string& expected = kinds[index % kinds.size()].status_line;
        check_equal("answer " + std::to_string(index + 1), expected, status_line);
        as_expected += status_line == expected ? 1 : 0;
    }
    std::printf("%zu of %zu got their error answer\n", as_expected, burst);
    expect_delayed_answer(address, 100, "after-a-malformed-burst");
}

// ---------------------------------------------------------------------------------------
// Run under valgrind --track-fds=yes (test delayserver-closes-everything)
// ---------------------------------------------------------------------------------------

// Run with --idle-timeout-ms=1000 and a log. One connection for each way a connection
// ends in the server, so that each path that closes a socket runs at least once; valgrind
// then reports any descriptor still open when the server exits. The output is compared
// with an expected-output file, so it says nothing that varies.
void case_closes_everything(const Address& address, const std::string& log_path) {
    expect_answer(address, get_request("/50/answered"), "HTTP/1.1 200 OK", "answered");
    expect_answer(address, get_request("/abc/x"), "HTTP/1.1 400 Bad Request",
                  "The delay 'abc' is not a whole number of milliseconds.\n");
    expect_answer(address, "GET /50/x HTTP/1.1\r\nHost: loc", "HTTP/1.1 408 Request Timeout",
                  "The request head did not arrive within 1000 ms.\n");
    {
        const FileDescriptor socket_fd = connect_to(address);
        check_equal("what a silent client receives", "", read_until_closed(socket_fd));
        std::printf("(sent nothing) -> closed by the server\n");
    }
    {
        const FileDescriptor socket_fd = connect_to(address);  // and closed at once
        std::printf("(connected and left at once)\n");
    }
    {
        const FileDescriptor socket_fd = connect_to(address);
        send_text(socket_fd, get_request("/2000/gone"));
        wait_for_log_lines(log_path, 2);  // the server has it: it is in its delay
        std::printf("sent GET /2000/gone, closing the connection during its delay\n");
    }
    expect_answer(address, get_request("/0/last"), "HTTP/1.1 200 OK", "last");
    check_log(log_path, {"#1 - 50ms: answered", "#2 - 2000ms: gone", "#3 - 0ms: last"});
}

// ---------------------------------------------------------------------------------------
// The cases by name, and what each needs
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

struct Case {
    std::string_view name;
    unsigned needs;
    void (*run)(const Inputs&);
};

constexpr unsigned needs_address_and_log = needs_address | needs_server_log;
constexpr unsigned needs_address_and_server = needs_address | needs_server;

const Case cases[] = {
    {"ok", needs_address, [](const Inputs& in) { case_ok(in.address); }},
    {"accepted-forms", needs_address, [](const Inputs& in) { case_accepted_forms(in.address); }},
    {"ordering", needs_address, [](const Inputs& in) { case_ordering(in.address); }},
    {"delay-not-a-number", needs_address,
     [](const Inputs& in) { case_delay_not_a_number(in.address); }},
    {"delay-negative", needs_address, [](const Inputs& in) { case_delay_negative(in.address); }},
    {"delay-too-many-digits", needs_address,
     [](const Inputs& in) { case_delay_too_many_digits(in.address); }},
    {"delay-above-maximum", needs_address,
     [](const Inputs& in) { case_delay_above_maximum(in.address); }},
    {"bad-percent-encoding", needs_address,
     [](const Inputs& in) { case_bad_percent_encoding(in.address); }},
    {"not-utf8", needs_address, [](const Inputs& in) { case_not_utf8(in.address); }},
    {"unknown-path", needs_address, [](const Inputs& in) { case_unknown_path(in.address); }},
    {"method-not-allowed", needs_address,
     [](const Inputs& in) { case_method_not_allowed(in.address); }},
    {"head-method", needs_address, [](const Inputs& in) { case_head_method(in.address); }},
    {"malformed-request-line", needs_address,
     [](const Inputs& in) { case_malformed_request_line(in.address); }},
    {"malformed-header", needs_address,
     [](const Inputs& in) { case_malformed_header(in.address); }},
    {"missing-host", needs_address, [](const Inputs& in) { case_missing_host(in.address); }},
    {"head-too-large", needs_address, [](const Inputs& in) { case_head_too_large(in.address); }},
    {"not-http", needs_address, [](const Inputs& in) { case_not_http(in.address); }},
    {"pipelined", needs_address, [](const Inputs& in) { case_pipelined(in.address); }},
    {"idle-timeout-silent", needs_address,
     [](const Inputs& in) { case_idle_timeout_silent(in.address); }},
    {"idle-timeout-partial", needs_address,
     [](const Inputs& in) { case_idle_timeout_partial(in.address); }},
    {"client-disconnects", needs_address_and_log,
     [](const Inputs& in) { case_client_disconnects(in.address, in.server_log); }},
    {"log-format", needs_address_and_log,
     [](const Inputs& in) { case_log_format(in.address, in.server_log); }},
    {"port-in-use", needs_address_and_server,
     [](const Inputs& in) { case_port_in_use(in.address, in.server); }},
    {"help", needs_server, [](const Inputs& in) { case_help(in.server); }},
    {"bad-option", needs_server, [](const Inputs& in) { case_bad_option(in.server); }},
    {"bad-value", needs_server, [](const Inputs& in) { case_bad_value(in.server); }},
    {"error-log", needs_server, [](const Inputs& in) { case_error_log(in.server); }},
    {"fault-reset", needs_address, [](const Inputs& in) { case_fault_reset(in.address); }},
    {"fault-garbage", needs_address, [](const Inputs& in) { case_fault_garbage(in.address); }},
    {"fault-truncate", needs_address, [](const Inputs& in) { case_fault_truncate(in.address); }},
    {"fault-close", needs_address, [](const Inputs& in) { case_fault_close(in.address); }},
    {"fault-stall", needs_server, [](const Inputs& in) { case_fault_stall(in.server); }},
    {"idle-connections-1000", needs_address,
     [](const Inputs& in) { case_idle_connections_1000(in.address); }},
    {"malformed-burst", needs_address, [](const Inputs& in) { case_malformed_burst(in.address); }},
    {"closes-everything", needs_address_and_log,
     [](const Inputs& in) { case_closes_everything(in.address, in.server_log); }},
};

// The usage, then every case with the options it needs.
std::string usage_text() {
    std::string text =
        "Usage: delayserver-test CASE [--address HOST:PORT] [--server PATH] [--server-log FILE]\n"
        "       delayserver-test --help\n"
        "\n"
        "Runs one test case against the delay server; exit status 0 when every check passed,\n"
        "1 when one failed, 2 for bad usage.\n"
        "  --address HOST:PORT  the server to talk to\n"
        "  --server PATH        the server program, for the cases that start it themselves\n"
        "  --server-log FILE    the server's log (with-delayserver --server-log FILE)\n"
        "  -h, --help           print this text and exit\n"
        "\n"
        "Cases, and the options each needs:\n";
    for (const Case& each : cases) {
        text += "  " + std::string(each.name);
        text += std::string(each.name.size() < 24 ? 24 - each.name.size() : 1, ' ');
        text += (each.needs & needs_address) ? " --address" : "";
        text += (each.needs & needs_server) ? " --server" : "";
        text += (each.needs & needs_server_log) ? " --server-log" : "";
        text += "\n";
    }
    return text;
}

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "delayserver-test: %s\n%s", message.c_str(), usage_text().c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    const Case* chosen = nullptr;
    Inputs inputs;
    unsigned given = 0;
    for (int index = 1; index < argc; ++index) {
        const std::string_view argument = argv[index];
        if (argument == "--help" || argument == "-h") {
            std::fputs(usage_text().c_str(), stdout);
            return 0;
        }
        if (!argument.starts_with('-')) {
            if (chosen != nullptr) {
                usage_error("one case at a time, not '" + std::string(chosen->name) + "' and '" +
                            std::string(argument) + "'");
            }
            for (const Case& each : cases) {
                chosen = each.name == argument ? &each : chosen;
            }
            if (chosen == nullptr) {
                usage_error("unknown case '" + std::string(argument) + "'");
            }
            continue;
        }
        if (argument != "--address" && argument != "--server" && argument != "--server-log") {
            usage_error("unknown option '" + std::string(argument) + "'");
        }
        if (index + 1 >= argc) {
            usage_error(std::string(argument) + " needs a value");
        }
        const std::string value = argv[++index];
        if (argument == "--address") {
            const std::optional<Address> address = parse_address(value);
            if (!address) {
                usage_error("--address needs HOST:PORT, not '" + value + "'");
            }
            inputs.address = *address;
            given |= needs_address;
        } else if (argument == "--server") {
            inputs.server = value;
            given |= needs_server;
        } else {
            inputs.server_log = value;
            given |= needs_server_log;
        }
    }
    if (chosen == nullptr) {
        usage_error("no case given");
    }
    for (const auto& [need, option] :
         {std::pair{needs_address, "--address"}, std::pair{needs_server, "--server"},
          std::pair{needs_server_log, "--server-log"}}) {
        if ((chosen->needs & need) != 0 && (given & need) == 0) {
            usage_error("case " + std::string(chosen->name) + " needs " + option);
        }
    }

    // A server that closes early must make send() fail with EPIPE, not kill this program.
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        fail_with_os_error("signal");
    }
    chosen->run(inputs);
    if (failed_checks > 0) {
        std::printf("%d check(s) FAILED\n", failed_checks);
        return 1;
    }
    std::printf("all checks passed\n");
    return 0;
}
