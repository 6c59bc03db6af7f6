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
// Platform: Linux (scale_client.h reads /proc for the peak memory).
//
// What to watch for: a thread that cannot be created (pthread_create: Resource temporarily
// unavailable, when threads-max, pid_max, the cgroup's pids.max or memory run out) is
// counted as a failed request, not hidden.
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
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

// One request, start to finish, with blocking calls: the thread sleeps in connect until
// the handshake is done and in recv until the answer arrives.
void* serve_one_request(void* argument) {
    const Work& work = *static_cast<const Work*>(argument);
    const scale::Options& options = *work.options;
    scale::Outcome& outcome = *work.outcome;
    scale::Stream stream;
    stream.socket = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (stream.socket < 0) {
        outcome.finish(scale::failure("socket", errno));
        return nullptr;
    }
    // Every blocking wait is bounded: recv, send and (on Linux) connect give up after the
    // delay + 30 s.
    const timeval limit = {options.delay_ms / 1000 + 30, (options.delay_ms % 1000) * 1000};
    // (No retry of connect on EINTR: this program catches no signals, and a TCP connect
    // interrupted by one goes on in the background, so calling it again would fail with
    // EALREADY.)
    if (setsockopt(stream.socket, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        setsockopt(stream.socket, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0) {
        outcome.finish(scale::failure("setsockopt", errno));
    } else if (connect(stream.socket, reinterpret_cast<const sockaddr*>(&options.address),
                       sizeof options.address) != 0) {
        outcome.finish(scale::failure("connect", errno));
    } else if (scale::send_request(stream, outcome, options.delay_ms, work.index) &&
               !scale::read_answer(stream, outcome, work.index)) {  // sleeps in recv
        outcome.finish("recv: no answer within the delay + 30 s");
    }
    scale::close_socket(stream.socket);
    return nullptr;
}

int main(int argc, char** argv) {
    const scale::Options options =
        scale::parse_options(argc, argv, "bench-scale-threads", "a thread each");
    const auto count = static_cast<std::size_t>(options.requests);
    std::vector<scale::Outcome> outcomes(count);
    std::vector<Work> work(count);
    std::vector<pthread_t> threads(count);
    std::vector<bool> started(count, false);

    // pthread calls return an error number instead of setting errno.
    pthread_attr_t attributes;
    measure::check_error_number("pthread_attr_init", pthread_attr_init(&attributes));
    // Not below the platform's minimum (16 KiB on x86-64, 128 KiB on ARM64 Linux).
    const std::size_t size = std::max(stack_size, static_cast<std::size_t>(PTHREAD_STACK_MIN));
    measure::check_error_number("pthread_attr_setstacksize",
                                pthread_attr_setstacksize(&attributes, size));
    std::printf("one thread per request, each with a %zu KiB stack\n", size / 1024);

    const Clock::time_point start = Clock::now();
    for (std::size_t index = 0; index < count; ++index) {
        work[index] = Work{&options, static_cast<int>(index), &outcomes[index]};
        const int error =
            pthread_create(&threads[index], &attributes, serve_one_request, &work[index]);
        if (error != 0) {
            outcomes[index].finish(scale::failure("pthread_create", error));
            continue;
        }
        started[index] = true;
    }
    for (std::size_t index = 0; index < count; ++index) {
        if (started[index]) {
            measure::check_error_number("pthread_join", pthread_join(threads[index], nullptr));
        }
    }
    measure::check_error_number("pthread_attr_destroy", pthread_attr_destroy(&attributes));
    return scale::print_summary(options, outcomes, start);
}
