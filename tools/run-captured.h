// tools/run-captured.h: start programs, read what they print and how they end, and say what
// failed, for the test tools (expect-output, with-delayserver) and the delay server's test
// client (delayserver/tests/delayserver-test.cpp). Header only; POSIX (the test tools run on
// Linux and macOS hosts).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

// The tool's name, which starts each of its messages (each tool defines it).
extern const char tool_name[];

// Says on standard error what went wrong, and exits with 2.
[[noreturn]] inline void fail(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", tool_name, message.c_str());
    std::exit(2);
}

// For a failed OS call: its name, and the OS's message for errno.
[[noreturn]] inline void fail_with_os_error(const std::string& call) {
    fail(call + ": " + std::strerror(errno));
}

// A pipe that no program started here inherits, but as the descriptor it is given.
inline void make_pipe(int ends[2]) {
    if (pipe(ends) != 0) {
        fail_with_os_error("pipe");
    }
    for (int index = 0; index < 2; ++index) {
        if (fcntl(ends[index], F_SETFD, FD_CLOEXEC) != 0) {
            fail_with_os_error("fcntl");
        }
    }
}

// The posix_spawn functions return an error number instead of setting errno.
inline void check_spawn_call(int error, const std::string& call) {
    if (error != 0) {
        errno = error;
        fail_with_os_error(call);
    }
}

// Starts `arguments` (the program is looked up in PATH) with, for each {from, to} of
// `redirects`, descriptor `from` as its descriptor `to`; in a process group of its own if
// `own_group`.
inline pid_t spawn_program(const std::vector<std::string>& arguments,
                           const std::vector<std::pair<int, int>>& redirects = {},
                           bool own_group = false) {
    posix_spawn_file_actions_t actions;
    check_spawn_call(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
    for (const auto& [from, to] : redirects) {
        check_spawn_call(posix_spawn_file_actions_adddup2(&actions, from, to),
                         "posix_spawn_file_actions_adddup2");
    }
    posix_spawnattr_t attributes;
    check_spawn_call(posix_spawnattr_init(&attributes), "posix_spawnattr_init");
    // The group to join is the attribute's default, 0: a new one, numbered as the child.
    check_spawn_call(posix_spawnattr_setflags(&attributes, own_group ? POSIX_SPAWN_SETPGROUP : 0),
                     "posix_spawnattr_setflags");
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t child = 0;
    check_spawn_call(posix_spawnp(&child, argv[0], &actions, &attributes, argv.data(), environ),
                     "posix_spawn " + arguments[0]);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return child;
}

// Waits for `child` to end: its status, as WIFEXITED, WTERMSIG, ... read it.
inline int wait_for(pid_t child) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            fail_with_os_error("waitpid");
        }
    }
    return status;
}

// How a process ended, for a message: "exit code 1", "signal 11 (Segmentation fault)".
inline std::string how_it_ended(int status) {
    if (WIFSIGNALED(status)) {
        const int signal = WTERMSIG(status);
        return "signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    }
    return "exit code " + std::to_string(WEXITSTATUS(status));
}

// Reads what `descriptor` has onto the end of `text`; false at the end of the file.
inline bool read_more(int descriptor, std::string& text) {
    char buffer[4096];
    ssize_t count;
    while ((count = read(descriptor, buffer, sizeof buffer)) < 0) {
        if (errno != EINTR) {
            fail_with_os_error("read");
        }
    }
    text.append(buffer, static_cast<std::size_t>(count));
    return count > 0;
}

struct CapturedRun {
    std::string out;
    std::string err;
    int status = 0;          // as wait_for returns it
    bool timed_out = false;  // it outlived the timeout and was killed
};

// Runs `arguments` with its stdout and stderr on two pipes, reading both until they close.
// The program gets its own process group, so that a timeout ends it and everything it
// started.
inline CapturedRun run_captured(const std::vector<std::string>& arguments,
                                std::chrono::milliseconds timeout) {
    int out_pipe[2];
    int err_pipe[2];
    make_pipe(out_pipe);
    make_pipe(err_pipe);
    const pid_t child = spawn_program(
        arguments, {{out_pipe[1], STDOUT_FILENO}, {err_pipe[1], STDERR_FILENO}}, true);
    close(out_pipe[1]);
    close(err_pipe[1]);

    CapturedRun run;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd pipes[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&run.out, &run.err};
    while (pipes[0].fd >= 0 || pipes[1].fd >= 0) {  // poll skips a closed one's -1
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            run.timed_out = true;
            kill(-child, SIGKILL);
            break;
        }
        const int ready = poll(pipes, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) {
            fail_with_os_error("poll");
        }
        for (int index = 0; index < 2 && ready > 0; ++index) {
            if (pipes[index].revents != 0 && !read_more(pipes[index].fd, *sinks[index])) {
                close(pipes[index].fd);
                pipes[index].fd = -1;
            }
        }
    }
    for (const pollfd& pipe_end : pipes) {
        if (pipe_end.fd >= 0) {
            close(pipe_end.fd);
        }
    }
    run.status = wait_for(child);
    return run;
}
