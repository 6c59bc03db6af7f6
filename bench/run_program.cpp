// bench/run_program.cpp: how bench-suite runs one measurement: as its own process, with a
// time limit, its output kept in files; and the delay server each scale run talks to.
//
// Every measurement is its own process, so nothing one leaves behind (memory, threads,
// the previous server's sockets in TIME_WAIT) is counted in the next. The kernel's count
// of the process's CPU time comes back from wait4.
//
// Part of bench-suite (see suite.h). Platform: Linux (pidfd_open, Linux 5.3).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "suite.h"

extern char** environ;

namespace suite {

std::string work_folder;
pid_t running_server = 0;

namespace {

double milliseconds(const timeval& time) {
    return static_cast<double>(time.tv_sec) * 1000.0 + static_cast<double>(time.tv_usec) / 1000.0;
}

pid_t spawn(const std::vector<std::string>& arguments, const std::string& stdout_path,
            const std::string& stderr_path) {
    posix_spawn_file_actions_t actions;
    // The posix_spawn functions return an error number instead of setting errno.
    if (const int error = posix_spawn_file_actions_init(&actions); error != 0) {
        fail("posix_spawn_file_actions_init", error);
    }
    for (const auto& [descriptor, path] :
         {std::pair{STDOUT_FILENO, &stdout_path}, std::pair{STDERR_FILENO, &stderr_path}}) {
        const int error = posix_spawn_file_actions_addopen(&actions, descriptor, path->c_str(),
                                                           O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (error != 0) {
            fail("posix_spawn_file_actions_addopen", error);
        }
    }
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t child = 0;
    const int error = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);  // Cannot fail once init succeeded.
    if (error != 0) {
        fail("cannot start " + arguments[0], error);
    }
    return child;
}

}  // namespace

bool Finished::succeeded() const {
    return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double Finished::cpu_ms() const {
    return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
}

std::string Finished::how_it_ended() const {
    if (timed_out) {
        return "killed after the time limit";
    }
    if (WIFSIGNALED(status)) {
        return std::string("killed by signal ") + strsignal(WTERMSIG(status));
    }
    std::string text = format("exit status %d", WEXITSTATUS(status));
    const std::string first_error = errors.substr(0, errors.find('\n'));
    return first_error.empty() ? text : text + ": " + first_error;
}

Finished run_program(const std::vector<std::string>& arguments, std::chrono::seconds limit) {
    const std::string stdout_path = work_folder + "/stdout.txt";
    const std::string stderr_path = work_folder + "/stderr.txt";
    const pid_t child = spawn(arguments, stdout_path, stderr_path);
    // A pidfd becomes readable when the process ends: poll() on it waits with a time limit,
    // which waitpid() cannot. (pidfd_open: Linux 5.3; glibc wraps it only since 2.36.)
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
    if (pidfd < 0) {
        fail("pidfd_open");
    }
    Finished finished;
    const Clock::time_point deadline = Clock::now() + limit;
    while (true) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd ended = {pidfd, POLLIN, 0};
        const int ready = poll(&ended, 1, static_cast<int>(std::max<long>(left.count(), 0)));
        if (ready < 0 && errno == EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (ready < 0) {
            fail("poll");
        }
        if (ready == 0) {
            finished.timed_out = true;
            if (kill(child, SIGKILL) != 0) {
                fail("kill");
            }
        }
        break;
    }
    if (close(pidfd) != 0) {
        fail("close");
    }
    while (wait4(child, &finished.status, 0, &finished.usage) < 0) {
        if (errno != EINTR) {
            fail("wait4");
        }
    }
    finished.output = read_file(stdout_path);
    finished.errors = read_file(stderr_path);
    return finished;
}

std::map<std::string, std::string> parse_result(const std::string& output) {
    std::map<std::string, std::string> values;
    std::istringstream words(line_after(output, "result "));
    for (std::string word; words >> word;) {
        const std::size_t equals = word.find('=');
        if (equals != std::string::npos) {
            values[word.substr(0, equals)] = word.substr(equals + 1);
        }
    }
    return values;
}

double number(const std::map<std::string, std::string>& values, const std::string& name) {
    const auto found = values.find(name);
    return found == values.end() ? std::nan("") : std::strtod(found->second.c_str(), nullptr);
}

DelayServer::DelayServer(const std::string& program) {
    const std::string log_path = work_folder + "/server.log";
    const std::string errors_path = work_folder + "/server-errors.log";
    pid_ = spawn({program, "--host", "127.0.0.1", "--port", "0"}, log_path, errors_path);
    running_server = pid_;
    // Port 0: the OS picks a free port, and the server's first line says which one. Its
    // standard output is a file (a pipe nobody reads would fill up at N = 10,000 log lines
    // and stop the server), so read the file until the line is there.
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);
    while (address_.empty()) {
        const std::string log = read_file(log_path);
        const std::size_t end = log.find('\n');
        if (end != std::string::npos && log.starts_with("listening on ")) {
            address_ = log.substr(13, end - 13);
            break;
        }
        int status = 0;
        const pid_t ended = waitpid(pid_, &status, WNOHANG);
        if (ended < 0) {
            fail("waitpid");
        }
        if (ended == pid_) {
            running_server = 0;
            std::fprintf(stderr, "bench-suite: the delay server ended before listening:\n%s",
                         read_file(errors_path).c_str());
            std::exit(1);
        }
        if (Clock::now() > deadline) {
            std::fprintf(stderr, "bench-suite: the delay server did not report its port\n");
            std::exit(1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

DelayServer::~DelayServer() {
    if (pid_ != 0) {
        stop();
    }
}

// SIGTERM: the server's documented way to stop (exit status 0).
double DelayServer::stop() {
    if (kill(pid_, SIGTERM) != 0) {
        fail("kill");
    }
    int status = 0;
    rusage usage{};
    while (wait4(pid_, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            fail("wait4");
        }
    }
    pid_ = 0;
    running_server = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench-suite: warning: the delay server ended badly (%d)\n", status);
    }
    return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
}

}  // namespace suite
