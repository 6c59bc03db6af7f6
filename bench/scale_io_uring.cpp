// bench/scale_io_uring.cpp: N delayed requests on one thread, with a raw io_uring loop.
//
// The way ch03-io-uring waits, scaled up, and the completion-based twin of scale_epoll.cpp:
// every step of every request is an operation submitted to one io_uring instance (liburing),
// and one thread sleeps in io_uring_enter until operations complete. As in scale_epoll.cpp
// the connect is asynchronous too, so the clients of the scale test do the same work and
// differ only in how they wait: each stream has one operation in flight at a time, connect,
// then send, then receive until end of file, and its index rides in user_data, the token.
//
// The completion model's cost shows in memory: a receive in flight owns its buffer, so each
// stream keeps one (receive_buffer_size) where scale_epoll.cpp reads every socket into one
// shared buffer when it is ready. Production code avoids it by giving the kernel a pool to
// pick from when data arrives (provided buffers, io_uring_setup_buf_ring(3), Linux 5.19).
//
// Platform: Linux 5.6 or later (connect, send and receive through io_uring), liburing.
//
// What to watch for: the wall time stays near the delay as N grows, as with epoll, and
// `Threads: 1` in /proc/PID/status while it waits (the kernel needs no helper thread for
// sockets: it arms a poll on each and completes the operation when the socket is ready).
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "scale_client.h"

using scale::Clock;

// The delay server's answer is about 150 bytes, and a short receive only means another one,
// so a small buffer serves; every stream has its own (see above).
constexpr std::size_t receive_buffer_size = 512;

// One connection and what it has received so far. The request and the buffer belong to the
// kernel while an operation on them is in flight: the stream list never moves (it is made
// at its full size before the first submission).
struct Stream {
    enum class Step { connecting, sending, receiving } step = Step::connecting;
    int socket = -1;
    std::string request;
    std::string received;
    char buffer[receive_buffer_size];
};

// The stream is done (answered or failed), with no operation in flight: close its socket
// and note the outcome.
void finish(Stream& stream, scale::Outcome& outcome, std::string failure) {
    scale::close_socket(stream.socket);
    outcome.finish(std::move(failure));
}

// A free slot of the submission ring. When all are taken (more streams than slots), the
// queued entries are handed to the kernel first, which frees them.
io_uring_sqe* next_entry(io_uring& ring) {
    io_uring_sqe* entry = io_uring_get_sqe(&ring);
    if (entry == nullptr) {
        const int submitted = io_uring_submit(&ring);
        if (submitted < 0) {
            scale::fail("io_uring_submit", -submitted);  // liburing returns -errno
        }
        entry = io_uring_get_sqe(&ring);
    }
    if (entry == nullptr) {
        std::fprintf(stderr, "%s: the submission ring stays full\n", measure::program_name);
        std::exit(1);
    }
    return entry;
}

void start_receive(io_uring& ring, Stream& stream, std::size_t token) {
    io_uring_sqe* entry = next_entry(ring);
    io_uring_prep_recv(entry, stream.socket, stream.buffer, sizeof stream.buffer, 0);
    io_uring_sqe_set_data64(entry, token);
}

// One operation of the stream has completed with `result` (what the system call would have
// returned, errors as -errno): take it, and submit the stream's next step.
void step(io_uring& ring, Stream& stream, scale::Outcome& outcome, std::size_t token, int result,
          int delay_ms) {
    const int index = static_cast<int>(token);
    switch (stream.step) {
        case Stream::Step::connecting: {
            if (result < 0) {
                finish(stream, outcome, scale::failure("connect", -result));
                return;
            }
            stream.request = scale::build_request(delay_ms, index);
            io_uring_sqe* entry = next_entry(ring);
            io_uring_prep_send(entry, stream.socket, stream.request.data(), stream.request.size(),
                               MSG_NOSIGNAL);
            io_uring_sqe_set_data64(entry, token);
            stream.step = Stream::Step::sending;
            return;
        }
        case Stream::Step::sending:
            if (result != static_cast<int>(stream.request.size())) {
                // A fresh connection takes about 80 bytes without a short write, as in
                // scale_epoll.cpp; if it ever did not, this says so.
                finish(stream, outcome,
                       result < 0 ? scale::failure("send", -result) : "short send");
                return;
            }
            outcome.sent_at = Clock::now();
            stream.step = Stream::Step::receiving;
            start_receive(ring, stream, token);
            return;
        case Stream::Step::receiving:
            if (result < 0 && result != -EINTR) {
                finish(stream, outcome, scale::failure("recv", -result));
                return;
            }
            if (result == 0) {  // End of file: the server sent everything and closed.
                finish(stream, outcome, scale::check_answer(stream.received, index));
                return;
            }
            if (result > 0) {  // Maybe fewer bytes than the answer: receive again.
                stream.received.append(stream.buffer, static_cast<std::size_t>(result));
            }
            start_receive(ring, stream, token);
            return;
    }
}

int main(int argc, char** argv) {
    const scale::Options options =
        scale::parse_options(argc, argv, "bench-scale-io-uring", "one thread on raw io_uring");
    std::vector<Stream> streams(static_cast<std::size_t>(options.requests));
    std::vector<scale::Outcome> outcomes(streams.size());

    // A submission ring of up to 4096 slots (queued entries beyond it are handed over in
    // batches, see next_entry) and a completion ring with room for every stream's one
    // operation in flight, so that completions never overflow it. CLAMP: the kernel caps
    // sizes above its limits instead of refusing them.
    const unsigned requests = static_cast<unsigned>(options.requests);
    io_uring_params parameters = {};
    parameters.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    parameters.cq_entries = requests;
    io_uring ring;
    const int initialized =
        io_uring_queue_init_params(std::min(requests, 4096u), &ring, &parameters);
    if (initialized < 0) {
        scale::fail("io_uring_queue_init_params", -initialized);
    }
    const Clock::time_point start = Clock::now();

    // 1. Start every connection without waiting for any: each is a connect submitted to the
    // ring. A socket the OS refuses (EMFILE: the open-file limit) fails its request, and the
    // others go on.
    std::size_t finished = 0;
    for (std::size_t index = 0; index < streams.size(); ++index) {
        Stream& stream = streams[index];
        stream.socket = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (stream.socket < 0) {
            outcomes[index].finish(scale::failure("socket", errno));
            ++finished;
            continue;
        }
        io_uring_sqe* entry = next_entry(ring);
        io_uring_prep_connect(entry, stream.socket,
                              reinterpret_cast<const sockaddr*>(&options.address),
                              sizeof options.address);
        io_uring_sqe_set_data64(entry, index);  // the token: which stream this is
    }

    // 2. The wait loop: one thread; each io_uring_enter hands over what was queued since the
    // last and waits for at least one completion.
    const Clock::time_point deadline = start + options.time_limit();
    io_uring_cqe* events[256];
    while (finished < streams.size()) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            break;  // The summary counts the streams left as "never finished".
        }
        __kernel_timespec timeout = {.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000};
        io_uring_cqe* first = nullptr;
        const int submitted = io_uring_submit_and_wait_timeout(&ring, &first, 1, &timeout, nullptr);
        if (submitted == -EINTR || submitted == -ETIME) {
            continue;  // A signal, or the time is up (the check above says so).
        }
        if (submitted < 0) {
            scale::fail("io_uring_submit_and_wait_timeout", -submitted);
        }
        // A return of 0 or more promises no completion: take what the ring holds, if anything.
        const unsigned ready = io_uring_peek_batch_cqe(&ring, events, std::size(events));
        for (unsigned event_index = 0; event_index < ready; ++event_index) {
            const std::uint64_t token = io_uring_cqe_get_data64(events[event_index]);
            if (token == LIBURING_UDATA_TIMEOUT) {
                continue;  // Before Linux 5.11, liburing times a wait with an entry of its own.
            }
            step(ring, streams[token], outcomes[token], token, events[event_index]->res,
                 options.delay_ms);
            finished += outcomes[token].finished ? 1 : 0;
        }
        io_uring_cq_advance(&ring, ready);
    }

    const int status = scale::print_summary(options, outcomes, start);
    // The ring goes first: closing it cancels what is still in flight (after a timeout),
    // before the sockets close and the buffers go.
    io_uring_queue_exit(&ring);
    for (Stream& stream : streams) {
        scale::close_socket(stream.socket);
    }
    return status;
}
