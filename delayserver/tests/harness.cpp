// delayserver/tests/harness.cpp: what every case of the delay server's test client uses
// (declared, and explained, in harness.hpp). Platform: POSIX.
#include "harness.hpp"

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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "run-captured.h"

namespace delayserver_test {

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

int failed_checks = 0;

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

FileDescriptor::~FileDescriptor() {
    if (fd_ >= 0 && close(fd_) != 0) {
        std::printf("warning: close: %s\n", std::strerror(errno));
    }
}

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

void raise_open_file_limit(unsigned long wanted_files) {
    const auto wanted = static_cast<rlim_t>(wanted_files);
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

std::string get_request(std::string_view path) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

std::string send_and_receive(const Address& address, std::string_view request) {
    const FileDescriptor socket_fd = connect_to(address);
    send_text(socket_fd, request);
    return read_until_closed(socket_fd);
}

void check_answer(const std::string& request, const std::string& raw,
                  std::string_view expected_status_line, std::string_view expected_body,
                  bool body_is_sent) {
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

void expect_answer(const Address& address, const std::string& request,
                   std::string_view expected_status_line, std::string_view expected_body) {
    check_answer(request, send_and_receive(address, request), expected_status_line, expected_body);
}

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

// A failed check ends this program with std::exit, which runs no destructor of a local
// object; so the process id of the server RunningServer started is also kept here, for an
// atexit handler to kill it.
namespace {

pid_t started_server_pid = -1;

void kill_started_server() {
    if (started_server_pid > 0) {
        kill(started_server_pid, SIGKILL);
        waitpid(started_server_pid, nullptr, 0);
        started_server_pid = -1;
    }
}

}  // namespace

RunningServer::RunningServer(const std::vector<std::string>& arguments) {
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
    const int spawn_error = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
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
RunningServer::~RunningServer() {
    kill_started_server();  // only if stop() has not already ended it
    if (output_ >= 0 && close(output_) != 0) {
        std::printf("warning: close: %s\n", std::strerror(errno));
    }
}

std::string RunningServer::wait_for_line(std::string_view wanted) {
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
        const int ready = left.count() > 0 ? poll(&readable, 1, static_cast<int>(left.count())) : 0;
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            fail_with_os_error("poll");
        }
        if (ready == 0) {
            fail_now("the server printed no line with \"" + std::string(wanted) + "\" within 10 s");
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

int RunningServer::stop() {
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

// ---------------------------------------------------------------------------------------
// The server's log (written by with-delayserver --server-log)
// ---------------------------------------------------------------------------------------

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

}  // namespace delayserver_test
