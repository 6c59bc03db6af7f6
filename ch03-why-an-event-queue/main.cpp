// ch03-why-an-event-queue: the same five slow requests, waited for four ways, side by side.
//
// Chapter 3 opens with "Why use an OS-backed event queue?". A program can wait for I/O in
// three ways: block (the OS parks the thread and wakes it when the data is there), poll
// without blocking (ask again and again; the OS answers "not yet" until it answers
// "ready"), or hand the waiting to an event queue (the OS wakes the thread with a list of
// what is ready). This program sends the same requests to the delay server four times, one
// way after another, and measures each:
//   1. blocking, one request after another, on one thread;
//   2. blocking, one OS thread per request;
//   3. non-blocking sockets and a busy loop that asks each socket again and again;
//   4. epoll, the OS's event queue, on one thread.
// The table at the end has the answer to the chapter's question: the queue is as fast as a
// thread per request, and as cheap as doing nothing while it waits. The busy loop is as
// fast too, and keeps a CPU core busy all the time it waits.
//
// After what every way shares (connecting and sending, a blocking read), the four ways,
// each a short function in the order above; then main, which runs and measures them. The
// rest (arguments, the answer check, the table) is in arguments_and_table.hpp, which a
// first reading may skip.
//
// Usage:    ch03-why-an-event-queue [--address HOST:PORT] [--requests N] [--step MS]
//                                   [--timeout MS]          (--help lists the defaults)
//           The delay server must be running: ./run-example ch03-why-an-event-queue
//           starts one.
// Platform: Linux (epoll). macOS and BSD would use kqueue (see ch03-kqueue), Windows IOCP
//           (ch03-iocp); there the build skips this example and says why.
//
// What to watch for: the first way takes the sum of the delays, the other three about the
// longest; the busy loop's CPU time is close to its wall time and its OS calls run into
// the hundreds of thousands, while the other ways use almost no CPU.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>

#include "arguments_and_table.hpp"  // also support/arguments_and_report.hpp, <chrono>, <cstdio>, <cstdlib>, <string>, <vector>
#include "connect_and_send_posix.hpp"  // connect_to, send_all

// ----------------------------------------------------------------------------------------
// Reporting errors
// ----------------------------------------------------------------------------------------

const char program_name[] = "ch03-why-an-event-queue";  // starts every message
const char program_purpose[] =  // for --help, after "Five slow requests to the delay server, "
    "waited for four ways: blocking one\nafter another, blocking on a thread each, a busy "
    "loop, and epoll; then a\ntable of the time and CPU time each way took";

// Every OS call is checked on the next line; a failure prints the OS's own message. The
// caller passes the error code, so each call site shows where its error comes from.
[[noreturn]] void fail(std::string_view call, int error) {
    std::fprintf(stderr, "%s: %.*s: %s\n", program_name, static_cast<int>(call.size()), call.data(),
                 std::strerror(error));
    std::exit(1);
}

[[noreturn]] void timed_out(const Arguments& arguments) {
    std::fprintf(stderr, "%s: timed out: nothing arrived for %d ms\n", program_name,
                 arguments.timeout_ms);
    std::exit(1);
}

// ----------------------------------------------------------------------------------------
// Connecting, sending, reading: the same in every way
// ----------------------------------------------------------------------------------------

// Owns one file descriptor (a socket, or the queue) and closes it once.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0 && close(fd_) != 0) {
            std::fprintf(stderr, "%s: close: %s\n", program_name, std::strerror(errno));
        }
    }
    int get() const {
        return fd_;
    }

  private:
    int fd_;
};

// Connects a blocking TCP socket to the delay server and sends request i: GET
// /500/request-0 asks it to answer "request-0" after 500 ms (connect_to and send_all are
// support/connect_and_send_posix.hpp's, the same as the event-queue examples').
FileDescriptor connect_and_send(const Arguments& arguments, int index) {
    FileDescriptor socket(connect_to(arguments));
    // A blocking read on this socket gives up after --timeout ms with nothing arriving (it
    // fails with EAGAIN), so no way can hang for ever.
    const timeval timeout = {arguments.timeout_ms / 1000, arguments.timeout_ms % 1000 * 1000};
    if (setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        fail("setsockopt", errno);
    }
    send_all(socket.get(), build_request(request_path(arguments, index)));
    return socket;
}

// From here on a read with nothing to read fails with EAGAIN ("not yet") instead of
// putting the thread to sleep.
void make_non_blocking(const FileDescriptor& socket) {
    const int flags = fcntl(socket.get(), F_GETFL);
    if (flags < 0 || fcntl(socket.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
        fail("fcntl", errno);
    }
}

// One page: a whole answer of the delay server fits.
constexpr std::size_t read_buffer_size = 4096;

// What one way brings back: the answer to each request, and how many times it asked the
// OS for data (read) or for news (epoll_wait).
struct Answers {
    std::vector<std::string> received;
    std::int64_t os_calls = 0;
};

// A blocking read until end of file: each read puts the thread to sleep until the OS has
// data for it (or end of file, or --timeout ms pass: EAGAIN).
std::string read_until_end(const Arguments& arguments, const FileDescriptor& socket,
                           std::int64_t& os_calls) {
    std::string received;
    char buffer[read_buffer_size];
    while (true) {
        const ssize_t count = read(socket.get(), buffer, sizeof buffer);
        ++os_calls;
        if (count > 0) {
            received.append(buffer, static_cast<std::size_t>(count));
        } else if (count == 0) {
            return received;  // End of file: the server sent everything and closed.
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            timed_out(arguments);     // SO_RCVTIMEO: nothing arrived for --timeout ms.
        } else if (errno != EINTR) {  // EINTR: a signal interrupted the read: try again.
            fail("read", errno);
        }
    }
}

// ----------------------------------------------------------------------------------------
// 1. Blocking, one request after another
// ----------------------------------------------------------------------------------------

// The simplest program: send a request, sleep in read until its answer is complete, then
// the next. While the thread sleeps, nothing else happens: the run takes the sum of the
// delays.
Answers one_after_another(const Arguments& arguments) {
    Answers answers;
    for (int index = 0; index < arguments.requests; ++index) {
        const FileDescriptor socket = connect_and_send(arguments, index);
        answers.received.push_back(read_until_end(arguments, socket, answers.os_calls));
    }
    return answers;
}

// ----------------------------------------------------------------------------------------
// 2. Blocking, one OS thread per request
// ----------------------------------------------------------------------------------------

// The same blocking reads, each on its own OS thread: the OS parks each thread until its
// answer comes, and the waits overlap. The run takes about the longest delay, at the price
// of a thread (a stack, a kernel task) per request waiting.
Answers thread_per_request(const Arguments& arguments) {
    Answers answers;
    answers.received.resize(arguments.requests);
    std::vector<std::int64_t> os_calls(arguments.requests, 0);  // one counter per thread
    std::vector<std::thread> threads;
    for (int index = 0; index < arguments.requests; ++index) {
        // std::thread reports a failed pthread_create as an exception carrying the OS's
        // error (EAGAIN: no more threads allowed): said like every other failed OS call.
        try {
            threads.emplace_back([&arguments, &answers, &os_calls, index] {
                const FileDescriptor socket = connect_and_send(arguments, index);
                answers.received[index] = read_until_end(arguments, socket, os_calls[index]);
            });
        } catch (const std::system_error& error) {
            std::fprintf(stderr, "%s: pthread_create: %s\n", program_name,
                         std::strerror(error.code().value()));
            std::exit(1);
        }
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    for (const std::int64_t calls : os_calls) {
        answers.os_calls += calls;
    }
    return answers;
}

// ----------------------------------------------------------------------------------------
// 3. Non-blocking sockets and a busy loop
// ----------------------------------------------------------------------------------------

// One thread, no sleeping: every socket is non-blocking, and the loop asks each one in
// turn, again and again, until all have answered. Most reads fail with EAGAIN: "not yet".
// The run takes about the longest delay, like the threads, and the thread never rests:
// a CPU core is kept busy all the time, doing nothing useful.
Answers busy_loop(const Arguments& arguments) {
    Answers answers;
    answers.received.resize(arguments.requests);
    std::vector<FileDescriptor> sockets;
    for (int index = 0; index < arguments.requests; ++index) {
        sockets.push_back(connect_and_send(arguments, index));
        make_non_blocking(sockets.back());
    }
    std::vector<bool> finished(arguments.requests, false);
    int finished_count = 0;
    Clock::time_point last_news = Clock::now();  // for --timeout
    char buffer[read_buffer_size];
    while (finished_count < arguments.requests) {
        for (int index = 0; index < arguments.requests; ++index) {
            if (finished[index]) {
                continue;
            }
            const ssize_t count = read(sockets[index].get(), buffer, sizeof buffer);
            ++answers.os_calls;
            if (count > 0) {
                answers.received[index].append(buffer, static_cast<std::size_t>(count));
                last_news = Clock::now();
            } else if (count == 0) {
                finished[index] = true;  // End of file: the server sent everything and closed.
                ++finished_count;
                last_news = Clock::now();
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                fail("read", errno);  // EAGAIN: not yet, ask the next one. EINTR: ask again.
            }
        }
        if (Clock::now() - last_news > std::chrono::milliseconds(arguments.timeout_ms)) {
            timed_out(arguments);
        }
    }
    return answers;
}

// ----------------------------------------------------------------------------------------
// 4. The OS's event queue (epoll)
// ----------------------------------------------------------------------------------------

// Events taken per epoll_wait: the five streams of a run fit; any more wait for the next.
constexpr int max_events_per_wait = 16;

// One thread, and the OS does the watching: every socket is registered with an epoll
// instance, and epoll_wait sleeps until the kernel reports sockets that can be read. The
// thread wakes only when there is something to read: the speed of the threads and the busy
// loop, the CPU time of doing nothing. ch03-epoll tells this way in full.
Answers event_queue(const Arguments& arguments) {
    Answers answers;
    answers.received.resize(arguments.requests);
    const FileDescriptor queue(epoll_create1(EPOLL_CLOEXEC));
    if (queue.get() < 0) {
        fail("epoll_create1", errno);
    }
    std::vector<FileDescriptor> sockets;
    for (int index = 0; index < arguments.requests; ++index) {
        sockets.push_back(connect_and_send(arguments, index));
        make_non_blocking(sockets.back());
        // struct epoll_event comes from <sys/epoll.h>: it is packed on x86-64 only.
        epoll_event interest = {};
        interest.events = EPOLLIN;  // level-triggered: reported while there is data to read
        interest.data.u64 = static_cast<std::uint64_t>(index);  // the token: which request
        if (epoll_ctl(queue.get(), EPOLL_CTL_ADD, sockets.back().get(), &interest) != 0) {
            fail("epoll_ctl", errno);
        }
    }
    int finished_count = 0;
    epoll_event events[max_events_per_wait];
    char buffer[read_buffer_size];
    while (finished_count < arguments.requests) {
        // Sleeps until at least one registered socket can be read, or --timeout ms pass.
        const int ready =
            epoll_wait(queue.get(), events, max_events_per_wait, arguments.timeout_ms);
        ++answers.os_calls;
        if (ready < 0 && errno == EINTR) {
            continue;  // A signal arrived while we slept: not an error, wait again.
        }
        if (ready < 0) {
            fail("epoll_wait", errno);
        }
        if (ready == 0) {
            timed_out(arguments);
        }
        for (int event = 0; event < ready; ++event) {
            const auto index = static_cast<int>(events[event].data.u64);
            const ssize_t count = read(sockets[index].get(), buffer, sizeof buffer);
            ++answers.os_calls;
            if (count > 0) {
                answers.received[index].append(buffer, static_cast<std::size_t>(count));
            } else if (count == 0) {
                // End of file. A socket at end of file stays readable: level-triggered
                // epoll would report it again at every wait, so it leaves the queue.
                if (epoll_ctl(queue.get(), EPOLL_CTL_DEL, sockets[index].get(), nullptr) != 0) {
                    fail("epoll_ctl", errno);
                }
                ++finished_count;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                fail("read", errno);  // EAGAIN: a spurious report; the next wait tells again.
            }
        }
    }
    return answers;
}

// ----------------------------------------------------------------------------------------
// The program: the four ways, one after another, each measured
// ----------------------------------------------------------------------------------------

// The processor time this process has used so far, in user and kernel mode, all its
// threads counted, also those that have ended (getrusage(2), RUSAGE_SELF).
std::chrono::microseconds cpu_time_used() {
    rusage usage = {};
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        fail("getrusage", errno);
    }
    using std::chrono::microseconds, std::chrono::seconds;
    return seconds(usage.ru_utime.tv_sec) + microseconds(usage.ru_utime.tv_usec) +
           seconds(usage.ru_stime.tv_sec) + microseconds(usage.ru_stime.tv_usec);
}

struct Way {
    const char* name;  // for the table
    const char* told;  // for the line printed while it runs
    int threads;       // threads that wait
    Answers (*wait)(const Arguments&);
};

int main(int argc, char** argv) {
    // The event-queue examples' command line, with a shorter default step and no --timeline;
    // each blocking wait gives up after --timeout of silence.
    const Arguments arguments = parse_arguments(
        argc, argv,
        {.default_step_ms = 100, .takes_timeline = false, .timeout_from_last_answer = true});
    const int n = arguments.requests;
    const Way ways[] = {
        {"blocking, one after another", "blocking, one request after another", 1,
         one_after_another},
        {"blocking, a thread per request", "blocking, one OS thread per request", n,
         thread_per_request},
        {"busy loop, non-blocking", "non-blocking sockets and a busy loop", 1, busy_loop},
        {"epoll", "epoll, the OS's event queue", 1, event_queue},
    };
    const double longest_s = n * arguments.step_ms / 1000.0;
    const double sum_s = n * (n + 1) / 2 * static_cast<double>(arguments.step_ms) / 1000.0;
    std::printf(
        "%d requests to %s, each on its own connection; request i is answered after\n"
        "(%d - i) * %d ms: the longest delay is %.2f s, all of them one after another %.2f s.\n"
        "The same requests, waited for four ways, one way after another:\n\n",
        n, arguments.address.c_str(), n, arguments.step_ms, longest_s, sum_s);

    std::vector<WayResult> results;
    int number = 1;
    for (const Way& way : ways) {
        std::printf("%d. %s (%d thread%s)\n", number++, way.told, way.threads,
                    way.threads == 1 ? "" : "s");
        std::fflush(stdout);
        const Clock::time_point wall_start = Clock::now();
        const std::chrono::microseconds cpu_start = cpu_time_used();
        const Answers answers = way.wait(arguments);
        WayResult result{way.name};
        result.cpu = cpu_time_used() - cpu_start;
        result.wall = Clock::now() - wall_start;
        result.threads = way.threads;
        result.os_calls = answers.os_calls;
        for (int index = 0; index < n; ++index) {
            if (is_right_answer(answers.received[index], index)) {
                ++result.right_answers;
            } else {
                std::fprintf(
                    stderr, "%s: %s: request %d got no complete 200 OK answer with body '%s'\n",
                    program_name, way.name, index, ("request-" + std::to_string(index)).c_str());
            }
        }
        std::printf("   done in %.2f s, %d of %d answers right\n",
                    std::chrono::duration<double>(result.wall).count(), result.right_answers, n);
        results.push_back(result);
    }
    print_table(results, arguments);
    for (const WayResult& result : results) {
        if (result.right_answers != n) {
            return 1;
        }
    }
    return 0;
}
