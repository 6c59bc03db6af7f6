// bench/scale_threads.cpp: N delayed requests, one OS thread per request.
//
// The way to wait before event queues: each request gets its own thread, and each thread
// makes ordinary blocking calls (connect, send, recv) that put it to sleep until the
// kernel has something for it. Easy to write; the cost is one OS thread per waiting
// request: a stack, a kernel task, a scheduler entry. The scale test measures that cost
// next to one thread waiting on an event queue (scale_epoll.cpp, scale_asio.cpp,
// scale_libuv.cpp).
//
// The threads get a 64 KiB stack instead of the default (8 MiB of address space, from
// `ulimit -s`), so that 10,000 of them fit in any 64-bit address space comfortably; the
// work below needs less than 16 KiB of it. std::thread has no way to ask for a stack
// size, so this file uses pthreads directly.
//
// Usage:    bench-scale-threads [--address HOST:PORT] [--requests N] [--delay-ms MS]
// Platform: Linux (scale_client.h reads /proc for the peak memory).
//
// What to watch for: a thread that cannot be created (pthread_create: Resource temporarily
// unavailable, when threads-max, pid_max, the cgroup's pids.max or memory run out) is
// counted as a failed request, not hidden.
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "scale_client.h"

using scale::Clock;

constexpr std::size_t stack_size = 64 * 1024;

// What one thread needs to know and where it writes what happened.
struct Work {
    const scale::Options* options = nullptr;
    int index = 0;
    scale::Outcome* outcome = nullptr;
};

// Notes a failure of this request's OS call; the other requests go on.
void fail_request(scale::Outcome& outcome, const char* call, int error_number) {
    outcome.failure = std::string(call) + ": " + std::strerror(error_number);
    outcome.finished = true;
    outcome.finished_at = Clock::now();
}

// One request, start to finish, with blocking calls: the thread sleeps in connect until
// the handshake is done and in recv until the answer arrives.
void* serve_one_request(void* argument) {
    const Work& work = *static_cast<const Work*>(argument);
    scale::Outcome& outcome = *work.outcome;
    const int socket = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socket < 0) {
        fail_request(outcome, "socket", errno);
        return nullptr;
    }
    // Every blocking wait is bounded: recv, send and (on Linux) connect give up after the
    // delay + 30 s.
    const timeval limit = {work.options->delay_ms / 1000 + 30,
                           (work.options->delay_ms % 1000) * 1000};
    if (setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0) {
        fail_request(outcome, "setsockopt", errno);
        close(socket);
        return nullptr;
    }
    // (No retry on EINTR: this program catches no signals, and a TCP connect interrupted
    // by one goes on in the background, so calling it again would fail with EALREADY.)
    if (connect(socket, reinterpret_cast<const sockaddr*>(&work.options->address),
                sizeof work.options->address) != 0) {
        fail_request(outcome, "connect", errno);
        close(socket);
        return nullptr;
    }
    const std::string request = scale::build_request(work.options->delay_ms, work.index);
    std::string_view unsent = request;
    while (!unsent.empty()) {
        const ssize_t sent = send(socket, unsent.data(), unsent.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent < 0) {
            fail_request(outcome, "send", errno);
            close(socket);
            return nullptr;
        }
        unsent.remove_prefix(static_cast<std::size_t>(sent));
    }
    outcome.sent_at = Clock::now();
    std::string received;
    char buffer[4096];
    while (true) {
        const ssize_t count = recv(socket, buffer, sizeof buffer, 0);  // sleeps here
        if (count > 0) {
            received.append(buffer, static_cast<std::size_t>(count));
            continue;
        }
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            fail_request(outcome, "recv", errno);  // EAGAIN here: the time limit passed
            close(socket);
            return nullptr;
        }
        break;  // End of file: the server sent everything and closed.
    }
    if (close(socket) != 0) {
        fail_request(outcome, "close", errno);
        return nullptr;
    }
    outcome.failure = scale::check_answer(received, work.index);
    outcome.finished = true;
    outcome.finished_at = Clock::now();
    return nullptr;
}

int main(int argc, char** argv) {
    scale::program_name = "bench-scale-threads";
    scale::program_way = "a thread each";
    const scale::Options options = scale::parse_options(argc, argv);
    scale::raise_open_file_limit(options.requests);
    const auto count = static_cast<std::size_t>(options.requests);
    std::vector<scale::Outcome> outcomes(count);
    std::vector<Work> work(count);
    std::vector<pthread_t> threads(count);
    std::vector<bool> started(count, false);

    // pthread calls return an error number instead of setting errno.
    pthread_attr_t attributes;
    if (const int error = pthread_attr_init(&attributes); error != 0) {
        scale::fail("pthread_attr_init", error);
    }
    // Not below the platform's minimum (16 KiB on x86-64, 128 KiB on ARM64 Linux).
    const std::size_t size = std::max(stack_size, static_cast<std::size_t>(PTHREAD_STACK_MIN));
    if (const int error = pthread_attr_setstacksize(&attributes, size); error != 0) {
        scale::fail("pthread_attr_setstacksize", error);
    }
    std::printf("one thread per request, each with a %zu KiB stack\n", size / 1024);

    const Clock::time_point start = Clock::now();
    for (std::size_t index = 0; index < count; ++index) {
        work[index] = Work{&options, static_cast<int>(index), &outcomes[index]};
        const int error =
            pthread_create(&threads[index], &attributes, serve_one_request, &work[index]);
        if (error != 0) {
            fail_request(outcomes[index], "pthread_create", error);
            continue;
        }
        started[index] = true;
    }
    for (std::size_t index = 0; index < count; ++index) {
        if (!started[index]) {
            continue;
        }
        if (const int error = pthread_join(threads[index], nullptr); error != 0) {
            scale::fail("pthread_join", error);
        }
    }
    if (const int error = pthread_attr_destroy(&attributes); error != 0) {
        scale::fail("pthread_attr_destroy", error);
    }
    return scale::print_summary(options, outcomes, start);
}
