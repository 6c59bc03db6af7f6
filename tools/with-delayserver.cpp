// tools/with-delayserver: run one program with a delay server started for it.
//
// The book runs the delay server in one terminal and the example in another. This launcher
// does both in one command, which is what ./run-example and the tests use:
//   1. start `delayserver --host 127.0.0.1 --port 0` (port 0: the OS picks a free port, so
//      any number of tests can run at once);
//   2. read the server's first line, `listening on HOST:PORT`;
//   3. run COMMAND with every `{address}` in its arguments replaced by HOST:PORT;
//   4. stop the server (SIGTERM) and exit with COMMAND's status.
//
// Usage:
//   with-delayserver --server PATH [--server-arg ARG]... [--server-wrapper ARG]...
//                    [--server-log FILE | --show-server] [--startup-timeout SECONDS]
//                    -- COMMAND [ARG...]
//   with-delayserver --help
//
// Without --server-log or --show-server, the server's log is read and dropped.
//
// Runs on Linux and macOS (a host tool: cross-built examples are its COMMAND, run under
// Wine or QEMU).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "command-line/command_line.hpp"

extern char** environ;

namespace {

[[noreturn]] void fail_with_os_error(const std::string& call) {
    std::fprintf(stderr, "with-delayserver: %s: %s\n", call.c_str(), std::strerror(errno));
    std::exit(2);
}

struct Options {
    std::string server;
    std::vector<std::string> server_arguments;
    std::vector<std::string> server_wrapper;
    std::string server_log;
    bool show_server = false;
    int startup_timeout_seconds = 20;
    std::vector<std::string> command;
};

Options parse_options(int argc, char** argv) {
    Options options;
    CLI::App app{
        "Starts the delay server PATH on a free port of 127.0.0.1, runs COMMAND with every\n"
        "{address} in its arguments replaced by the server's HOST:PORT, stops the server,\n"
        "and exits with COMMAND's status (3 if COMMAND passed but the server did not stop\n"
        "cleanly; 2 for bad usage or when the server cannot be started).",
        "with-delayserver"};
    app.add_option("--server", options.server, "the delay server program")
        ->required()
        ->type_name("PATH");
    app.add_option("--server-arg", options.server_arguments,
                   "one more argument for the server (repeatable)")
        ->type_name("ARG");
    app.add_option("--server-wrapper", options.server_wrapper,
                   "run the server under a tool such as valgrind: the ARGs come\n"
                   "before PATH (repeatable)")
        ->type_name("ARG");
    CLI::Option* server_log =
        app.add_option("--server-log", options.server_log,
                       "write what the server prints after its first line to FILE")
            ->type_name("FILE");
    app.add_flag("--show-server", options.show_server,
                 "copy the server's output and errors to standard error, each\n"
                 "line prefixed \"[delayserver] \"")
        ->excludes(server_log);
    app.add_option("--startup-timeout", options.startup_timeout_seconds,
                   "how long the server may take to report its address")
        ->type_name("SECONDS")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    app.add_option("COMMAND", options.command, "the program to run and its arguments, after --")
        ->required();
    parse_command_line(app, argc, argv);
    return options;
}

int wait_for(pid_t child) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            fail_with_os_error("waitpid");
        }
    }
    return status;
}

// The running server, once there is one, so that every way out of this launcher stops it:
// an error, or a signal such as Ctrl+C.
volatile sig_atomic_t running_server = 0;

void stop_server() {
    if (running_server > 0) {
        kill(running_server, SIGTERM);
        wait_for(running_server);
        running_server = 0;
    }
}

// The command, once started, so that a signal that ends the launcher ends it too.
volatile sig_atomic_t running_command = 0;

// For SIGINT, SIGTERM and SIGHUP: pass the signal on to the command, stop the server, then
// die of the same signal.
void stop_server_and_die(int signal_number) {
    if (running_command > 0) {
        kill(running_command, signal_number);  // async-signal-safe, as are the calls below
    }
    if (running_server > 0) {
        kill(running_server, SIGTERM);
        waitpid(running_server, nullptr, 0);
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

// Starts a program; if it cannot be started, stops `server_to_stop` (if any) and exits.
pid_t spawn(const std::vector<std::string>& arguments, posix_spawn_file_actions_t* actions,
            pid_t server_to_stop = 0) {
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t child = 0;
    const int error = posix_spawnp(&child, argv[0], actions, nullptr, argv.data(), environ);
    if (error != 0) {
        if (server_to_stop > 0) {
            kill(server_to_stop, SIGTERM);
            wait_for(server_to_stop);
        }
        errno = error;
        fail_with_os_error("cannot start " + arguments[0]);
    }
    return child;
}

// Reads the server's stdout until its `listening on HOST:PORT` line; returns HOST:PORT.
// Anything the server prints before that line is passed to stderr.
std::string read_address(int server_output, pid_t server, int timeout_seconds) {
    const std::string_view prefix = "listening on ";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    std::string line;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            kill(server, SIGKILL);
            wait_for(server);
            std::fprintf(stderr,
                         "with-delayserver: the delay server did not report its address "
                         "within %d s\n",
                         timeout_seconds);
            std::exit(2);
        }
        pollfd ready = {server_output, POLLIN, 0};
        const int count = poll(&ready, 1, static_cast<int>(left.count()));
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            fail_with_os_error("poll");
        }
        if (count == 0) {
            continue;
        }
        char character = 0;
        const ssize_t got = read(server_output, &character, 1);  // One byte: stop at the line.
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fail_with_os_error("read");
        }
        if (got == 0) {
            const int status = wait_for(server);
            std::fprintf(stderr,
                         "with-delayserver: the delay server ended before it was listening "
                         "(%s %d)\n",
                         WIFEXITED(status) ? "exit code" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            std::exit(2);
        }
        if (character != '\n') {
            line += character;
            continue;
        }
        if (line.starts_with(prefix)) {
            return line.substr(prefix.size());
        }
        std::fprintf(stderr, "%s\n", line.c_str());
        line.clear();
    }
}

// Keeps reading the server's log so the server never blocks on a full pipe. With
// prefix_lines, each whole line is written as "[delayserver] " and the line, less the
// "delayserver: " that the server's own messages start with (the prefix names it already).
void drain_server_log(int server_output, int log_fd, bool prefix_lines) {
    constexpr std::string_view server_name = "delayserver: ";
    char buffer[4096];
    std::string pending;  // the start of a line, until its end arrives
    while (true) {
        const ssize_t got = read(server_output, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        // The log is a courtesy: a failed write to it must not end the run.
        if (log_fd < 0) {
            continue;
        }
        if (!prefix_lines) {
            [[maybe_unused]] const ssize_t written = write(log_fd, buffer, got);
            continue;
        }
        pending.append(buffer, static_cast<std::size_t>(got));
        std::string text;
        std::size_t line_start = 0;
        for (std::size_t newline = pending.find('\n'); newline != std::string::npos;
             newline = pending.find('\n', line_start)) {
            std::string_view line(pending.data() + line_start, newline + 1 - line_start);
            if (line.starts_with(server_name)) {
                line.remove_prefix(server_name.size());
            }
            text.append("[delayserver] ").append(line);
            line_start = newline + 1;
        }
        pending.erase(0, line_start);
        [[maybe_unused]] const ssize_t written = write(log_fd, text.data(), text.size());
    }
    if (!pending.empty()) {  // a last line with no newline
        const std::string text = "[delayserver] " + pending + "\n";
        [[maybe_unused]] const ssize_t written = write(log_fd, text.data(), text.size());
    }
    close(server_output);
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);

    int server_pipe[2];
    if (pipe(server_pipe) != 0) {
        fail_with_os_error("pipe");
    }
    // The server writes to the pipe; the command must not inherit the read end.
    if (fcntl(server_pipe[0], F_SETFD, FD_CLOEXEC) != 0) {
        fail_with_os_error("fcntl");
    }
    posix_spawn_file_actions_t server_actions;
    posix_spawn_file_actions_init(&server_actions);
    posix_spawn_file_actions_adddup2(&server_actions, server_pipe[1], STDOUT_FILENO);
    if (options.show_server) {
        // Shown to a reader, the server's hints and errors get the same prefix as its log.
        // Otherwise its stderr stays the launcher's: a test may check it (valgrind's report).
        posix_spawn_file_actions_adddup2(&server_actions, server_pipe[1], STDERR_FILENO);
    }
    posix_spawn_file_actions_addclose(&server_actions, server_pipe[1]);
    std::vector<std::string> server_command = options.server_wrapper;
    for (const char* argument : {options.server.c_str(), "--host", "127.0.0.1", "--port", "0"}) {
        server_command.emplace_back(argument);
    }
    server_command.insert(server_command.end(), options.server_arguments.begin(),
                          options.server_arguments.end());
    const pid_t server = spawn(server_command, &server_actions);
    posix_spawn_file_actions_destroy(&server_actions);
    close(server_pipe[1]);

    const std::string address =
        read_address(server_pipe[0], server, options.startup_timeout_seconds);

    int log_fd = -1;
    if (!options.server_log.empty()) {
        log_fd = open(options.server_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            fail_with_os_error("open " + options.server_log);
        }
    } else if (options.show_server) {
        log_fd = STDERR_FILENO;
    }
    std::thread log_reader(drain_server_log, server_pipe[0], log_fd, options.show_server);

    for (std::string& argument : options.command) {
        for (std::size_t at = argument.find("{address}"); at != std::string::npos;
             at = argument.find("{address}", at + address.size())) {
            argument.replace(at, std::string_view("{address}").size(), address);
        }
    }
    // From here on the server must not outlive this launcher, whatever ends it.
    running_server = server;
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction action = {};
        action.sa_handler = stop_server_and_die;
        sigemptyset(&action.sa_mask);
        if (sigaction(signal_number, &action, nullptr) != 0) {
            stop_server();
            fail_with_os_error("sigaction");
        }
    }
    const pid_t child = spawn(options.command, nullptr, server);
    running_command = child;
    const int status = wait_for(child);
    running_command = 0;

    running_server = 0;  // Stopped here, and its exit status checked.
    if (kill(server, SIGTERM) != 0) {
        fail_with_os_error("kill");
    }
    const int server_status = wait_for(server);
    log_reader.join();  // The pipe closes when the server has exited.
    if (log_fd >= 0 && log_fd != STDERR_FILENO) {
        close(log_fd);
    }
    // A server that crashed or failed to stop is a failure even if the command passed.
    const bool server_ok = WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0;
    if (!server_ok) {
        std::fprintf(
            stderr, "with-delayserver: the delay server did not exit cleanly (%s %d)\n",
            WIFEXITED(server_status) ? "exit code" : "signal",
            WIFEXITED(server_status) ? WEXITSTATUS(server_status) : WTERMSIG(server_status));
    }

    if (WIFSIGNALED(status)) {
        // Die of the same signal, so whoever runs us sees what the command died of.
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    if (!WIFEXITED(status)) {
        return 1;
    }
    if (WEXITSTATUS(status) == 0 && !server_ok) {
        return 3;
    }
    return WEXITSTATUS(status);
}
