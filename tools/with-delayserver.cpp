// tools/with-delayserver: run one program with a delay server started for it.
//
// The book runs the delay server in one terminal and the example in another. This launcher
// does both in one command, which is what ./run-example and the tests use (how: --help).
// The server gets port 0, so that the OS picks a free one and any number of tests can run
// at once; its first line, `listening on HOST:PORT`, says which. Without --show-server, the
// server's log is read and dropped.
//
// Runs on Linux and macOS (a host tool: cross-built examples are its COMMAND, run under
// Wine or QEMU).
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "command-line/command_line.hpp"
#include "run-captured.h"  // spawn_program, wait_for, fail, ...

const char tool_name[] = "with-delayserver";

namespace {

// How long the server may take to say where it listens: under valgrind, on a busy machine,
// a few seconds; a server that takes longer is broken.
constexpr int startup_timeout_seconds = 20;

// The running server, once there is one, so that every way out of this launcher stops it:
// an error, or a signal such as Ctrl+C.
volatile sig_atomic_t running_server = 0;

// The command, once started, so that a signal that ends the launcher ends it too.
volatile sig_atomic_t running_command = 0;

// At exit, after an error (run-captured.h's fail, exit code 2): the server, if it runs.
void kill_server() {
    if (running_server > 0) {
        kill(running_server, SIGKILL);
        waitpid(running_server, nullptr, 0);
    }
}

struct Options {
    std::string server;
    std::vector<std::string> server_arguments;
    std::vector<std::string> server_wrapper;
    bool show_server = false;
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
    app.add_flag("--show-server", options.show_server,
                 "copy the server's output and errors to standard error, each\n"
                 "line prefixed \"[delayserver] \"");
    app.add_option("COMMAND", options.command, "the program to run and its arguments, after --")
        ->required();
    parse_command_line(app, argc, argv);
    return options;
}

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

// Reads the server's standard output until it closes, so that the server never blocks on a
// full pipe. Its line `listening on HOST:PORT` gives `address` HOST:PORT (or nothing, if the
// output ends first); what the server prints before that line is passed to stderr. After
// it, with show_server, each line is written to stderr as "[delayserver] " and the line,
// less the "delayserver: " that the server's own messages start with (the prefix names it
// already); without, it is dropped.
void read_server_output(int server_output, bool show_server, std::promise<std::string>& address) {
    constexpr std::string_view listening_on = "listening on ";
    constexpr std::string_view server_name = "delayserver: ";
    bool listening = false;
    std::string pending;  // what has come and is not yet a whole line
    for (bool more = true; more;) {
        more = read_more(server_output, pending);
        if (!more && listening && !pending.empty()) {
            pending += '\n';  // a last line with no newline
        }
        std::string text;  // what goes to stderr
        for (std::size_t end; (end = pending.find('\n')) != std::string::npos;
             pending.erase(0, end + 1)) {
            std::string_view line(pending.data(), end + 1);
            if (!listening && line.starts_with(listening_on)) {
                listening = true;
                address.set_value(
                    std::string(line.substr(listening_on.size(), end - listening_on.size())));
            } else if (!listening) {
                text.append(line);
            } else if (show_server) {
                if (line.starts_with(server_name)) {
                    line.remove_prefix(server_name.size());
                }
                text.append("[delayserver] ").append(line);
            }
        }
        // The log is a courtesy: a failed write to it must not end the run.
        [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, text.data(), text.size());
    }
    if (!listening) {
        address.set_value("");
    }
    close(server_output);
}

}  // namespace

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    // From here on the server must not outlive this launcher, whatever ends it.
    if (std::atexit(kill_server) != 0) {
        fail("atexit failed");
    }
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction action = {};
        action.sa_handler = stop_server_and_die;
        sigemptyset(&action.sa_mask);
        if (sigaction(signal_number, &action, nullptr) != 0) {
            fail_with_os_error("sigaction");
        }
    }

    int server_pipe[2];
    make_pipe(server_pipe);  // the server writes to it, and nothing else it starts
    // Shown to a reader, the server's hints and errors get the same prefix as its log.
    // Otherwise its stderr stays the launcher's: a test may check it (valgrind's report).
    std::vector<std::pair<int, int>> redirects = {{server_pipe[1], STDOUT_FILENO}};
    if (options.show_server) {
        redirects.emplace_back(server_pipe[1], STDERR_FILENO);
    }
    std::vector<std::string> server_command = options.server_wrapper;
    server_command.insert(server_command.end(),
                          {options.server, "--host", "127.0.0.1", "--port", "0"});
    server_command.insert(server_command.end(), options.server_arguments.begin(),
                          options.server_arguments.end());
    const pid_t server = spawn_program(server_command, redirects);
    running_server = server;
    close(server_pipe[1]);

    std::promise<std::string> address_promise;
    std::future<std::string> address_future = address_promise.get_future();
    std::thread log_reader(read_server_output, server_pipe[0], options.show_server,
                           std::ref(address_promise));
    if (address_future.wait_for(std::chrono::seconds(startup_timeout_seconds)) ==
        std::future_status::timeout) {
        fail("the delay server did not report its address within " +
             std::to_string(startup_timeout_seconds) + " s");
    }
    const std::string address = address_future.get();
    if (address.empty()) {
        log_reader.join();
        const int status = wait_for(server);
        running_server = 0;
        fail("the delay server ended before it was listening (" + how_it_ended(status) + ")");
    }

    for (std::string& argument : options.command) {
        for (std::size_t at = argument.find("{address}"); at != std::string::npos;
             at = argument.find("{address}", at + address.size())) {
            argument.replace(at, std::string_view("{address}").size(), address);
        }
    }
    const pid_t child = spawn_program(options.command);
    running_command = child;
    const int status = wait_for(child);
    running_command = 0;

    running_server = 0;  // Stopped here, and its exit status checked.
    if (kill(server, SIGTERM) != 0) {
        fail_with_os_error("kill");
    }
    const int server_status = wait_for(server);
    log_reader.join();  // The pipe closes when the server has exited.
    // A server that crashed or failed to stop is a failure even if the command passed.
    const bool server_ok = WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0;
    if (!server_ok) {
        std::fprintf(stderr, "with-delayserver: the delay server did not exit cleanly (%s)\n",
                     how_it_ended(server_status).c_str());
    }

    if (WIFSIGNALED(status)) {
        // Die of the same signal, so whoever runs us sees what the command died of.
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    if (!WIFEXITED(status)) {
        return 1;
    }
    return WEXITSTATUS(status) == 0 && !server_ok ? 3 : WEXITSTATUS(status);
}
