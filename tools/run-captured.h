// tools/run-captured.h: run a program and capture what it prints (for the test tools).
//
// Shared by tools/expect-output.cpp and delayserver/tests/delayserver-test.cpp, which both
// run a program, read its standard output and standard error until both close, and must
// never wait forever; tools/with-delayserver.cpp starts its programs with spawn_program.
// Header only; POSIX (the test tools run on Linux and macOS hosts).
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

extern char** environ;

// The posix_spawn functions return an error number instead of setting errno: a failed one
// is passed, by name, to `fail_with_os_error`, which reports errno and does not return.
inline void check_spawn_call(int error, const char* call,
                             void (*fail_with_os_error)(const std::string& call)) {
    if (error != 0) {
        errno = error;
        fail_with_os_error(call);
    }
}

// Starts `arguments` (the program is looked up in PATH) with the given file actions and
// attributes (either may be null).
inline pid_t spawn_program(const std::vector<std::string>& arguments,
                           const posix_spawn_file_actions_t* actions,
                           const posix_spawnattr_t* attributes,
                           void (*fail_with_os_error)(const std::string& call)) {
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t child = 0;
    check_spawn_call(posix_spawnp(&child, argv[0], actions, attributes, argv.data(), environ),
                     ("posix_spawn " + arguments[0]).c_str(), fail_with_os_error);
    return child;
}

struct CapturedRun {
    std::string out;
    std::string err;
    int status = 0;          // as waitpid reports it: WIFEXITED, WTERMSIG, ...
    bool timed_out = false;  // it outlived the timeout and was killed
};

// Runs `arguments` (the program is looked up in PATH) with its stdout and stderr on two
// pipes, reading both until they close. The program gets its own process group, so that
// a timeout ends it and everything it started. A failed OS call is passed, by name, to
// `fail_with_os_error`, which reports errno and does not return.
inline CapturedRun run_captured(const std::vector<std::string>& arguments,
                                std::chrono::milliseconds timeout,
                                void (*fail_with_os_error)(const std::string& call)) {
    int out_pipe[2];
    int err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        fail_with_os_error("pipe");
    }
    posix_spawn_file_actions_t actions;
    check_spawn_call(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init",
                     fail_with_os_error);
    check_spawn_call(posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO),
                     "posix_spawn_file_actions_adddup2", fail_with_os_error);
    check_spawn_call(posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO),
                     "posix_spawn_file_actions_adddup2", fail_with_os_error);
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
        check_spawn_call(posix_spawn_file_actions_addclose(&actions, fd),
                         "posix_spawn_file_actions_addclose", fail_with_os_error);
    }
    posix_spawnattr_t attributes;
    check_spawn_call(posix_spawnattr_init(&attributes), "posix_spawnattr_init", fail_with_os_error);
    check_spawn_call(posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP),
                     "posix_spawnattr_setflags", fail_with_os_error);
    check_spawn_call(posix_spawnattr_setpgroup(&attributes, 0), "posix_spawnattr_setpgroup",
                     fail_with_os_error);
    const pid_t child = spawn_program(arguments, &actions, &attributes, fail_with_os_error);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(out_pipe[1]);
    close(err_pipe[1]);

    CapturedRun run;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd pipes[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&run.out, &run.err};
    int open_pipes = 2;
    while (open_pipes > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            run.timed_out = true;
            kill(-child, SIGKILL);
            break;
        }
        const int ready = poll(pipes, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            fail_with_os_error("poll");
        }
        for (int index = 0; index < 2; ++index) {
            if (pipes[index].fd < 0 || pipes[index].revents == 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t count = read(pipes[index].fd, buffer, sizeof buffer);
            if (count < 0 && errno == EINTR) {
                continue;
            }
            if (count < 0) {
                fail_with_os_error("read");
            }
            if (count == 0) {
                close(pipes[index].fd);
                pipes[index].fd = -1;
                --open_pipes;
            } else {
                sinks[index]->append(buffer, static_cast<std::size_t>(count));
            }
        }
    }
    for (const pollfd& pipe_end : pipes) {
        if (pipe_end.fd >= 0) {
            close(pipe_end.fd);
        }
    }
    while (waitpid(child, &run.status, 0) < 0) {
        if (errno != EINTR) {
            fail_with_os_error("waitpid");
        }
    }
    return run;
}
